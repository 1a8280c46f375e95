//! Property tests: no request or response body, however broken, makes an
//! analyser panic, for every API path and framing.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::threads::ThreadTracker;
use super::{analyse, detect};
use crate::exchange::{Chunk, Exchange};

const PATHS: &[&str] = &[
    "/v1/messages",
    "/v1/chat/completions",
    "/v1/responses",
    "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    "/v1beta/models/gemini-2.5-flash:generateContent",
    "/api/chat",
    "/api/generate",
    "/mcp",
    "/sse",
    "/anything",
];

const TYPES: &[&str] = &[
    "application/json",
    "text/event-stream",
    "application/x-ndjson",
    "text/plain",
];

fn exchange(path: &str, req: Vec<u8>, ct: &str, status: u16, resp: Vec<u8>) -> Exchange {
    let len = resp.len() as u64;
    Exchange::builder()
        .client_addr("127.0.0.1:4000")
        .method(if path == "/sse" { "GET" } else { "POST" })
        .path(path)
        .header("content-type", "application/json")
        .body(req)
        .status(status)
        .response_header("content-type", ct)
        .response_body(resp)
        .chunks([
            Chunk {
                at_us: 100,
                offset: 0,
                len: len / 2,
            },
            Chunk {
                at_us: 900,
                offset: len / 2,
                len: len - len / 2,
            },
        ])
        .build()
}

/// Words providers use as `type` values and the like.
const WORDS: &[&str] = &[
    "text",
    "tool_use",
    "tool_result",
    "thinking",
    "image",
    "message_start",
    "content_block_start",
    "content_block_delta",
    "message_delta",
    "error",
    "function_call",
    "reasoning",
    "response.completed",
    "response.output_item.added",
    "response.output_text.delta",
    "input_json_delta",
    "2.0",
];

/// Keys of provider payloads, so the parsers' branches run.
const KEYS: &[&str] = &[
    "type",
    "model",
    "messages",
    "content",
    "role",
    "delta",
    "index",
    "usage",
    "choices",
    "tool_calls",
    "function",
    "arguments",
    "input",
    "output",
    "parts",
    "candidates",
    "contents",
    "message",
    "done",
    "error",
    "system",
    "tools",
    "jsonrpc",
    "id",
    "method",
    "result",
    "params",
    "response",
    "item",
    "output_index",
    "content_block",
    "usageMetadata",
    "input_tokens",
    "text",
];

/// JSON built from provider words and keys.
fn provider_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        "[ -~]{0,16}".prop_map(Value::String),
        proptest::sample::select(WORDS).prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let key = proptest::sample::select(KEYS).prop_map(str::to_string);
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(key, inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A response body of JSON events in the framing `ct` implies.
fn framed(ct: &str, events: &[Value]) -> Vec<u8> {
    let mut out = String::new();
    for e in events {
        match ct {
            "text/event-stream" => out.push_str(&format!("event: x\ndata: {e}\n\n")),
            "application/x-ndjson" => out.push_str(&format!("{e}\n")),
            _ => out.push_str(&e.to_string()),
        }
    }
    out.into_bytes()
}

fn run(ex: &Exchange) {
    let _ = detect(ex);
    if let Some(a) = analyse(ex) {
        let _ = a.api_json(Some(1));
        let _ = a.conversation_json(None);
        let _ = a.summary().log_line();
        ThreadTracker::new().observe(ex.id, &a, ex.client_addr.as_deref());
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(
        path in proptest::sample::select(PATHS),
        ct in proptest::sample::select(TYPES),
        status in prop_oneof![Just(200u16), Just(429u16), 100u16..600],
        req in proptest::collection::vec(any::<u8>(), 0..400),
        resp in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        run(&exchange(path, req, ct, status, resp));
    }

    #[test]
    fn arbitrary_provider_json_never_panics(
        path in proptest::sample::select(PATHS),
        ct in proptest::sample::select(TYPES),
        req in provider_json(),
        events in proptest::collection::vec(provider_json(), 0..6),
        cut in any::<proptest::sample::Index>(),
    ) {
        let body = framed(ct, &events);
        // Also cut the body anywhere, as the capture cap would.
        let keep = if body.is_empty() { 0 } else { cut.index(body.len() + 1) };
        let req = req.to_string().into_bytes();
        run(&exchange(path, req.clone(), ct, 200, body.clone()));
        run(&exchange(path, req, ct, 200, body[..keep].to_vec()));
    }
}
