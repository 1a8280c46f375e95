//! Captured exchanges as MockServer expectations that would replay them
//! (the `RECORDED_EXPECTATIONS` retrieve type and the base of recorded
//! fixtures).
//!
//! Each finished exchange becomes `{ id, httpRequest, <action>, times,
//! timeToLive }` in MockServer's JSON shape. The action is `httpResponse`,
//! or `httpSseResponse` for a complete SSE stream, with each event's delay
//! taken from when its bytes arrived. A stream cut at the capture cap is
//! replayed as a plain response carrying a warning header, because its
//! last event may be incomplete. Exchanges that never got a response are
//! left out: there is nothing to replay. Redact before calling this
//! (`crate::redact`) when the result leaves the machine.

use base64::Engine;
use serde_json::{Map, Value, json};

use super::view::{self, BodyView};
use crate::exchange::{Exchange, Headers, Response};
use crate::sse::{self, Arrivals, SseEvent};

/// Delay between replayed events when arrival times are unknown.
pub const DEFAULT_EVENT_DELAY_MS: u64 = 50;

/// Header added to a replayed response whose recorded body was cut short.
pub const TRUNCATED_WARNING_HEADER: &str = "x-llmspy-warning";

/// The expectations replaying `exchanges`, as a JSON array.
pub fn recorded(exchanges: &[Exchange]) -> Value {
    Value::Array(exchanges.iter().filter_map(expectation).collect())
}

/// The expectation replaying one exchange; `None` without a response.
pub fn expectation(ex: &Exchange) -> Option<Value> {
    let resp = ex.response.as_ref()?;
    let mut out = Map::new();
    out.insert("id".into(), json!(format!("recorded-{}", ex.id)));
    out.insert("httpRequest".into(), http_request(ex));
    let (key, action) = action(ex, resp);
    out.insert(key.into(), action);
    out.insert("times".into(), json!({ "unlimited": true }));
    out.insert("timeToLive".into(), json!({ "unlimited": true }));
    Some(Value::Object(out))
}

fn http_request(ex: &Exchange) -> Value {
    let r = &ex.request;
    let (path, _) = view::split_path(&r.path);
    let mut out = Map::new();
    out.insert("method".into(), json!(r.method));
    out.insert("path".into(), json!(path));
    let query = view::request_query(ex);
    if !query.is_empty() {
        out.insert("queryStringParameters".into(), multimap(&query));
    }
    // Host tells apart providers that share paths (`/v1/models`).
    out.insert("headers".into(), json!({ "Host": [view::authority(ex)] }));
    out.insert("secure".into(), json!(r.scheme == "https"));
    let body = BodyView::of(&r.headers, &r.body);
    if !body.is_empty() {
        out.insert("body".into(), request_body(&body));
    }
    Value::Object(out)
}

/// JSON bodies match on their fields (MockServer's default for `JSON`
/// bodies ignores extra fields); text matches exactly; binary by bytes.
fn request_body(body: &BodyView) -> Value {
    if let Some(doc) = body.json() {
        return json!({ "type": "JSON", "json": doc });
    }
    match &body.text {
        Some(text) => json!({ "type": "STRING", "string": text }),
        None => json!({ "type": "BINARY", "base64Bytes": body.base64() }),
    }
}

fn action(ex: &Exchange, resp: &Response) -> (&'static str, Value) {
    let body = BodyView::of(&resp.headers, &resp.body);
    let is_sse = view::media_type(&resp.headers).as_deref() == Some("text/event-stream");
    match (&body.text, is_sse && !body.truncated) {
        (Some(text), true) => ("httpSseResponse", sse_response(ex, resp, &body, text)),
        _ => ("httpResponse", http_response(resp, &body)),
    }
}

fn http_response(resp: &Response, body: &BodyView) -> Value {
    let mut headers = response_headers(&resp.headers);
    if body.truncated {
        headers.insert(
            TRUNCATED_WARNING_HEADER.into(),
            json!([format!(
                "recorded body was cut at llmspy's capture cap ({} of {} bytes)",
                resp.body.bytes.len(),
                resp.body.wire_size
            )]),
        );
    }
    let mut out = Map::new();
    out.insert("statusCode".into(), json!(resp.status));
    if let Some(reason) = Some(view::status_text(resp.status)).filter(|r| !r.is_empty()) {
        out.insert("reasonPhrase".into(), json!(reason));
    }
    out.insert("headers".into(), Value::Object(headers));
    if !body.is_empty() {
        out.insert("body".into(), response_body(resp, body));
    }
    // llmspy's own field: a gRPC call's status replays with it.
    let trailers = &resp.body.trailers;
    if !trailers.is_empty() {
        let pairs: Vec<(String, String)> = trailers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        out.insert("trailers".into(), multimap(&pairs));
    }
    Value::Object(out)
}

/// JSON responses are kept as JSON (readable and editable in a fixture);
/// other text as a string, exactly; binary as base64.
fn response_body(resp: &Response, body: &BodyView) -> Value {
    let is_json = view::media_type(&resp.headers).is_some_and(|m| m.contains("json"));
    match (&body.text, body.json()) {
        (_, Some(doc)) if is_json && !body.truncated => json!({ "type": "JSON", "json": doc }),
        (Some(text), _) => json!(text),
        (None, _) => json!({
            "type": "BINARY",
            "base64Bytes": base64::engine::general_purpose::STANDARD.encode(&body.bytes),
        }),
    }
}

fn sse_response(ex: &Exchange, resp: &Response, body: &BodyView, text: &str) -> Value {
    // Chunk offsets count wire bytes; a decoded body's offsets are scaled
    // back to them, which is close enough for replay pacing.
    let arrivals = match body.decoded_from {
        Some(_) => Arrivals::scaled(
            &ex.chunks,
            body.bytes.len() as u64,
            resp.body.bytes.len() as u64,
        ),
        None => Arrivals::new(&ex.chunks),
    };
    let mut previous = ex.timings.response_head_us.unwrap_or(0);
    let events: Vec<Value> = sse::parse_sse(text.as_bytes())
        .into_iter()
        .enumerate()
        .map(|(i, ev)| {
            let delay = match arrivals.at_us(ev.end) {
                Some(at) => {
                    let d = at.saturating_sub(previous) / 1000;
                    previous = at.max(previous);
                    d
                }
                None if i == 0 => 0,
                None => DEFAULT_EVENT_DELAY_MS,
            };
            sse_event(&ev, delay)
        })
        .collect();
    json!({
        "statusCode": resp.status,
        "headers": Value::Object(response_headers(&resp.headers)),
        "events": events,
        "closeConnection": true,
    })
}

fn sse_event(ev: &SseEvent, delay_ms: u64) -> Value {
    let mut out = Map::new();
    // `message` is what a nameless event is called; leaving it out keeps
    // data-only streams (OpenAI's) as they were.
    if ev.event != "message" {
        out.insert("event".into(), json!(ev.event));
    }
    out.insert("data".into(), json!(ev.data));
    if let Some(id) = &ev.id {
        out.insert("id".into(), json!(id));
    }
    if let Some(retry) = ev.retry {
        out.insert("retry".into(), json!(retry));
    }
    out.insert(
        "delay".into(),
        json!({ "timeUnit": "MILLISECONDS", "value": delay_ms }),
    );
    Value::Object(out)
}

/// Response headers as MockServer's `name: [values]` map, without the
/// framing headers the replaying server sets itself.
fn response_headers(headers: &Headers) -> Map<String, Value> {
    let pairs: Vec<(String, String)> = view::replay_headers(headers)
        .into_iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("date"))
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    match multimap(&pairs) {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// `[(a,1),(a,2),(b,3)]` → `{"a":["1","2"],"b":["3"]}`, first-seen order.
fn multimap(pairs: &[(String, String)]) -> Value {
    let mut out: Map<String, Value> = Map::new();
    for (name, value) in pairs {
        let entry = out.entry(name.clone()).or_insert_with(|| json!([]));
        if let Value::Array(values) = entry {
            values.push(json!(value));
        }
    }
    Value::Object(out)
}
