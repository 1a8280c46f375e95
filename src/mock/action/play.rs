//! A parsed action played: the body cut into chunks with the delays the
//! expectation asked for (per line, per event-stream message, per SSE
//! event), ready for the engine to send as they are.

use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

use super::{SseEventOut, SseResponse, StaticResponse, has};
use crate::mock::completion::LlmResponse;
use crate::mock::render::{self, Shape, Wire};
use crate::respond::{MockChunk, MockResponse};

impl StaticResponse {
    pub fn play(&self, id: &str) -> MockResponse {
        let paced = match (self.frame_delay, self.line_delay) {
            (Some(gap), _) => Some((frames(&self.body), gap)),
            (None, Some(gap)) => Some((lines(&self.body), gap)),
            (None, None) => None,
        };
        let chunks = match paced {
            Some((pieces, gap)) => pieces
                .into_iter()
                .enumerate()
                .map(|(i, data)| MockChunk {
                    delay: if i == 0 { self.delay } else { gap },
                    data,
                })
                .collect(),
            None => vec![MockChunk {
                delay: self.delay,
                data: self.body.clone(),
            }],
        };
        MockResponse {
            expectation_id: id.to_string(),
            status: self.status,
            headers: self.headers.clone(),
            chunks,
            trailers: self.trailers.clone(),
        }
    }
}

/// Split an event-stream body after each message, so a client's decoder
/// gets the events one by one as from Bedrock.
fn frames(body: &Bytes) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut start = 0;
    for end in crate::eventstream::message_ends(body) {
        if end > start {
            out.push(body.slice(start..end));
            start = end;
        }
    }
    out
}

/// Split a body after each newline, keeping the newlines.
fn lines(body: &Bytes) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in body.iter().enumerate() {
        if *b == b'\n' {
            out.push(body.slice(start..=i));
            start = i + 1;
        }
    }
    if start < body.len() {
        out.push(body.slice(start..));
    }
    out
}

impl SseResponse {
    pub fn play(&self, id: &str) -> MockResponse {
        let mut headers = self.headers.clone();
        if !has(&headers, "content-type") {
            headers.push("content-type", "text/event-stream");
        }
        MockResponse {
            expectation_id: id.to_string(),
            status: self.status,
            headers,
            chunks: self
                .events
                .iter()
                .map(|e| MockChunk {
                    delay: e.delay,
                    data: Bytes::from(sse_bytes(e)),
                })
                .collect(),
            trailers: Default::default(),
        }
    }
}

/// One event in SSE framing.
pub fn sse_bytes(e: &SseEventOut) -> String {
    let mut out = String::new();
    if let Some(ev) = &e.event {
        out.push_str(&format!("event: {ev}\n"));
    }
    if let Some(id) = &e.id {
        out.push_str(&format!("id: {id}\n"));
    }
    if let Some(retry) = e.retry {
        out.push_str(&format!("retry: {retry}\n"));
    }
    for line in e.data.split('\n') {
        out.push_str(&format!("data: {line}\n"));
    }
    out.push('\n');
    out
}

/// Play a rendered completion: one body, or its events `gap` apart.
pub fn play_wire(id: &str, wire: Wire, gap: Duration) -> MockResponse {
    let (content_type, pieces): (&str, Vec<Bytes>) = match wire {
        Wire::Json(doc) => ("application/json", vec![Bytes::from(doc.to_string())]),
        Wire::Sse(events) => (
            "text/event-stream",
            events
                .into_iter()
                .map(|e| {
                    Bytes::from(sse_bytes(&SseEventOut {
                        event: e.event,
                        data: e.data,
                        id: None,
                        retry: None,
                        delay: Duration::ZERO,
                    }))
                })
                .collect(),
        ),
        Wire::Ndjson(lines) => (
            "application/x-ndjson",
            lines
                .iter()
                .map(|l| Bytes::from(format!("{l}\n")))
                .collect(),
        ),
        Wire::JsonArray(items) => (
            "application/json",
            json_array_pieces(&items)
                .into_iter()
                .map(Bytes::from)
                .collect(),
        ),
        Wire::EventStream(frames) => (
            "application/vnd.amazon.eventstream",
            frames.into_iter().map(Bytes::from).collect(),
        ),
    };
    MockResponse {
        expectation_id: id.to_string(),
        status: 200,
        headers: crate::exchange::Headers::from([("content-type", content_type)]),
        chunks: pieces
            .into_iter()
            .enumerate()
            .map(|(i, data)| MockChunk {
                delay: if i == 0 { Duration::ZERO } else { gap },
                data,
            })
            .collect(),
        trailers: Default::default(),
    }
}

fn json_array_pieces(items: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = items
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{}{v}", if i == 0 { "[" } else { ",\n" }))
        .collect();
    out.push("]".into());
    out
}

/// Render an `httpLlmResponse` for a request of `shape`.
pub fn play_llm(id: &str, llm: &LlmResponse, model: &str, shape: Shape) -> MockResponse {
    let model = llm.model.as_deref().unwrap_or(model);
    let wire = render::render(&llm.completion, model, shape);
    play_wire(
        id,
        wire,
        Duration::from_millis(llm.completion.event_delay_ms),
    )
}
