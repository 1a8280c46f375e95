//! Bedrock `ConverseStream`: event-stream messages named by their
//! `:event-type` — `messageStart`, per content block `contentBlockStart`
//! (tool uses only), `contentBlockDelta`s (`text`, `toolUse.input` JSON
//! pieces, `reasoningContent`) and `contentBlockStop`, then `messageStop`
//! (the stop reason) and `metadata` (usage, latency); an exception message
//! may come instead. The reply is rebuilt from the deltas, so a stream cut
//! short still shows what arrived.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::Parsed;
use super::bedrock::{Frame, frames};
use super::model::{ApiError, Note, NoteKind, Part, Reply};
use super::timeline::StreamEvent;
use super::value::{quoted, str_at, string_at, tool_call, u64_at};

/// A content block being reassembled, by `contentBlockIndex`.
#[derive(Debug)]
enum Block {
    Text(String),
    Reasoning {
        text: String,
        redacted: bool,
    },
    Tool {
        id: String,
        name: String,
        json: String,
    },
}

#[derive(Debug, Default)]
struct Acc {
    reply: Reply,
    blocks: BTreeMap<u64, Block>,
    stopped: bool,
    unknown: BTreeSet<String>,
}

pub(super) fn decode(body: &[u8], out: &mut Parsed) {
    let mut acc = Acc::default();
    for f in frames(body, &mut out.notes) {
        let (summary, token) = if f.exception {
            (exception(&mut acc, &f), false)
        } else {
            apply(&mut acc, &f, out)
        };
        let e = StreamEvent::new(f.offset, f.end, f.kind, summary);
        out.events.push(if token { e.token() } else { e });
    }
    finish(acc, out);
}

fn apply(acc: &mut Acc, f: &Frame, out: &mut Parsed) -> (String, bool) {
    let data = &f.payload;
    let index = u64_at(data, "contentBlockIndex").unwrap_or(0);
    match f.kind.as_str() {
        "messageStart" => (str_at(data, "role").unwrap_or("?").to_string(), false),
        "contentBlockStart" => (block_start(acc, index, data), false),
        "contentBlockDelta" => delta(acc, index, data.get("delta").unwrap_or(&Value::Null)),
        "contentBlockStop" => (format!("block {index} done"), false),
        "messageStop" => {
            acc.stopped = true;
            acc.reply.stop_reason = string_at(data, "stopReason");
            let reason = acc.reply.stop_reason.as_deref().unwrap_or("?");
            (format!("stop {reason}"), false)
        }
        "metadata" => (metadata(data, out), false),
        other => {
            acc.unknown.insert(other.to_string());
            ("(not decoded)".to_string(), false)
        }
    }
}

fn block_start(acc: &mut Acc, index: u64, data: &Value) -> String {
    let start = data.get("start").unwrap_or(&Value::Null);
    match start.get("toolUse") {
        Some(t) => {
            let id = string_at(t, "toolUseId").unwrap_or_default();
            let name = string_at(t, "name").unwrap_or_default();
            let summary = format!("block {index}: toolUse {name} ({id})");
            let json = String::new();
            acc.blocks.insert(index, Block::Tool { id, name, json });
            summary
        }
        None => format!("block {index}"),
    }
}

/// Apply one delta; true when it carried output.
fn delta(acc: &mut Acc, index: u64, d: &Value) -> (String, bool) {
    if let Some(text) = str_at(d, "text") {
        match acc
            .blocks
            .entry(index)
            .or_insert(Block::Text(String::new()))
        {
            Block::Text(s) => s.push_str(text),
            _ => return ("text for another block (not decoded)".to_string(), false),
        }
        return (format!("text {}", quoted(text)), true);
    }
    if let Some(input) = d.get("toolUse").and_then(|t| str_at(t, "input")) {
        if let Some(Block::Tool { json, .. }) = acc.blocks.get_mut(&index) {
            json.push_str(input);
        }
        return (format!("args {}", quoted(input)), true);
    }
    if let Some(r) = d.get("reasoningContent") {
        let block = acc.blocks.entry(index).or_insert(Block::Reasoning {
            text: String::new(),
            redacted: false,
        });
        let Block::Reasoning { text, redacted } = block else {
            return (
                "reasoning for another block (not decoded)".to_string(),
                false,
            );
        };
        if let Some(piece) = str_at(r, "text") {
            text.push_str(piece);
            return (format!("reasoning {}", quoted(piece)), true);
        }
        if r.get("redactedContent").is_some() {
            *redacted = true;
            return ("reasoning (redacted)".to_string(), false);
        }
        return ("signature".to_string(), false);
    }
    ("delta (not decoded)".to_string(), false)
}

fn metadata(data: &Value, out: &mut Parsed) -> String {
    let mut said = Vec::new();
    if let Some(u) = data.get("usage").filter(|u| u.is_object()) {
        let usage = super::converse::usage(u);
        said.push(format!(
            "usage {} in / {} out",
            usage.input_tokens, usage.output_tokens
        ));
        out.usage = Some(usage);
    }
    if let Some(ms) = data.get("metrics").and_then(|m| u64_at(m, "latencyMs")) {
        said.push(format!("latency {ms} ms"));
    }
    said.join(" · ")
}

fn exception(acc: &mut Acc, f: &Frame) -> String {
    let message = str_at(&f.payload, "message").unwrap_or_default();
    let summary = format!("{}: {message}", f.kind);
    acc.reply.error = Some(ApiError {
        status: None,
        kind: Some(f.kind.clone()),
        message: message.to_string(),
        mid_stream: true,
    });
    summary
}

fn finish(mut acc: Acc, out: &mut Parsed) {
    for (i, block) in std::mem::take(&mut acc.blocks) {
        let part = match block {
            Block::Text(text) => Part::Text { text },
            Block::Reasoning { text, redacted } => Part::Thinking { text, redacted },
            Block::Tool { id, name, json } => {
                let (call, ok) = tool_call(id, name, &json);
                if !ok {
                    let note = format!("block {i}: tool {} input is not valid JSON", call.name);
                    out.notes.push(Note::new(NoteKind::Incomplete, note));
                }
                Part::ToolCall(call)
            }
        };
        acc.reply.parts.push(part);
    }
    if !acc.stopped && acc.reply.error.is_none() {
        let note = "stream ended before messageStop: the reply may be partial";
        out.notes.push(Note::new(NoteKind::Incomplete, note));
    }
    for kind in &acc.unknown {
        let note = format!("event type {kind} not decoded");
        out.notes.push(Note::new(NoteKind::Unknown, note));
    }
    out.reply = Some(acc.reply);
}
