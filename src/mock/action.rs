//! What a matched expectation does: answer (`httpResponse`,
//! `httpSseResponse`, `httpLlmResponse`, a scripted conversation) or
//! forward with overrides (`httpForward`, `httpOverrideForwardedRequest`).
//! Parsing and rendering only; the engine plays the result.
//!
//! This file reads an action from MockServer's JSON; `play` turns a parsed
//! action into the chunks and delays of a
//! [`MockResponse`](crate::respond::MockResponse).

mod play;

use std::time::Duration;

use bytes::Bytes;
use serde_json::{Map, Value};

use super::MockError;
use super::completion::LlmResponse;
use super::expectation::delay;
use super::scripted::Script;
use crate::exchange::Headers;
use crate::respond::ForwardOverride;
pub use play::{play_llm, play_wire, sse_bytes};

/// The action of an expectation.
#[derive(Debug, Clone)]
pub enum Action {
    Response(StaticResponse),
    Sse(SseResponse),
    Forward(ForwardOverride),
    Llm(LlmResponse),
    Script(Script),
}

/// `httpResponse`. `line_delay` (llmspy's `lineDelay`) sends the body line
/// by line, as a recorded NDJSON stream arrived; `frame_delay`
/// (`frameDelay`) sends an AWS event-stream body (Bedrock) one message at
/// a time; `trailers` follow the body.
#[derive(Debug, Clone)]
pub struct StaticResponse {
    pub status: u16,
    pub headers: Headers,
    pub body: Bytes,
    pub delay: Duration,
    pub line_delay: Option<Duration>,
    pub frame_delay: Option<Duration>,
    /// llmspy's `trailers`, as `headers` are written: fields sent after
    /// the body (how a recorded gRPC call replays its `grpc-status`).
    pub trailers: Headers,
}

/// `httpSseResponse`.
#[derive(Debug, Clone)]
pub struct SseResponse {
    pub status: u16,
    pub headers: Headers,
    pub events: Vec<SseEventOut>,
}

/// One event of an `httpSseResponse`, sent `delay` after the previous.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEventOut {
    pub event: Option<String>,
    pub data: String,
    pub id: Option<String>,
    pub retry: Option<u64>,
    pub delay: Duration,
}

const ACTIONS: &str = "one of httpResponse, httpSseResponse, httpLlmResponse, \
     httpLlmConversation, httpForward, httpOverrideForwardedRequest";

impl Action {
    /// The action of the expectation object at `at`.
    pub fn from_expectation(obj: &Map<String, Value>, at: &str) -> Result<Self, MockError> {
        let key = |k: &str| obj.get(k).map(|v| (v, format!("{at}.{k}")));
        if let Some((v, p)) = key("httpResponse") {
            return static_response(v, &p).map(Action::Response);
        }
        if let Some((v, p)) = key("httpSseResponse") {
            return sse_response(v, &p).map(Action::Sse);
        }
        if let Some((v, p)) = key("httpLlmResponse") {
            return LlmResponse::from_json(v, &p).map(Action::Llm);
        }
        if let Some((v, p)) = key("httpLlmConversation") {
            return Script::from_json(v, &p).map(Action::Script);
        }
        if let Some((v, p)) = key("httpForward") {
            return forward(v, &p).map(Action::Forward);
        }
        if let Some((v, p)) = key("httpOverrideForwardedRequest") {
            return override_forward(v, &p).map(Action::Forward);
        }
        let expected = match misspelt_action(obj) {
            Some((found, meant)) => format!("{ACTIONS} (found \"{found}\": did you mean {meant}?)"),
            None => ACTIONS.to_string(),
        };
        Err(MockError::invalid(at, expected))
    }
}

/// The keys that name an expectation's action, in MockServer's JSON.
pub const ACTION_KEYS: [&str; 6] = [
    "httpResponse",
    "httpSseResponse",
    "httpLlmResponse",
    "httpLlmConversation",
    "httpForward",
    "httpOverrideForwardedRequest",
];

/// A key of `obj` that is a typo of an action name, and that name.
fn misspelt_action(obj: &Map<String, Value>) -> Option<(String, &'static str)> {
    obj.keys().find_map(|k| {
        crate::similar::closest(k, ACTION_KEYS, 2)
            .filter(|a| a != k)
            .map(|a| (k.clone(), a))
    })
}

fn status(obj: &Map<String, Value>, at: &str) -> Result<u16, MockError> {
    match obj.get("statusCode") {
        None => Ok(200),
        Some(v) => v
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .filter(|n| (100..1000).contains(n))
            .ok_or_else(|| MockError::invalid(&format!("{at}.statusCode"), "an HTTP status")),
    }
}

fn object<'a>(v: &'a Value, at: &str) -> Result<&'a Map<String, Value>, MockError> {
    v.as_object()
        .ok_or_else(|| MockError::invalid(at, "an object"))
}

fn static_response(v: &Value, at: &str) -> Result<StaticResponse, MockError> {
    let obj = object(v, at)?;
    super::fields::only(
        obj,
        &[
            "statusCode",
            // Written by llmspy's recordings, as MockServer does; not sent
            // (HTTP/2 has no reason phrase, and hyper writes its own).
            "reasonPhrase",
            "headers",
            "trailers",
            "body",
            "delay",
            "lineDelay",
            "frameDelay",
        ],
        at,
    )?;
    let mut headers = headers(obj.get("headers"), &format!("{at}.headers"))?;
    let trailers = self::headers(obj.get("trailers"), &format!("{at}.trailers"))?;
    let (body, content_type) = body(obj.get("body"), &format!("{at}.body"))?;
    if let Some(ct) = content_type.filter(|_| !has(&headers, "content-type")) {
        headers.push("content-type", ct);
    }
    let line_delay = match obj.get("lineDelay") {
        Some(d) => Some(delay(Some(d), &format!("{at}.lineDelay"))?),
        None => None,
    };
    let frame_delay = match obj.get("frameDelay") {
        Some(d) => Some(delay(Some(d), &format!("{at}.frameDelay"))?),
        None => None,
    };
    Ok(StaticResponse {
        status: status(obj, at)?,
        headers,
        body,
        delay: delay(obj.get("delay"), &format!("{at}.delay"))?,
        line_delay,
        frame_delay,
        trailers,
    })
}

pub(super) fn has(headers: &Headers, name: &str) -> bool {
    headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// MockServer's `{"name": ["v"]}` or `[{"name", "values"}]` header maps.
pub fn headers(v: Option<&Value>, at: &str) -> Result<Headers, MockError> {
    let mut out = Headers::new();
    let mut add = |name: &str, v: &Value| -> Result<(), MockError> {
        let wrong = |what| MockError::invalid(&format!("{at}.{name}"), what);
        match v {
            Value::String(s) => out.push(name, s),
            Value::Array(a) => {
                for x in a {
                    out.push(name, x.as_str().ok_or_else(|| wrong("strings"))?);
                }
            }
            _ => return Err(wrong("a string or a list")),
        }
        Ok(())
    };
    match v {
        None | Some(Value::Null) => {}
        Some(Value::Object(o)) => {
            for (name, values) in o {
                add(name, values)?;
            }
        }
        Some(Value::Array(items)) => {
            for item in items {
                let name = item.get("name").and_then(Value::as_str).unwrap_or_default();
                add(name, item.get("values").unwrap_or(&Value::Null))?;
            }
        }
        Some(_) => return Err(MockError::invalid(at, "an object of name: [values]")),
    }
    Ok(out)
}

/// A response body and the content type it implies.
fn body(v: Option<&Value>, at: &str) -> Result<(Bytes, Option<&'static str>), MockError> {
    let Some(v) = v else {
        return Ok((Bytes::new(), None));
    };
    let json_body = |doc: &Value| (Bytes::from(doc.to_string()), Some("application/json"));
    match v {
        Value::String(s) => Ok((Bytes::from(s.clone()), None)),
        Value::Object(o) => match o.get("type").and_then(Value::as_str) {
            Some("STRING") => {
                let s = o.get("string").and_then(Value::as_str).unwrap_or_default();
                Ok((Bytes::from(s.to_string()), None))
            }
            Some("JSON") => Ok(json_body(o.get("json").unwrap_or(&Value::Null))),
            Some("BINARY") => super::base64_bytes(o)
                .map(|b| (Bytes::from(b), None))
                .ok_or_else(|| MockError::invalid(&format!("{at}.base64Bytes"), "base64")),
            _ => Ok(json_body(v)),
        },
        other => Ok(json_body(other)),
    }
}

fn sse_response(v: &Value, at: &str) -> Result<SseResponse, MockError> {
    let obj = object(v, at)?;
    // `closeConnection`: MockServer's, and what llmspy does anyway (the
    // stream ends after its events).
    let known = ["statusCode", "headers", "events", "closeConnection"];
    super::fields::only(obj, &known, at)?;
    let events = obj
        .get("events")
        .and_then(Value::as_array)
        .ok_or_else(|| MockError::invalid(&format!("{at}.events"), "an array of events"))?;
    let events = events
        .iter()
        .enumerate()
        .map(|(i, e)| sse_event(e, &format!("{at}.events[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SseResponse {
        status: status(obj, at)?,
        headers: headers(obj.get("headers"), &format!("{at}.headers"))?,
        events,
    })
}

fn sse_event(v: &Value, at: &str) -> Result<SseEventOut, MockError> {
    let obj = object(v, at)?;
    super::fields::only(obj, &["event", "data", "id", "retry", "delay"], at)?;
    let text = |k: &str| obj.get(k).and_then(Value::as_str).map(String::from);
    let data = match obj.get("data") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    Ok(SseEventOut {
        event: text("event"),
        data,
        id: text("id"),
        retry: obj.get("retry").and_then(Value::as_u64),
        delay: delay(obj.get("delay"), &format!("{at}.delay"))?,
    })
}

fn forward(v: &Value, at: &str) -> Result<ForwardOverride, MockError> {
    let obj = object(v, at)?;
    super::fields::only(obj, &["scheme", "host", "port"], at)?;
    Ok(ForwardOverride {
        scheme: obj
            .get("scheme")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase),
        host: obj.get("host").and_then(Value::as_str).map(String::from),
        port: obj
            .get("port")
            .and_then(Value::as_u64)
            .and_then(|p| u16::try_from(p).ok()),
        ..ForwardOverride::default()
    })
}

/// `{"httpRequest"|"requestOverride": {path, headers, body, socketAddress}}`.
fn override_forward(v: &Value, at: &str) -> Result<ForwardOverride, MockError> {
    let obj = object(v, at)?;
    super::fields::only(obj, &["requestOverride", "httpRequest"], at)?;
    let (inner, p) = match obj.get("requestOverride") {
        Some(r) => (r, format!("{at}.requestOverride")),
        None => (
            obj.get("httpRequest").unwrap_or(&Value::Null),
            format!("{at}.httpRequest"),
        ),
    };
    let req = object(inner, &p)?;
    super::fields::only(req, &["socketAddress", "path", "headers", "body"], &p)?;
    let mut out = match req.get("socketAddress") {
        Some(addr) => forward(addr, &format!("{p}.socketAddress"))?,
        None => ForwardOverride::default(),
    };
    out.path = req.get("path").and_then(Value::as_str).map(String::from);
    out.headers = headers(req.get("headers"), &format!("{p}.headers"))?;
    if req.get("body").is_some() {
        out.body = Some(body(req.get("body"), &format!("{p}.body"))?.0);
    }
    Ok(out)
}

#[cfg(test)]
mod hint_tests {
    use super::*;

    #[test]
    fn a_misspelt_action_gets_a_hint() {
        let obj = serde_json::json!({"httpRequest": {}, "httpRespons": {}});
        let err = Action::from_expectation(obj.as_object().unwrap(), "$[0]").unwrap_err();
        assert!(
            err.to_string()
                .contains("found \"httpRespons\": did you mean httpResponse?"),
            "{err}"
        );
        let obj = serde_json::json!({"httpRequest": {}});
        let err = Action::from_expectation(obj.as_object().unwrap(), "$[0]").unwrap_err();
        assert!(!err.to_string().contains("did you mean"), "{err}");
    }

    #[test]
    fn an_event_stream_replays_one_message_per_chunk() {
        let frame = |p: &str| crate::eventstream::encode(&[(":event-type", "chunk")], p.as_bytes());
        let body: Vec<u8> = [frame("{}"), frame("{\"a\":1}"), frame("{}")].concat();
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &body);
        let v = serde_json::json!({
            "statusCode": 200,
            "headers": {"content-type": ["application/vnd.amazon.eventstream"]},
            "body": {"type": "BINARY", "base64Bytes": b64},
            "frameDelay": {"timeUnit": "MILLISECONDS", "value": 5}
        });
        let played = static_response(&v, "$").unwrap().play("x");
        assert_eq!(played.chunks.len(), 3);
        assert_eq!(played.chunks[1].delay, Duration::from_millis(5));
        let joined: Vec<u8> = played.chunks.iter().flat_map(|c| c.data.to_vec()).collect();
        assert_eq!(joined, body);
    }
}
