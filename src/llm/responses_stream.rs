//! OpenAI Responses SSE stream: typed events (`response.created`,
//! `response.output_item.added`, `response.output_text.delta`,
//! `response.function_call_arguments.delta`,
//! `response.reasoning_summary_text.delta`, …) ending in
//! `response.completed`, `response.incomplete` or `response.failed`, which
//! carry the whole response; an `error` event may come instead. The reply
//! is taken from the final response when there is one, else rebuilt from
//! the deltas so a cut stream still shows what arrived.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::Parsed;
use super::body::{error_in, sse_json};
use super::model::{ApiError, Note, NoteKind, Part, Reply};
use super::openai_responses::apply_response;
use super::responses_items::output_parts;
use super::timeline::StreamEvent;
use super::value::{quoted, str_at, string_at, tool_call, u64_at};

/// An output item being reassembled, by `output_index`.
#[derive(Debug)]
enum Item {
    Text(String),
    Call {
        id: String,
        name: String,
        args: String,
    },
    Reasoning(String),
    /// `response.output_item.done` delivered the finished item.
    Done(Value),
}

#[derive(Debug, Default)]
struct Acc {
    items: BTreeMap<u64, Item>,
    final_response: Option<Value>,
    error: Option<ApiError>,
    id: Option<String>,
    model: Option<String>,
    unknown: BTreeSet<String>,
}

pub(super) fn decode(body: &[u8], out: &mut Parsed) {
    let mut acc = Acc::default();
    for (event, data) in sse_json(body, &mut out.notes) {
        let kind = str_at(&data, "type").unwrap_or(&event.event).to_string();
        let (summary, token) = apply(&mut acc, &kind, &data);
        let e = StreamEvent::new(event.offset, event.end, kind, summary);
        out.events.push(if token { e.token() } else { e });
    }
    finish(acc, out);
}

fn apply(acc: &mut Acc, kind: &str, data: &Value) -> (String, bool) {
    let index = u64_at(data, "output_index").unwrap_or(0);
    let delta = str_at(data, "delta").unwrap_or_default();
    match kind {
        "response.created" | "response.in_progress" | "response.queued" => {
            (started(acc, data), false)
        }
        "response.output_item.added" => (item_added(acc, index, data), false),
        "response.output_item.done" => {
            let item = data.get("item").cloned().unwrap_or(Value::Null);
            acc.items.insert(index, Item::Done(item));
            (format!("item {index} done"), false)
        }
        "response.output_text.delta" | "response.refusal.delta" => {
            (append(acc, index, delta, "text"), true)
        }
        "response.function_call_arguments.delta" | "response.custom_tool_call_input.delta" => {
            (append(acc, index, delta, "args"), true)
        }
        "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
            (append(acc, index, delta, "reasoning"), true)
        }
        "response.completed" | "response.incomplete" | "response.failed" => {
            (terminal(acc, data), false)
        }
        "error" => (stream_error(acc, data), false),
        k if k.ends_with(".done") || k.ends_with(".added") => (k.to_string(), false),
        other => match item_progress(other, index) {
            Some(summary) => (summary, false),
            None => {
                acc.unknown.insert(other.to_string());
                ("(not decoded)".to_string(), false)
            }
        },
    }
}

fn started(acc: &mut Acc, data: &Value) -> String {
    let response = data.get("response").unwrap_or(&Value::Null);
    acc.id = string_at(response, "id").or(acc.id.take());
    acc.model = string_at(response, "model").or(acc.model.take());
    let status = str_at(response, "status").unwrap_or("?");
    format!("{status} · {}", acc.model.as_deref().unwrap_or("model ?"))
}

fn item_added(acc: &mut Acc, index: u64, data: &Value) -> String {
    let item = data.get("item").unwrap_or(&Value::Null);
    let kind = str_at(item, "type").unwrap_or_default();
    let new = match kind {
        "message" => Item::Text(String::new()),
        "reasoning" => Item::Reasoning(String::new()),
        "function_call" | "custom_tool_call" => Item::Call {
            id: string_at(item, "call_id").unwrap_or_default(),
            name: string_at(item, "name").unwrap_or_default(),
            args: string_at(item, "arguments").unwrap_or_default(),
        },
        _ => Item::Done(item.clone()),
    };
    let name = str_at(item, "name")
        .map(|n| format!(" {n}"))
        .unwrap_or_default();
    acc.items.insert(index, new);
    format!("item {index}: {kind}{name}")
}

fn append(acc: &mut Acc, index: u64, delta: &str, label: &str) -> String {
    match acc.items.get_mut(&index) {
        Some(Item::Text(s)) | Some(Item::Reasoning(s)) | Some(Item::Call { args: s, .. }) => {
            s.push_str(delta)
        }
        Some(Item::Done(_)) | None => {}
    }
    format!("{label} {}", quoted(delta))
}

fn terminal(acc: &mut Acc, data: &Value) -> String {
    let response = data.get("response").cloned().unwrap_or(Value::Null);
    let status = str_at(&response, "status").unwrap_or("?").to_string();
    let tokens = response
        .get("usage")
        .map(super::openai_chat::usage)
        .map(|u| format!(" · usage {} in / {} out", u.input_tokens, u.output_tokens))
        .unwrap_or_default();
    acc.final_response = Some(response);
    format!("{status}{tokens}")
}

fn stream_error(acc: &mut Acc, data: &Value) -> String {
    let err = error_in(data).unwrap_or_else(|| ApiError {
        status: None,
        kind: string_at(data, "code"),
        message: string_at(data, "message").unwrap_or_default(),
        mid_stream: true,
    });
    let summary = format!(
        "{}: {}",
        err.kind.as_deref().unwrap_or("error"),
        err.message
    );
    acc.error = Some(ApiError {
        mid_stream: true,
        ..err
    });
    summary
}

fn finish(mut acc: Acc, out: &mut Parsed) {
    let rebuilt = rebuild(std::mem::take(&mut acc.items), &mut out.notes);
    match acc.final_response.take() {
        Some(response) => {
            apply_response(&response, out);
            if let Some(reply) = out.reply.as_mut() {
                if reply.parts.is_empty() {
                    reply.parts = rebuilt;
                }
                if let Some(err) = reply.error.as_mut() {
                    err.mid_stream = true;
                }
            }
        }
        None => {
            if acc.error.is_none() {
                let note = "stream ended before response.completed: the reply may be partial";
                out.notes.push(Note::new(NoteKind::Incomplete, note));
            }
            out.model = acc.model.take().or(out.model.take());
            out.reply = Some(Reply {
                id: acc.id.take(),
                parts: rebuilt,
                ..Reply::default()
            });
        }
    }
    if let (Some(err), Some(reply)) = (acc.error, out.reply.as_mut()) {
        reply.error = Some(err);
    }
    for kind in &acc.unknown {
        let note = format!("event type {kind} not decoded");
        out.notes.push(Note::new(NoteKind::Unknown, note));
    }
}

fn rebuild(items: BTreeMap<u64, Item>, notes: &mut Vec<Note>) -> Vec<Part> {
    items
        .into_values()
        .flat_map(|item| match item {
            Item::Text(text) => vec![Part::Text { text }],
            Item::Reasoning(text) => vec![Part::Thinking {
                text,
                redacted: false,
            }],
            Item::Done(v) => output_parts(&v),
            Item::Call { id, name, args } => {
                let (call, ok) = tool_call(id, name, &args);
                if !ok {
                    let note = format!("tool {} arguments are not valid JSON", call.name);
                    notes.push(Note::new(NoteKind::Incomplete, note));
                }
                vec![Part::ToolCall(call)]
            }
        })
        .collect()
}

/// Progress of an item OpenAI works on itself
/// (`response.web_search_call.searching`,
/// `response.code_interpreter_call_code.delta`,
/// `response.mcp_list_tools.completed`, …): named, not decoded further.
fn item_progress(kind: &str, index: u64) -> Option<String> {
    let rest = kind.strip_prefix("response.")?;
    let (item, state) = rest.split_once('.')?;
    let known = item.ends_with("_call")
        || item.contains("_call_")
        || item.starts_with("mcp_")
        || item.starts_with("audio")
        || item == "output_text";
    known.then(|| format!("item {index}: {item} {state}"))
}
