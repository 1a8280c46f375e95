//! Reading JSON-RPC messages out of request and response bodies: single
//! messages, batches, SSE streams (with the old transport's `endpoint`
//! event), and the one-line descriptions the timeline shows.

use serde_json::Value;

use super::{Reply, RpcError, RpcMessage, Transport, WireEvent, is_jsonrpc};
use crate::note::{Note, NoteKind};
use crate::sse;

/// Messages of a body: one message or a batch.
pub(super) fn messages(v: &Value) -> Vec<RpcMessage> {
    match v {
        Value::Array(items) => items.iter().map(message).collect(),
        single => vec![message(single)],
    }
}

/// Classify one JSON value as a JSON-RPC message.
pub fn message(v: &Value) -> RpcMessage {
    if v.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return RpcMessage::Invalid {
            reason: "missing \"jsonrpc\": \"2.0\"".to_string(),
        };
    }
    let id = v.get("id").cloned();
    let method = v.get("method").and_then(Value::as_str).map(str::to_string);
    let params = v.get("params").cloned();
    match (method, id) {
        (Some(method), Some(id)) => RpcMessage::Request { id, method, params },
        (Some(method), None) => RpcMessage::Notification { method, params },
        (None, id) => response(v, id.unwrap_or(Value::Null)),
    }
}

fn response(v: &Value, id: Value) -> RpcMessage {
    if let Some(e) = v.get("error") {
        return RpcMessage::Error {
            id,
            error: RpcError {
                code: e.get("code").and_then(Value::as_i64).unwrap_or(0),
                message: e
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                data: e.get("data").cloned(),
            },
        };
    }
    match v.get("result") {
        Some(result) => RpcMessage::Response {
            id,
            result: result.clone(),
        },
        None => RpcMessage::Invalid {
            reason: "neither method, result nor error".to_string(),
        },
    }
}

pub(super) fn read_reply(
    r: Reply,
    events: &mut Vec<WireEvent>,
    endpoint: &mut Option<String>,
    notes: &mut Vec<Note>,
) -> (Transport, Vec<RpcMessage>) {
    let blank = r.body.iter().all(u8::is_ascii_whitespace);
    if blank {
        return (Transport::Accepted, Vec::new());
    }
    if r.content_type.contains("event-stream") {
        return read_stream(r.body, events, endpoint, notes);
    }
    match serde_json::from_slice::<Value>(r.body) {
        Ok(v) if is_jsonrpc(&v) => (Transport::Json, messages(&v)),
        Ok(_) | Err(_) if r.status >= 400 => (Transport::Json, Vec::new()),
        Ok(_) => {
            notes.push(Note::new(
                NoteKind::Malformed,
                "response: not a JSON-RPC 2.0 message",
            ));
            (Transport::Json, Vec::new())
        }
        Err(e) => {
            notes.push(Note::new(
                NoteKind::Malformed,
                format!("response: invalid JSON ({e})"),
            ));
            (Transport::Json, Vec::new())
        }
    }
}

fn read_stream(
    body: &[u8],
    events: &mut Vec<WireEvent>,
    endpoint: &mut Option<String>,
    notes: &mut Vec<Note>,
) -> (Transport, Vec<RpcMessage>) {
    let mut transport = Transport::Sse;
    let mut received = Vec::new();
    for (i, e) in sse::parse_sse(body).into_iter().enumerate() {
        if e.event == "endpoint" {
            transport = Transport::LegacySse;
            *endpoint = Some(e.data.clone());
            events.push(wire(&e, "endpoint", e.data.clone()));
            continue;
        }
        let v = match serde_json::from_str::<Value>(&e.data) {
            Ok(v) => v,
            Err(err) => {
                let kind = if e.complete {
                    NoteKind::Malformed
                } else {
                    NoteKind::Incomplete
                };
                notes.push(Note::new(kind, format!("event {i}: invalid JSON ({err})")));
                continue;
            }
        };
        for m in messages(&v) {
            let (kind, summary) = describe(&m);
            events.push(wire(&e, &kind, summary));
            received.push(m);
        }
    }
    (transport, received)
}

fn wire(e: &sse::SseEvent, kind: &str, summary: String) -> WireEvent {
    WireEvent {
        offset: e.offset,
        end: e.end,
        kind: kind.to_string(),
        summary,
    }
}

/// Timeline kind and one-line summary of a message.
fn describe(m: &RpcMessage) -> (String, String) {
    match m {
        RpcMessage::Request { id, method, .. } => (method.clone(), format!("request {id}")),
        RpcMessage::Notification { method, params } => {
            let progress = params.as_ref().and_then(|p| p.get("progress"));
            let detail = progress
                .map(|p| format!("progress {p}"))
                .unwrap_or_default();
            (method.clone(), detail)
        }
        RpcMessage::Response { id, result } => {
            let flag = if tool_failed(result) {
                " (isError)"
            } else {
                ""
            };
            ("result".to_string(), format!("id {id}{flag}"))
        }
        RpcMessage::Error { id, error } => (
            "error".to_string(),
            format!("id {id}: {} {}", error.code, error.message),
        ),
        RpcMessage::Invalid { reason } => ("invalid".to_string(), reason.clone()),
    }
}

/// A tool result reporting failure (`isError`, or `is_error` from some SDKs).
pub(super) fn tool_failed(result: &Value) -> bool {
    let flag = result.get("isError").or_else(|| result.get("is_error"));
    flag.and_then(Value::as_bool).unwrap_or(false)
}
