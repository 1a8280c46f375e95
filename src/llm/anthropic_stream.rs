//! Anthropic Messages SSE stream: `message_start`, then per content block
//! `content_block_start` / `content_block_delta`s / `content_block_stop`,
//! then `message_delta` (stop reason, cumulative usage) and `message_stop`;
//! `ping` at any time and `error` (e.g. `overloaded_error`) possibly
//! half-way. The reply is rebuilt from the deltas, so a stream cut short
//! still shows what arrived.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::Parsed;
use super::anthropic::{part, usage};
use super::body::{error_in, sse_json};
use super::model::{Note, NoteKind, Part, Reply};
use super::timeline::StreamEvent;
use super::value::{quoted, str_at, string_at, tool_call, u64_at};

/// A content block being reassembled.
#[derive(Debug)]
enum Block {
    Text(String),
    Thinking(String),
    Tool {
        id: String,
        name: String,
        json: String,
        start_input: Value,
    },
    /// Arrived whole in `content_block_start` (redacted thinking, results).
    Whole(Part),
}

#[derive(Debug, Default)]
struct Acc {
    reply: Reply,
    model: Option<String>,
    blocks: BTreeMap<u64, Block>,
    usage: Map<String, Value>,
    stopped: bool,
    unknown: BTreeSet<String>,
}

/// Decode an SSE body into the reply, usage and timeline events.
pub(super) fn decode(body: &[u8], out: &mut Parsed) {
    let events = sse_json(body, &mut out.notes)
        .into_iter()
        .map(|(e, data)| (e.offset, e.end, e.event, data))
        .collect();
    decode_events(events, out);
}

/// Decode stream events already taken out of their framing (SSE, or
/// Bedrock's event-stream): `(offset, end, framing's event name, data)`.
pub(super) fn decode_events(events: Vec<(u64, u64, String, Value)>, out: &mut Parsed) {
    let mut acc = Acc::default();
    for (offset, end, name, data) in events {
        let kind = str_at(&data, "type").unwrap_or(&name).to_string();
        let (summary, token) = apply(&mut acc, &kind, &data);
        let e = StreamEvent::new(offset, end, kind, summary);
        out.events.push(if token { e.token() } else { e });
    }
    finish(acc, out);
}

/// Apply one event; returns its summary and whether it carried output.
fn apply(acc: &mut Acc, kind: &str, data: &Value) -> (String, bool) {
    match kind {
        "message_start" => (message_start(acc, data), false),
        "content_block_start" => (block_start(acc, data), false),
        "content_block_delta" => block_delta(acc, data),
        "content_block_stop" => (format!("block {} done", index(data)), false),
        "message_delta" => (message_delta(acc, data), false),
        "message_stop" => {
            acc.stopped = true;
            ("done".to_string(), false)
        }
        "ping" => ("ping".to_string(), false),
        "error" => (stream_error(acc, data), false),
        other => {
            acc.unknown.insert(other.to_string());
            ("(not decoded)".to_string(), false)
        }
    }
}

fn index(data: &Value) -> u64 {
    u64_at(data, "index").unwrap_or(0)
}

fn merge_usage(acc: &mut Acc, u: Option<&Value>) {
    let Some(Value::Object(fields)) = u else {
        return;
    };
    for (k, v) in fields {
        if !v.is_null() {
            acc.usage.insert(k.clone(), v.clone());
        }
    }
}

fn message_start(acc: &mut Acc, data: &Value) -> String {
    let message = data.get("message").unwrap_or(&Value::Null);
    acc.reply.id = string_at(message, "id");
    acc.model = string_at(message, "model");
    merge_usage(acc, message.get("usage"));
    let input = usage(&Value::Object(acc.usage.clone())).input_tokens;
    format!(
        "{} · {input} input tokens",
        acc.model.as_deref().unwrap_or("model ?")
    )
}

fn block_start(acc: &mut Acc, data: &Value) -> String {
    let i = index(data);
    let block = data.get("content_block").unwrap_or(&Value::Null);
    let kind = str_at(block, "type").unwrap_or_default();
    let new = match kind {
        "text" => Block::Text(string_at(block, "text").unwrap_or_default()),
        "thinking" => Block::Thinking(string_at(block, "thinking").unwrap_or_default()),
        "tool_use" | "server_tool_use" | "mcp_tool_use" => Block::Tool {
            id: string_at(block, "id").unwrap_or_default(),
            name: string_at(block, "name").unwrap_or_default(),
            json: String::new(),
            start_input: block.get("input").cloned().unwrap_or(Value::Null),
        },
        _ => Block::Whole(part(block)),
    };
    let summary = match &new {
        Block::Tool { name, id, .. } => format!("block {i}: {kind} {name} ({id})"),
        _ => format!("block {i}: {kind}"),
    };
    acc.blocks.insert(i, new);
    summary
}

fn block_delta(acc: &mut Acc, data: &Value) -> (String, bool) {
    let delta = data.get("delta").unwrap_or(&Value::Null);
    let kind = str_at(delta, "type").unwrap_or_default();
    let block = acc.blocks.get_mut(&index(data));
    match (kind, block) {
        ("text_delta", Some(Block::Text(text))) => append(text, delta, "text", "text"),
        ("thinking_delta", Some(Block::Thinking(text))) => {
            append(text, delta, "thinking", "thinking")
        }
        ("input_json_delta", Some(Block::Tool { json, .. })) => {
            append(json, delta, "partial_json", "args")
        }
        ("signature_delta", _) => ("signature".to_string(), false),
        (kind, _) => (format!("{kind} (not decoded)"), false),
    }
}

fn append(into: &mut String, delta: &Value, field: &str, label: &str) -> (String, bool) {
    let piece = str_at(delta, field).unwrap_or_default();
    into.push_str(piece);
    (format!("{label} {}", quoted(piece)), true)
}

fn message_delta(acc: &mut Acc, data: &Value) -> String {
    let delta = data.get("delta").unwrap_or(&Value::Null);
    if let Some(reason) = string_at(delta, "stop_reason") {
        acc.reply.stop_reason = Some(reason);
    }
    merge_usage(acc, data.get("usage"));
    let output = u64_at(&Value::Object(acc.usage.clone()), "output_tokens").unwrap_or(0);
    format!(
        "stop {} · {output} output tokens",
        acc.reply.stop_reason.as_deref().unwrap_or("?")
    )
}

fn stream_error(acc: &mut Acc, data: &Value) -> String {
    let mut err = error_in(data).unwrap_or_else(|| super::model::ApiError {
        status: None,
        kind: None,
        message: data.to_string(),
        mid_stream: true,
    });
    err.mid_stream = true;
    let summary = format!(
        "{}: {}",
        err.kind.as_deref().unwrap_or("error"),
        err.message
    );
    acc.reply.error = Some(err);
    summary
}

fn finish(mut acc: Acc, out: &mut Parsed) {
    for (i, block) in std::mem::take(&mut acc.blocks) {
        let part = block_part(block, i, &mut out.notes);
        acc.reply.parts.push(part);
    }
    if !acc.stopped && acc.reply.error.is_none() {
        out.notes.push(Note::new(
            NoteKind::Incomplete,
            "stream ended before message_stop: the reply may be partial",
        ));
    }
    for kind in &acc.unknown {
        out.notes.push(Note::new(
            NoteKind::Unknown,
            format!("event type {kind} not decoded"),
        ));
    }
    if !acc.usage.is_empty() {
        out.usage = Some(usage(&Value::Object(acc.usage)));
    }
    if acc.model.is_some() {
        out.model = acc.model;
    }
    out.reply = Some(acc.reply);
}

fn block_part(block: Block, i: u64, notes: &mut Vec<Note>) -> Part {
    match block {
        Block::Text(text) => Part::Text { text },
        Block::Thinking(text) => Part::Thinking {
            text,
            redacted: false,
        },
        Block::Whole(part) => part,
        Block::Tool {
            id,
            name,
            json,
            start_input,
        } if json.is_empty() => Part::ToolCall(super::model::ToolCall {
            id,
            name,
            arguments: start_input,
        }),
        Block::Tool { id, name, json, .. } => {
            let (call, ok) = tool_call(id, name, &json);
            if !ok {
                notes.push(Note::new(
                    NoteKind::Incomplete,
                    format!("block {i}: tool {} arguments are not valid JSON", call.name),
                ));
            }
            Part::ToolCall(call)
        }
    }
}
