//! Ollama's native API: `POST /api/chat` (messages) and `/api/generate`
//! (a prompt). Replies stream by default as NDJSON, one object per line,
//! the last with `done: true`, `done_reason` and the counts
//! `prompt_eval_count` (input) and `eval_count` (output). Reasoning models
//! send `thinking` beside `content`; tool calls come whole, with their
//! arguments as a JSON object. A failure is `{"error": "…"}`.

use serde_json::Value;

use super::Parsed;
use super::body::{Format, Resp, error_in, ndjson_json};
use super::model::{
    ApiError, Conversation, Message, Note, NoteKind, Params, Part, Reply, ToolCall, ToolDef,
    ToolResult, Usage,
};
use super::timeline::StreamEvent;
use super::value::{array_at, base64_len, bool_at, f64_at, quoted, str_at, string_at, u64_at};

pub(super) fn request(v: &Value, path: &str) -> Conversation {
    let options = v.get("options").unwrap_or(&Value::Null);
    let mut messages: Vec<Message> = array_at(v, "messages").iter().map(message).collect();
    if path.ends_with("/api/generate") {
        let mut parts = vec![Part::Text {
            text: string_at(v, "prompt").unwrap_or_default(),
        }];
        parts.extend(images(v));
        messages.push(Message::new("user", parts));
    }
    let (system, messages) = super::openai_chat::split_system(messages);
    Conversation {
        system: string_at(v, "system").or(system),
        messages,
        tools: array_at(v, "tools").iter().map(tool).collect(),
        params: Params {
            max_tokens: u64_at(options, "num_predict"),
            temperature: f64_at(options, "temperature"),
            top_p: f64_at(options, "top_p"),
            // Ollama streams unless told not to.
            stream: Some(bool_at(v, "stream").unwrap_or(true)),
            reasoning: v.get("think").and_then(think),
        },
        hints: Default::default(),
    }
}

fn think(t: &Value) -> Option<String> {
    match t {
        Value::Bool(true) => Some("think".to_string()),
        Value::String(level) => Some(format!("think {level}")),
        _ => None,
    }
}

fn images(v: &Value) -> impl Iterator<Item = Part> + '_ {
    array_at(v, "images").iter().map(|img| Part::Image {
        media_type: None,
        bytes: img.as_str().map(base64_len),
        url: None,
    })
}

fn message(m: &Value) -> Message {
    let role = str_at(m, "role").unwrap_or("user");
    if role == "tool" {
        let name = string_at(m, "tool_name").or_else(|| string_at(m, "name"));
        let result = ToolResult {
            id: string_at(m, "tool_call_id")
                .or(name.clone())
                .unwrap_or_default(),
            name,
            content: string_at(m, "content").unwrap_or_default(),
            is_error: false,
        };
        return Message::new("tool", vec![Part::ToolResult(result)]);
    }
    Message::new(role, message_parts(m))
}

/// Thinking, text, images and tool calls of a message (or a reply line).
fn message_parts(m: &Value) -> Vec<Part> {
    let mut parts = Vec::new();
    if let Some(text) = str_at(m, "thinking").filter(|t| !t.is_empty()) {
        parts.push(Part::Thinking {
            text: text.to_string(),
            redacted: false,
        });
    }
    if let Some(text) = str_at(m, "content").filter(|t| !t.is_empty()) {
        parts.push(Part::Text {
            text: text.to_string(),
        });
    }
    parts.extend(images(m));
    parts.extend(
        array_at(m, "tool_calls")
            .iter()
            .map(|c| Part::ToolCall(call(c))),
    );
    parts
}

fn call(c: &Value) -> ToolCall {
    let function = c.get("function").unwrap_or(&Value::Null);
    let name = string_at(function, "name").unwrap_or_default();
    ToolCall {
        id: string_at(c, "id").unwrap_or_else(|| name.clone()),
        name,
        arguments: function.get("arguments").cloned().unwrap_or(Value::Null),
    }
}

fn tool(t: &Value) -> ToolDef {
    let f = t.get("function").unwrap_or(t);
    ToolDef {
        name: string_at(f, "name").unwrap_or_default(),
        description: string_at(f, "description"),
        schema: f.get("parameters").cloned(),
        kind: None,
    }
}

#[derive(Debug, Default)]
struct Acc {
    reply: Reply,
    text: String,
    thinking: String,
    calls: Vec<ToolCall>,
    done: bool,
}

pub(super) fn reply(resp: &Resp, out: &mut Parsed) {
    let mut acc = Acc::default();
    match resp.format() {
        Format::Ndjson => {
            for (line, v) in ndjson_json(&resp.body, &mut out.notes) {
                let (kind, summary, token) = line_event(&mut acc, &v, out);
                let e = StreamEvent::new(line.offset, line.end, kind, summary);
                out.events.push(if token { e.token() } else { e });
            }
            if !acc.done && acc.reply.error.is_none() {
                let note = "stream ended before the done line: the reply may be partial";
                out.notes.push(Note::new(NoteKind::Incomplete, note));
            }
        }
        Format::Json | Format::JsonArray | Format::Sse => {
            match serde_json::from_slice(&resp.body) {
                Ok(v) => {
                    line_event(&mut acc, &v, out);
                }
                Err(e) => {
                    let note = format!("response: invalid JSON ({e})");
                    out.notes.push(Note::new(NoteKind::Malformed, note));
                }
            }
        }
        Format::Empty => return,
    }
    finish(acc, out);
}

/// Apply one reply object; returns (kind, summary, carried output).
fn line_event(acc: &mut Acc, v: &Value, out: &mut Parsed) -> (&'static str, String, bool) {
    if let Some(err) = error_in(v) {
        let summary = format!("error: {}", err.message);
        acc.reply.error = Some(ApiError {
            mid_stream: true,
            ..err
        });
        return ("error", summary, false);
    }
    if let Some(model) = string_at(v, "model") {
        out.model = Some(model);
    }
    let mut said = Vec::new();
    let m = v.get("message").unwrap_or(v);
    let thinking = str_at(m, "thinking").unwrap_or_default();
    let text = str_at(m, "content")
        .or_else(|| str_at(v, "response"))
        .unwrap_or_default();
    acc.thinking.push_str(thinking);
    acc.text.push_str(text);
    if !thinking.is_empty() {
        said.push(format!("thinking {}", quoted(thinking)));
    }
    if !text.is_empty() {
        said.push(format!("text {}", quoted(text)));
    }
    for c in array_at(m, "tool_calls") {
        let call = call(c);
        said.push(format!("tool_call {}", call.name));
        acc.calls.push(call);
    }
    let token = !said.is_empty();
    if bool_at(v, "done") == Some(true) {
        done(acc, v, out, &mut said);
        return ("done", said.join(" · "), token);
    }
    let summary = if said.is_empty() {
        "(empty)".to_string()
    } else {
        said.join(" · ")
    };
    ("chunk", summary, token)
}

fn done(acc: &mut Acc, v: &Value, out: &mut Parsed, said: &mut Vec<String>) {
    acc.done = true;
    acc.reply.stop_reason = string_at(v, "done_reason");
    let usage = Usage {
        input_tokens: u64_at(v, "prompt_eval_count").unwrap_or(0),
        output_tokens: u64_at(v, "eval_count").unwrap_or(0),
        ..Usage::default()
    };
    said.push(format!(
        "done {} · {} in / {} out",
        acc.reply.stop_reason.as_deref().unwrap_or("?"),
        usage.input_tokens,
        usage.output_tokens
    ));
    out.usage = Some(usage);
}

fn finish(mut acc: Acc, out: &mut Parsed) {
    if !acc.thinking.is_empty() {
        acc.reply.parts.push(Part::Thinking {
            text: acc.thinking,
            redacted: false,
        });
    }
    if !acc.text.is_empty() {
        acc.reply.parts.push(Part::Text { text: acc.text });
    }
    acc.reply
        .parts
        .extend(acc.calls.into_iter().map(Part::ToolCall));
    out.reply = Some(acc.reply);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn generate_request_becomes_one_user_turn() {
        let c = request(
            &json!({"model": "llama3.2", "prompt": "Why is the sky blue?", "system": "Short.", "images": ["aGVsbG8="]}),
            "/api/generate",
        );
        assert_eq!(c.system.as_deref(), Some("Short."));
        assert_eq!(c.messages.len(), 1);
        assert_eq!(c.messages[0].parts.len(), 2);
        assert_eq!(c.params.stream, Some(true), "Ollama streams by default");
    }

    #[test]
    fn chat_tool_turns() {
        let c = request(
            &json!({"model": "qwen3", "stream": false, "think": true, "messages": [
                {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "w", "arguments": {"city": "Oslo"}}}]},
                {"role": "tool", "tool_name": "w", "content": "-3C"}
            ]}),
            "/api/chat",
        );
        assert!(
            matches!(&c.messages[0].parts[0], Part::ToolCall(t) if t.arguments == json!({"city": "Oslo"}))
        );
        assert!(matches!(&c.messages[1].parts[0], Part::ToolResult(r) if r.id == "w"));
        assert_eq!(c.params.reasoning.as_deref(), Some("think"));
    }
}
