//! The OpenAI Realtime API over WebSocket (also Azure OpenAI's): JSON
//! events each way. What the client set up (`session.update`: instructions,
//! tools) and said (`conversation.item.create`, transcribed audio), what
//! each response said (`response.output_text.delta`, the beta
//! `response.text.delta`, audio transcripts), and the usage every
//! `response.done` reports, summed over the session.

use serde_json::Value;

use super::Parsed;
use super::model::{
    ApiError, Message, Note, NoteKind, Part, Reply, ToolCall, ToolDef, ToolResult, Usage,
};
use super::value::{str_at, u64_at};
use crate::exchange::{Direction, Exchange};

/// True for a Realtime session: a WebSocket at a `/realtime` path, or one
/// whose server opened with `session.created`.
pub(crate) fn looks_like(ex: &Exchange) -> bool {
    if !ex.is_websocket() {
        return false;
    }
    let path = ex.request.path.split('?').next().unwrap_or("");
    path.ends_with("/realtime") || first_event_type(ex).as_deref() == Some("session.created")
}

fn first_event_type(ex: &Exchange) -> Option<String> {
    let ws = ex.websocket.as_deref()?;
    let first = ws
        .messages
        .iter()
        .find(|m| m.direction == Direction::Receive)?;
    let v: Value = serde_json::from_str(first.text()?).ok()?;
    str_at(&v, "type").map(str::to_string)
}

/// One response as its events built it.
#[derive(Debug, Default)]
struct Response {
    id: Option<String>,
    text: String,
    calls: Vec<ToolCall>,
    status: Option<String>,
    error: Option<ApiError>,
}

/// The state the events build up.
#[derive(Debug, Default)]
struct Session {
    out: Parsed,
    responses: Vec<Response>,
    malformed: usize,
}

/// Decode every recorded event of a Realtime session.
pub(crate) fn parse(ex: &Exchange) -> Parsed {
    let mut s = Session::default();
    s.out.model = query_param(&ex.request.path, "model")
        .or_else(|| query_param(&ex.request.path, "deployment"));
    let Some(ws) = ex.websocket.as_deref() else {
        return s.out;
    };
    for m in &ws.messages {
        let Some(text) = m.text() else { continue };
        match serde_json::from_str::<Value>(text) {
            Ok(event) => match m.direction {
                Direction::Send => s.client_event(&event),
                Direction::Receive => s.server_event(&event),
            },
            Err(_) if m.truncated => {}
            Err(_) => s.malformed += 1,
        }
    }
    s.finish(
        ws.messages.iter().any(|m| m.truncated),
        ws.unlisted_sent + ws.unlisted_received,
    )
}

impl Session {
    fn client_event(&mut self, e: &Value) {
        match str_at(e, "type").unwrap_or("") {
            "session.update" => self.session(e.get("session")),
            "conversation.item.create" => {
                self.settle();
                self.item(e.get("item"));
            }
            _ => {}
        }
    }

    fn server_event(&mut self, e: &Value) {
        match str_at(e, "type").unwrap_or("") {
            "session.created" | "session.updated" => {
                if let Some(m) = e.pointer("/session/model").and_then(Value::as_str) {
                    self.out.model = Some(m.to_string());
                }
                if self.out.request.system.is_none() {
                    self.session(e.get("session"));
                }
            }
            "response.created" => {
                // An earlier answer is now part of the conversation.
                self.settle();
                self.responses.push(Response {
                    id: e
                        .pointer("/response/id")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    ..Response::default()
                });
            }
            "response.text.delta"
            | "response.output_text.delta"
            | "response.audio_transcript.delta"
            | "response.output_audio_transcript.delta" => {
                let delta = str_at(e, "delta").unwrap_or("");
                self.current().text.push_str(delta);
            }
            "response.function_call_arguments.done" => self.call(e),
            "response.done" => self.done(e.get("response")),
            "conversation.item.input_audio_transcription.completed" => {
                let said = str_at(e, "transcript").unwrap_or("").trim().to_string();
                let part = Part::Text { text: said };
                self.out
                    .request
                    .messages
                    .push(Message::new("user", vec![part]));
            }
            "error" => self.current().error = Some(error_of(e)),
            _ => {}
        }
    }

    /// The response events belong to: the last one created.
    fn current(&mut self) -> &mut Response {
        if self.responses.is_empty() {
            self.responses.push(Response::default());
        }
        let last = self.responses.len() - 1;
        &mut self.responses[last]
    }

    fn session(&mut self, session: Option<&Value>) {
        let Some(s) = session else { return };
        if let Some(i) = str_at(s, "instructions").filter(|i| !i.is_empty()) {
            self.out.request.system = Some(i.to_string());
        }
        if let Some(Value::Array(tools)) = s.get("tools") {
            self.out.request.tools = tools.iter().filter_map(tool_def).collect();
        }
        if let Some(t) = s.get("temperature").and_then(Value::as_f64) {
            self.out.request.params.temperature = Some(t);
        }
        self.out.request.params.stream = Some(true);
    }

    /// A conversation item the client added: a user message or a tool's output.
    fn item(&mut self, item: Option<&Value>) {
        let Some(item) = item else { return };
        match str_at(item, "type").unwrap_or("message") {
            "function_call_output" => {
                let result = ToolResult {
                    id: str_at(item, "call_id").unwrap_or("").to_string(),
                    name: None,
                    content: str_at(item, "output").unwrap_or("").to_string(),
                    is_error: false,
                };
                let msg = Message::new("tool", vec![Part::ToolResult(result)]);
                self.out.request.messages.push(msg);
            }
            _ => {
                let role = str_at(item, "role").unwrap_or("user").to_string();
                let parts = content_parts(item.get("content"));
                self.out.request.messages.push(Message::new(role, parts));
            }
        }
    }

    fn call(&mut self, e: &Value) {
        let args = str_at(e, "arguments").unwrap_or("");
        let call = ToolCall {
            id: str_at(e, "call_id").unwrap_or("").to_string(),
            name: str_at(e, "name").unwrap_or("").to_string(),
            arguments: serde_json::from_str(args).unwrap_or(Value::String(args.into())),
        };
        self.current().calls.push(call);
    }

    fn done(&mut self, response: Option<&Value>) {
        let Some(r) = response else { return };
        let status = str_at(r, "status").map(str::to_string);
        let current = self.current();
        current.status = status;
        if current.id.is_none() {
            current.id = str_at(r, "id").map(str::to_string);
        }
        if let Some(u) = r.get("usage") {
            let total = self.out.usage.get_or_insert_with(Usage::default);
            total.input_tokens += u64_at(u, "input_tokens").unwrap_or(0);
            total.output_tokens += u64_at(u, "output_tokens").unwrap_or(0);
            total.cache_read_tokens += u
                .pointer("/input_token_details/cached_tokens")
                .and_then(Value::as_u64)
                .unwrap_or(0);
        }
    }

    /// Move the responses so far into the conversation, as the assistant.
    fn settle(&mut self) {
        for r in self.responses.drain(..) {
            let parts = parts_of(r.text, r.calls);
            self.out
                .request
                .messages
                .push(Message::new("assistant", parts));
        }
    }

    /// The last response is the reply.
    fn finish(mut self, cut: bool, unlisted: u64) -> Parsed {
        let last = self.responses.pop();
        self.settle();
        self.out.reply = last.map(|r| Reply {
            id: r.id,
            parts: parts_of(r.text, r.calls),
            stop_reason: r.status,
            error: r.error,
        });
        if cut || unlisted > 0 {
            let note = "some WebSocket messages were not kept whole (capture cap): \
                        the text and usage may be incomplete";
            self.out.notes.push(Note::new(NoteKind::Truncated, note));
        }
        if self.malformed > 0 {
            let note = format!("{} text messages were not JSON events", self.malformed);
            self.out.notes.push(Note::new(NoteKind::Malformed, note));
        }
        self.out
    }
}

fn parts_of(text: String, calls: Vec<ToolCall>) -> Vec<Part> {
    let mut parts = Vec::new();
    if !text.is_empty() {
        parts.push(Part::Text { text });
    }
    parts.extend(calls.into_iter().map(Part::ToolCall));
    parts
}

/// `input_text`/`text` parts as text, audio by its transcript when given.
fn content_parts(content: Option<&Value>) -> Vec<Part> {
    let Some(Value::Array(items)) = content else {
        return Vec::new();
    };
    items
        .iter()
        .map(
            |c| match str_at(c, "text").or_else(|| str_at(c, "transcript")) {
                Some(text) => Part::Text { text: text.into() },
                None => Part::Other {
                    kind: str_at(c, "type").unwrap_or("content").to_string(),
                },
            },
        )
        .collect()
}

fn tool_def(t: &Value) -> Option<ToolDef> {
    Some(ToolDef {
        name: str_at(t, "name")?.to_string(),
        description: str_at(t, "description").map(str::to_string),
        schema: t.get("parameters").cloned(),
        kind: None,
    })
}

fn error_of(e: &Value) -> ApiError {
    let err = e.get("error");
    ApiError {
        status: None,
        kind: err
            .and_then(|x| str_at(x, "code").or_else(|| str_at(x, "type")))
            .map(str::to_string),
        message: err
            .and_then(|x| str_at(x, "message"))
            .unwrap_or("error event")
            .to_string(),
        mid_stream: true,
    }
}

fn query_param(path: &str, key: &str) -> Option<String> {
    let query = path.split_once('?')?.1;
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
}
