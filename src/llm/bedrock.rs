//! Amazon Bedrock's streamed replies: the binary event-stream framing
//! (`application/vnd.amazon.eventstream`) opened into events, and
//! `InvokeModelWithResponseStream` for Anthropic models, whose `chunk`
//! events carry each Anthropic stream event base64-encoded in `bytes`.
//!
//! Each event keeps its message's byte offsets, so the timeline stamps it
//! with the arrival of the chunk that completed it, as for SSE. An
//! `exception` message (throttling, a model error mid-stream) becomes an
//! error event; a frame that fails its CRC becomes a note.

use base64::Engine;
use serde_json::{Value, json};

use super::Parsed;
use super::model::{Note, NoteKind};
use super::value::str_at;
use crate::eventstream::{self, Message};

/// One event-stream message opened: its `:event-type` (or exception
/// type), whether it is an exception, and its JSON payload.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Frame {
    pub offset: u64,
    pub end: u64,
    pub kind: String,
    pub exception: bool,
    pub payload: Value,
}

/// The messages of an event-stream body, with notes for bad frames and a
/// cut tail.
pub(super) fn frames(body: &[u8], notes: &mut Vec<Note>) -> Vec<Frame> {
    let (items, pending) = eventstream::decode(body);
    let mut out = Vec::new();
    for item in items {
        match item {
            Ok(m) => out.push(frame(m, notes)),
            Err(e) => notes.push(Note::new(NoteKind::Malformed, e.to_string())),
        }
    }
    if pending > 0 {
        let note = format!("event stream ends inside a message ({pending} bytes of it arrived)");
        notes.push(Note::new(NoteKind::Incomplete, note));
    }
    out
}

fn frame(m: Message, notes: &mut Vec<Note>) -> Frame {
    let exception = m.header(":message-type") == Some("exception");
    let kind = if exception {
        m.header(":exception-type")
    } else {
        m.header(":event-type")
    }
    .unwrap_or("message")
    .to_string();
    let payload = if m.payload.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&m.payload).unwrap_or_else(|e| {
            let note = format!("{kind} event at byte {}: invalid JSON ({e})", m.offset);
            notes.push(Note::new(NoteKind::Malformed, note));
            Value::Null
        })
    };
    Frame {
        offset: m.offset,
        end: m.end,
        kind,
        exception,
        payload,
    }
}

/// An exception frame as an Anthropic-style `error` event, so the stream
/// parsers report it like any mid-stream error.
pub(super) fn exception_event(f: &Frame) -> Value {
    let message = str_at(&f.payload, "message")
        .or_else(|| str_at(&f.payload, "Message"))
        .unwrap_or_default();
    json!({"type": "error", "error": {"type": f.kind, "message": message}})
}

/// `InvokeModelWithResponseStream` of an Anthropic model.
pub(super) fn invoke_stream(body: &[u8], out: &mut Parsed) {
    let mut events = Vec::new();
    for f in frames(body, &mut out.notes) {
        let data = if f.exception {
            exception_event(&f)
        } else {
            match chunk_event(&f.payload) {
                Some(v) => v,
                None => {
                    let note = format!(
                        "{} event at byte {}: no Anthropic event in it",
                        f.kind, f.offset
                    );
                    out.notes.push(Note::new(NoteKind::Unknown, note));
                    continue;
                }
            }
        };
        events.push((f.offset, f.end, f.kind, data));
    }
    super::anthropic_stream::decode_events(events, out);
}

/// The Anthropic event inside a `chunk`: `{"bytes": base64 JSON}`.
fn chunk_event(payload: &Value) -> Option<Value> {
    let b64 = str_at(payload, "bytes")?;
    let raw = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    serde_json::from_slice(&raw).ok()
}

/// Region of an AWS or Google Cloud endpoint, from its host
/// (`bedrock-runtime.us-east-1.amazonaws.com`,
/// `us-east5-aiplatform.googleapis.com`) or a Vertex path's
/// `/locations/{region}/`.
pub(super) fn region(host: &str, path: &str) -> Option<String> {
    let host = host.to_ascii_lowercase();
    if let Some(rest) = host.strip_suffix(".amazonaws.com") {
        let mut labels = rest.split('.');
        let service = labels.next()?;
        if service.starts_with("bedrock") {
            return labels.next().map(str::to_string);
        }
    }
    if let Some(prefix) = host.strip_suffix("-aiplatform.googleapis.com") {
        return Some(prefix.to_string());
    }
    let after = path.split("/locations/").nth(1)?;
    after
        .split('/')
        .next()
        .filter(|r| !r.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_from_hosts_and_paths() {
        let cases = [
            (
                "bedrock-runtime.us-east-1.amazonaws.com",
                "/model/x/invoke",
                Some("us-east-1"),
            ),
            (
                "bedrock-runtime-fips.us-west-2.amazonaws.com",
                "/",
                Some("us-west-2"),
            ),
            (
                "us-east5-aiplatform.googleapis.com",
                "/v1/projects/p/locations/us-east5/x",
                Some("us-east5"),
            ),
            (
                "aiplatform.googleapis.com",
                "/v1/projects/p/locations/global/x",
                Some("global"),
            ),
            ("s3.us-east-1.amazonaws.com", "/", None),
            ("api.anthropic.com", "/v1/messages", None),
        ];
        for (host, path, want) in cases {
            assert_eq!(region(host, path).as_deref(), want, "{host}");
        }
    }

    #[test]
    fn chunk_bytes_hold_an_anthropic_event() {
        let payload = json!({"bytes": "eyJ0eXBlIjoibWVzc2FnZV9zdG9wIn0=", "p": "abc"});
        assert_eq!(chunk_event(&payload), Some(json!({"type": "message_stop"})));
        assert_eq!(chunk_event(&json!({"bytes": "!!"})), None);
    }
}
