//! Exchanges built by hand with fixed ids and times, so export snapshots
//! are stable: Anthropic (plain, gzip, streamed), Gemini (two models, key
//! in the query), OpenAI (GET with bearer), Ollama (NDJSON) and a failure.

use std::io::Write;

use chrono::{DateTime, TimeZone, Utc};
use llmspy::exchange::{Chunk, Exchange, ExchangeBuilder, FailureKind, Timings};

pub const ANTHROPIC_SSE: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_2\",\"model\":\"claude-sonnet-4-5\",\"role\":\"assistant\",\"content\":[],\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" world\"}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

const OLLAMA_NDJSON: &str = "{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"done\":false}\n{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"!\"},\"done\":false}\n{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"eval_count\":2}\n";

fn at(second: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, second)
        .single()
        .expect("valid fixed time")
}

fn gzip(text: &str) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).expect("gzip in memory");
    enc.finish().expect("gzip in memory")
}

/// The proxy's timings for a plain exchange, ending at `end_us`.
fn timings(end_us: u64) -> Timings {
    Timings {
        request_done_us: Some(1_200),
        response_head_us: Some(250_000),
        first_byte_us: Some(251_000),
        end_us: Some(end_us),
        resent_us: None,
    }
}

/// Exchange `id` as the proxy captured it: its start, client and timings.
fn captured(id: u64) -> ExchangeBuilder {
    Exchange::builder()
        .id(id)
        .started_at(at(id as u32))
        .client_addr("127.0.0.1:50000")
        .timings(timings(300_500))
}

fn anthropic(id: u64, body: &str) -> ExchangeBuilder {
    captured(id)
        .url("https://api.anthropic.com/v1/messages")
        .headers([
            ("content-type", "application/json"),
            ("x-api-key", "sk-ant-secret"),
            ("anthropic-version", "2023-06-01"),
        ])
        .body(body)
}

/// The sample capture, in id order.
pub fn all() -> Vec<Exchange> {
    let plain = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Hi!"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":8,"output_tokens":3}}"#;
    let mut out = vec![
        anthropic(
            1,
            r#"{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"Hi"}]}"#,
        )
        .response_headers([
            ("content-type", "application/json"),
            ("content-encoding", "gzip"),
            ("request-id", "req_1"),
        ])
        .response_body(gzip(plain))
        .build(),
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
    anthropic(2, body)
        .response_headers([
            ("content-type", "text/event-stream; charset=utf-8"),
            ("cache-control", "no-cache"),
        ])
        .response_body(ANTHROPIC_SSE)
        .chunks(chunk_at_events(ANTHROPIC_SSE, 250_000, 40_000))
        .timings(timings(410_500))
        .build()
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
    let call = |id, path| {
        captured(id)
            .host("generativelanguage.googleapis.com")
            .path(path)
            .header("content-type", "application/json")
            .body(req)
            .response_header("content-type", "application/json; charset=UTF-8")
    };
    vec![
        call(
            3,
            "/v1beta/models/gemini-2.0-flash:generateContent?key=AIza-secret",
        )
        .response_body(resp)
        .build(),
        call(
            4,
            "/v1beta/models/gemini-2.5-pro:generateContent?key=AIza-secret",
        )
        .status(429)
        .response_body(
            r#"{"error":{"code":429,"message":"Resource exhausted","status":"RESOURCE_EXHAUSTED"}}"#,
        )
        .build(),
    ]
}

fn openai_model() -> Exchange {
    captured(5)
        .method("GET")
        .url("https://api.openai.com/v1/models/gpt-4o")
        .headers([
            ("authorization", "Bearer sk-proj-secret"),
            ("openai-organization", "org-1"),
        ])
        .response_headers([
            ("content-type", "application/json"),
            ("set-cookie", "__cf_bm=abc; path=/; HttpOnly"),
        ])
        .response_body(
            r#"{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"system"}"#,
        )
        .build()
}

fn ollama() -> Exchange {
    captured(6)
        .url("http://localhost:11434/api/chat")
        .header("content-type", "application/json")
        .body(r#"{"model":"llama3.2","messages":[{"role":"user","content":"Hi"}]}"#)
        .response_header("content-type", "application/x-ndjson")
        .response_body(OLLAMA_NDJSON)
        .chunks(chunk_at_events(OLLAMA_NDJSON, 251_000, 24_000))
        .build()
}

fn failed() -> Exchange {
    captured(7)
        .url("https://api.anthropic.com/v1/messages/count_tokens")
        .headers([
            ("content-type", "application/json"),
            ("x-api-key", "sk-ant-secret"),
        ])
        .body(r#"{"model":"claude-sonnet-4-5","messages":[]}"#)
        .failed(
            FailureKind::UpstreamConnect,
            "could not connect to api.anthropic.com:443: connection refused",
        )
        .timings(Timings {
            request_done_us: Some(900),
            end_us: Some(3_000),
            ..Timings::default()
        })
        .build()
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
