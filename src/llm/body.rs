//! The bodies of one exchange made ready for the provider parsers: content
//! encoding removed, the request parsed as JSON, the response's framing
//! (plain JSON, SSE, NDJSON, streamed JSON array) recognised, and notes for
//! whatever was cut, compressed or malformed.

use std::borrow::Cow;

use serde_json::Value;

use super::model::{ApiError, Note, NoteKind};
use super::value::{id_text, str_at};
use crate::content;
use crate::exchange::{Exchange, State, header};
use crate::sse::{self, Arrivals, NdjsonLine, SseEvent};

/// How a response body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Empty,
    Json,
    Sse,
    Ndjson,
    /// A JSON array delivered element by element (Gemini without `alt=sse`).
    JsonArray,
}

/// A response body after content decoding.
#[derive(Debug)]
pub(crate) struct Resp<'a> {
    pub status: u16,
    pub content_type: String,
    pub body: Cow<'a, [u8]>,
    /// A content-encoding was removed, so body offsets are not wire offsets.
    pub decoded: bool,
    pub wire_len: u64,
}

impl Resp<'_> {
    pub fn format(&self) -> Format {
        let text = trim_start(&self.body);
        if text.is_empty() {
            return Format::Empty;
        }
        let ct = self.content_type.as_str();
        if ct.contains("event-stream") || text.starts_with(b"data:") || text.starts_with(b"event:")
        {
            Format::Sse
        } else if ct.contains("ndjson") || ct.contains("jsonl") || looks_like_ndjson(text) {
            Format::Ndjson
        } else if text.starts_with(b"[") {
            Format::JsonArray
        } else {
            Format::Json
        }
    }

    pub fn is_error(&self) -> bool {
        self.status >= 400
    }

    /// Maps body offsets to arrival times for this exchange.
    pub fn arrivals<'c>(&self, ex: &'c Exchange) -> Arrivals<'c> {
        if self.decoded {
            Arrivals::scaled(&ex.chunks, self.body.len() as u64, self.wire_len)
        } else {
            Arrivals::new(&ex.chunks)
        }
    }
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let skip = bytes.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &bytes[skip..]
}

/// Several complete JSON objects, one per line (Ollama streams sometimes
/// arrive labelled `application/json`).
fn looks_like_ndjson(text: &[u8]) -> bool {
    let mut lines = text
        .split(|b| *b == b'\n')
        .filter(|l| !trim_start(l).is_empty());
    let first = lines.next();
    first.is_some_and(|l| l.starts_with(b"{") && serde_json::from_slice::<Value>(l).is_ok())
        && lines.next().is_some()
}

/// An exchange's bodies, decoded once for detection and parsing.
#[derive(Debug)]
pub(crate) struct Input<'a> {
    pub ex: &'a Exchange,
    /// Lower-cased path without the query.
    pub path: String,
    pub request: Option<Value>,
    pub response: Option<Resp<'a>>,
    pub notes: Vec<Note>,
}

impl<'a> Input<'a> {
    pub fn new(ex: &'a Exchange) -> Self {
        let mut notes = Vec::new();
        let path = ex.request.path.split(['?', '#']).next().unwrap_or_default();
        let request = request_json(ex, &mut notes);
        let response = ex.response.as_ref().map(|r| {
            let encoding = header(&r.headers, "content-encoding");
            let decoded = content::decode(encoding, &r.body.bytes);
            if let Some(note) = decoded.note {
                notes.push(Note::new(
                    NoteKind::Approximate,
                    format!("response: {note}"),
                ));
            }
            if r.body.truncated {
                notes.push(Note::new(
                    NoteKind::Truncated,
                    format!(
                        "response body cut at the capture cap ({} of {} bytes kept)",
                        r.body.bytes.len(),
                        r.body.wire_size
                    ),
                ));
            }
            let content_type = header(&r.headers, "content-type")
                .unwrap_or_default()
                .to_ascii_lowercase();
            let mut body = decoded.bytes;
            // A cut stream read with its tail (an encoded one cannot be
            // decoded from the middle): its usage and stop reason are there.
            if r.body.truncated && !r.body.tail.is_empty() && decoded.applied.is_none() {
                let sse = content_type.contains("event-stream");
                body = super::stitch::stitched(&body, &r.body.tail, sse).into();
                notes.push(Note::new(
                    NoteKind::Truncated,
                    format!(
                        "the stream's last {} bytes were kept past the cap and read for its end",
                        r.body.tail.len()
                    ),
                ));
            }
            Resp {
                status: r.status,
                content_type,
                decoded: decoded.applied.is_some(),
                body,
                wire_len: r.body.bytes.len() as u64,
            }
        });
        notes.extend(state_note(&ex.state));
        Input {
            ex,
            path: path.to_ascii_lowercase(),
            request,
            response,
            notes,
        }
    }

    pub fn method(&self) -> &str {
        &self.ex.request.method
    }
}

fn request_json(ex: &Exchange, notes: &mut Vec<Note>) -> Option<Value> {
    let body = &ex.request.body;
    if body.bytes.is_empty() {
        return None;
    }
    let encoding = header(&ex.request.headers, "content-encoding");
    let decoded = content::decode(encoding, &body.bytes);
    if body.truncated {
        notes.push(Note::new(
            NoteKind::Truncated,
            "request body cut at the capture cap: the conversation may be partial",
        ));
    }
    match serde_json::from_slice(&decoded.bytes) {
        Ok(v) => Some(v),
        Err(e) if looks_like_json(&decoded.bytes) => {
            notes.push(Note::new(
                NoteKind::Malformed,
                format!("request: invalid JSON ({e})"),
            ));
            None
        }
        Err(_) => None,
    }
}

fn looks_like_json(bytes: &[u8]) -> bool {
    matches!(trim_start(bytes).first(), Some(b'{' | b'['))
}

fn state_note(state: &State) -> Option<Note> {
    match state {
        State::InFlight | State::Streaming => Some(Note::new(
            NoteKind::Incomplete,
            "the response is still arriving",
        )),
        State::Failed(f) => Some(Note::new(
            NoteKind::Incomplete,
            format!("the exchange failed ({}): {}", f.kind.label(), f.message),
        )),
        State::Complete => None,
    }
}

/// The SSE events of a body whose data is JSON, with notes for events that
/// are not. `[DONE]` sentinels are passed through as `Value::Null`.
pub(crate) fn sse_json(body: &[u8], notes: &mut Vec<Note>) -> Vec<(SseEvent, Value)> {
    let mut out = Vec::new();
    for (i, event) in sse::parse_sse(body).into_iter().enumerate() {
        if event.data.trim() == "[DONE]" {
            out.push((event, Value::Null));
            continue;
        }
        match serde_json::from_str(&event.data) {
            Ok(v) => out.push((event, v)),
            Err(e) => notes.push(bad_event(i, &event.event, event.complete, &e)),
        }
    }
    out
}

/// The NDJSON lines of a body, parsed, with notes for lines that are not JSON.
pub(crate) fn ndjson_json(body: &[u8], notes: &mut Vec<Note>) -> Vec<(NdjsonLine, Value)> {
    let mut out = Vec::new();
    for (i, line) in sse::parse_ndjson(body).into_iter().enumerate() {
        match serde_json::from_str(&line.text) {
            Ok(v) => out.push((line, v)),
            Err(e) => notes.push(bad_event(i, "line", line.complete, &e)),
        }
    }
    out
}

fn bad_event(i: usize, name: &str, complete: bool, e: &serde_json::Error) -> Note {
    if complete {
        Note::new(
            NoteKind::Malformed,
            format!("event {i} ({name}): invalid JSON ({e})"),
        )
    } else {
        Note::new(
            NoteKind::Incomplete,
            format!("event {i} ({name}) was cut off before its end"),
        )
    }
}

/// Elements of a JSON array body with their offsets, as far as they parse.
/// The flag is false when the array did not close.
pub(crate) fn json_array_items(body: &[u8]) -> (Vec<(Value, u64, u64)>, bool) {
    let mut items = Vec::new();
    let skip = |pos: usize| {
        pos + body[pos..]
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count()
    };
    let mut pos = skip(0);
    if body.get(pos) != Some(&b'[') {
        return (items, false);
    }
    pos += 1;
    loop {
        pos = skip(pos);
        match body.get(pos) {
            Some(b',') => pos += 1,
            Some(b']') => return (items, true),
            None => return (items, false),
            Some(_) => {
                let mut stream = serde_json::Deserializer::from_slice(&body[pos..]).into_iter();
                let Some(Ok(value)) = stream.next() else {
                    return (items, false);
                };
                let end = pos + stream.byte_offset();
                items.push((value, pos as u64, end as u64));
                pos = end;
            }
        }
    }
}

/// The error an HTTP error response carries, in any provider's shape:
/// `{"error": {"type"|"status"|"code", "message"}}`, `{"error": "text"}`,
/// either wrapped in an array, or plain text.
pub(crate) fn http_error(resp: &Resp) -> ApiError {
    let parsed: Option<Value> = serde_json::from_slice(&resp.body).ok();
    let value = match parsed {
        Some(Value::Array(items)) => items.into_iter().next(),
        other => other,
    };
    let mut err = value
        .as_ref()
        .and_then(error_in)
        .or_else(|| value.as_ref().and_then(aws_error))
        .unwrap_or_else(|| ApiError {
            status: None,
            kind: None,
            message: super::value::clip(String::from_utf8_lossy(&resp.body).trim(), 200),
            mid_stream: false,
        });
    err.status = Some(resp.status);
    err
}

/// AWS's error body: `{"message": …}` (its type is in a header).
fn aws_error(v: &Value) -> Option<ApiError> {
    let message = str_at(v, "message").or_else(|| str_at(v, "Message"))?;
    Some(ApiError {
        status: None,
        kind: str_at(v, "__type").map(str::to_string),
        message: message.to_string(),
        mid_stream: false,
    })
}

/// An error object inside a JSON value (also used for mid-stream errors).
pub(crate) fn error_in(v: &Value) -> Option<ApiError> {
    let e = v.get("error")?;
    if let Some(text) = e.as_str() {
        return Some(ApiError {
            status: None,
            kind: None,
            message: text.to_string(),
            mid_stream: false,
        });
    }
    let kind = str_at(e, "type")
        .or_else(|| str_at(e, "status"))
        .map(str::to_string)
        .or_else(|| e.get("code").and_then(id_text));
    Some(ApiError {
        status: None,
        kind,
        message: str_at(e, "message").unwrap_or_default().to_string(),
        mid_stream: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_array_items_track_offsets_and_cuts() {
        let (items, closed) = json_array_items(b" [{\"a\":1} ,\n{\"b\":2}]");
        assert!(closed);
        assert_eq!(items.len(), 2);
        assert_eq!((items[0].1, items[0].2), (2, 9));
        assert_eq!(items[1].0, json!({"b": 2}));
        let (items, closed) = json_array_items(b"[{\"a\":1},{\"b\"");
        assert!(!closed);
        assert_eq!(items.len(), 1);
        assert_eq!(json_array_items(b"{}"), (vec![], false));
    }

    #[test]
    fn error_shapes() {
        let cases = [
            (
                json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
                Some("overloaded_error"),
                "Overloaded",
            ),
            (
                json!({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}}),
                Some("RESOURCE_EXHAUSTED"),
                "quota",
            ),
            (
                json!({"error": {"message": "bad", "type": null, "code": "invalid_api_key"}}),
                Some("invalid_api_key"),
                "bad",
            ),
            (json!({"error": "model not found"}), None, "model not found"),
        ];
        for (v, kind, message) in cases {
            let e = error_in(&v).expect("error");
            assert_eq!((e.kind.as_deref(), e.message.as_str()), (kind, message));
        }
        assert!(error_in(&json!({"ok": true})).is_none());
    }
}
