//! Exchanges built by hand with fixed ids and times, so export snapshots
//! are stable: Anthropic (plain, gzip, streamed), Gemini (two models, key
//! in the query), OpenAI (GET with bearer), Ollama (NDJSON) and a failure.

use std::io::Write;

use chrono::{DateTime, TimeZone, Utc};
use llmspy::exchange::{
    Body, Chunk, Exchange, Failure, FailureKind, Request, Response, Source, State, Timings, Via,
};

pub const ANTHROPIC_SSE: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_2\",\"model\":\"claude-sonnet-4-5\",\"role\":\"assistant\",\"content\":[],\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" world\"}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

const OLLAMA_NDJSON: &str = "{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"done\":false}\n{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"!\"},\"done\":false}\n{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"eval_count\":2}\n";

fn at(second: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, second)
        .single()
        .expect("valid fixed time")
}

fn headers(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn gzip(text: &str) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).expect("gzip in memory");
    enc.finish().expect("gzip in memory")
}

struct Spec<'a> {
    id: u64,
    method: &'a str,
    scheme: &'a str,
    host: &'a str,
    port: u16,
    path: &'a str,
    req_headers: &'a [(&'a str, &'a str)],
    req_body: &'a str,
}

fn exchange(s: Spec, response: Option<Response>) -> Exchange {
    Exchange {
        id: s.id,
        started_at: at(s.id as u32),
        client_addr: Some("127.0.0.1:50000".into()),
        client_app: None,
        via: Via::Connect,
        request: Request {
            method: s.method.into(),
            scheme: s.scheme.into(),
            host: s.host.into(),
            port: s.port,
            path: s.path.into(),
            version: "HTTP/1.1".into(),
            headers: headers(s.req_headers),
            body: Body::from_bytes(s.req_body.as_bytes()),
        },
        response,
        chunks: vec![],
        timings: Timings {
            request_done_us: Some(1_200),
            response_head_us: Some(250_000),
            first_byte_us: Some(251_000),
            end_us: Some(300_500),
        },
        state: State::Complete,
        source: Source::Upstream,
        websocket: None,
    }
}

fn response(status: u16, list: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Option<Response> {
    Some(Response {
        status,
        version: "HTTP/1.1".into(),
        headers: headers(list),
        body: Body::from_bytes(body),
    })
}

fn anthropic(id: u64, body: &str) -> Spec<'_> {
    Spec {
        id,
        method: "POST",
        scheme: "https",
        host: "api.anthropic.com",
        port: 443,
        path: "/v1/messages",
        req_headers: &[
            ("content-type", "application/json"),
            ("x-api-key", "sk-ant-secret"),
            ("anthropic-version", "2023-06-01"),
        ],
        req_body: body,
    }
}

/// The sample capture, in id order.
pub fn all() -> Vec<Exchange> {
    let plain = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Hi!"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":8,"output_tokens":3}}"#;
    let mut out = vec![
        exchange(
            anthropic(
                1,
                r#"{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"Hi"}]}"#,
            ),
            response(
                200,
                &[
                    ("content-type", "application/json"),
                    ("content-encoding", "gzip"),
                    ("request-id", "req_1"),
                ],
                gzip(plain),
            ),
        ),
        streamed_anthropic(),
    ];
    out.extend(gemini());
    out.push(openai_model());
    out.push(ollama());
    out.push(failed());
    out
}

fn streamed_anthropic() -> Exchange {
    let body = r#"{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"system":"Be brief.","messages":[{"role":"user","content":"Say hello"}]}"#;
    let mut ex = exchange(
        anthropic(2, body),
        response(
            200,
            &[
                ("content-type", "text/event-stream; charset=utf-8"),
                ("cache-control", "no-cache"),
            ],
            ANTHROPIC_SSE,
        ),
    );
    ex.chunks = chunk_at_events(ANTHROPIC_SSE, 250_000, 40_000);
    ex.timings.end_us = Some(410_500);
    ex
}

/// One chunk per SSE event (or NDJSON line), `gap_us` apart.
fn chunk_at_events(body: &str, first_us: u64, gap_us: u64) -> Vec<Chunk> {
    let separator = if body.contains("\n\n") { "\n\n" } else { "\n" };
    let mut offset = 0u64;
    body.split_inclusive(separator)
        .enumerate()
        .map(|(i, piece)| {
            let c = Chunk {
                at_us: first_us + gap_us * i as u64,
                offset,
                len: piece.len() as u64,
            };
            offset += piece.len() as u64;
            c
        })
        .collect()
}

fn gemini() -> Vec<Exchange> {
    let req = r#"{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"generationConfig":{"temperature":0.2}}"#;
    let resp = r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Hello"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":2,"candidatesTokenCount":1}}"#;
    let spec = |id, path| Spec {
        id,
        method: "POST",
        scheme: "https",
        host: "generativelanguage.googleapis.com",
        port: 443,
        path,
        req_headers: &[("content-type", "application/json")],
        req_body: req,
    };
    let json = [("content-type", "application/json; charset=UTF-8")];
    vec![
        exchange(
            spec(
                3,
                "/v1beta/models/gemini-2.0-flash:generateContent?key=AIza-secret",
            ),
            response(200, &json, resp),
        ),
        exchange(
            spec(
                4,
                "/v1beta/models/gemini-2.5-pro:generateContent?key=AIza-secret",
            ),
            response(
                429,
                &json,
                r#"{"error":{"code":429,"message":"Resource exhausted","status":"RESOURCE_EXHAUSTED"}}"#,
            ),
        ),
    ]
}

fn openai_model() -> Exchange {
    exchange(
        Spec {
            id: 5,
            method: "GET",
            scheme: "https",
            host: "api.openai.com",
            port: 443,
            path: "/v1/models/gpt-4o",
            req_headers: &[
                ("authorization", "Bearer sk-proj-secret"),
                ("openai-organization", "org-1"),
            ],
            req_body: "",
        },
        response(
            200,
            &[
                ("content-type", "application/json"),
                ("set-cookie", "__cf_bm=abc; path=/; HttpOnly"),
            ],
            r#"{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"system"}"#,
        ),
    )
}

fn ollama() -> Exchange {
    let mut ex = exchange(
        Spec {
            id: 6,
            method: "POST",
            scheme: "http",
            host: "localhost",
            port: 11434,
            path: "/api/chat",
            req_headers: &[("content-type", "application/json")],
            req_body: r#"{"model":"llama3.2","messages":[{"role":"user","content":"Hi"}]}"#,
        },
        response(
            200,
            &[("content-type", "application/x-ndjson")],
            OLLAMA_NDJSON,
        ),
    );
    ex.chunks = chunk_at_events(OLLAMA_NDJSON, 251_000, 24_000);
    ex
}

fn failed() -> Exchange {
    let mut ex = exchange(
        Spec {
            id: 7,
            method: "POST",
            scheme: "https",
            host: "api.anthropic.com",
            port: 443,
            path: "/v1/messages/count_tokens",
            req_headers: &[
                ("content-type", "application/json"),
                ("x-api-key", "sk-ant-secret"),
            ],
            req_body: r#"{"model":"claude-sonnet-4-5","messages":[]}"#,
        },
        None,
    );
    ex.state = State::Failed(Failure::new(
        FailureKind::UpstreamConnect,
        "could not connect to api.anthropic.com:443: connection refused",
    ));
    ex.timings = Timings {
        request_done_us: Some(900),
        end_us: Some(3_000),
        ..Timings::default()
    };
    ex
}

/// The reassembled text a parser would give for the streamed exchange:
/// stands in for `crate::llm` in these tests.
pub fn assistant_text(ex: &Exchange) -> Option<String> {
    (ex.id == 2).then(|| "Hello world".to_string())
}

/// The same capture pointed at a local upstream (plain HTTP), for the
/// importers that actually send the requests.
pub fn retargeted(host: &str, port: u16) -> Vec<Exchange> {
    let mut list = all();
    for ex in &mut list {
        ex.request.scheme = "http".into();
        ex.request.host = host.into();
        ex.request.port = port;
    }
    list
}
