//! Entry points for fuzzing every parser that reads bytes from the network
//! or from files. Each takes arbitrary bytes and must return without
//! panicking, hanging or allocating without bound. They are shared by the
//! property tests (`tests/it/fuzz.rs`, in `cargo test`) and the cargo-fuzz
//! targets (`fuzz/`, long runs), so both exercise exactly the same code.

use std::path::Path;
use std::time::Duration;

use crate::exchange::{Chunk, Exchange};

/// A fuzz entry point: bytes in, a panic on a bug.
pub type Target = fn(&[u8]);

/// The targets by name, as the fuzz crate and the property tests list them.
pub const TARGETS: &[(&str, Target)] = &[
    ("sniff", sniff),
    ("socks5", socks5),
    ("sse", sse),
    ("grpc", grpc),
    ("llm", llm),
    ("mcp", mcp),
    ("filter", filter),
    ("expectations", expectations),
    ("har", har),
    ("saved", saved),
];

/// The first-bytes sniffer, on every prefix.
pub fn sniff(data: &[u8]) {
    for end in 0..=data.len().min(64) {
        let _ = crate::engine::sniff::classify(&data[..end]);
    }
}

/// The SOCKS5 handshake as the engine runs it, against a client that sends
/// `data` and hangs up.
pub fn socks5(data: &[u8]) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    else {
        return;
    };
    rt.block_on(async {
        use tokio::io::AsyncWriteExt;
        let (mut client, mut server) = tokio::io::duplex(64 * 1024);
        let _ = client.write_all(data).await;
        let _ = client.shutdown().await;
        // A well-formed handshake ends when the bytes do; anything longer
        // is a hang.
        let done = tokio::time::timeout(
            Duration::from_secs(5),
            crate::engine::socks5::handshake(&mut server, None),
        )
        .await;
        assert!(done.is_ok(), "the SOCKS5 handshake hung on {data:?}");
    });
}

/// The SSE and NDJSON decoders.
pub fn sse(data: &[u8]) {
    let _ = crate::sse::parse_sse(data);
    let _ = crate::sse::parse_ndjson(data);
}

/// gRPC's message framing, and each message read as protobuf.
pub fn grpc(data: &[u8]) {
    for message in crate::grpc::messages(data).messages {
        let _ = crate::grpc::outline(message.payload);
    }
    let _ = crate::grpc::outline(data);
}

/// Paths and content types that reach each provider's parser.
const ROUTES: &[(&str, &str)] = &[
    ("/v1/messages", "text/event-stream"),
    ("/v1/messages", "application/json"),
    ("/v1/chat/completions", "text/event-stream"),
    ("/v1/chat/completions", "application/json"),
    ("/v1/responses", "text/event-stream"),
    ("/v1/responses", "application/json"),
    (
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
        "text/event-stream",
    ),
    (
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        "application/json",
    ),
    (
        "/v1beta/models/gemini-2.5-flash:generateContent",
        "application/json",
    ),
    ("/api/chat", "application/x-ndjson"),
    ("/api/generate", "application/x-ndjson"),
    ("/api/chat", "application/json"),
    ("/mcp", "text/event-stream"),
    ("/mcp", "application/json"),
    ("/sse", "text/event-stream"),
];

/// Every provider parser: the first byte picks the API, the second where
/// the rest splits into request and response body.
pub fn llm(data: &[u8]) {
    let [pick, split, rest @ ..] = data else {
        return;
    };
    let (path, content_type) = ROUTES[*pick as usize % ROUTES.len()];
    let at = rest.len() * (*split as usize) / 255;
    let ex = exchange(path, &rest[..at], content_type, &rest[at..]);
    analyse(&ex);
}

/// MCP JSON-RPC decoding, over JSON and SSE replies.
pub fn mcp(data: &[u8]) {
    let [pick, split, rest @ ..] = data else {
        return;
    };
    let content_type = if pick % 2 == 0 {
        "application/json"
    } else {
        "text/event-stream"
    };
    let at = rest.len() * (*split as usize) / 255;
    let ex = exchange("/mcp", &rest[..at], content_type, &rest[at..]);
    let _ = crate::mcp::looks_like_mcp(&ex, None);
    let _ = crate::mcp::decode(&ex);
}

/// The `~` filter language, parsed and evaluated.
pub fn filter(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(f) = crate::filter::parse(&text) {
        let ex = exchange("/v1/messages", b"{}", "application/json", b"{}");
        let _ = f.matches(&ex, None);
    }
}

/// Expectation files and recorded fixtures (`--init`), parsed as the
/// loader does.
pub fn expectations(data: &[u8]) {
    if let Ok(doc) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = crate::mock::expectation::parse_document(&doc, "fuzz-");
        let _ = crate::mock::fixtures::notes(&doc);
    }
}

/// HAR import (`llmspy open FILE.har`).
pub fn har(data: &[u8]) {
    if let Ok(doc) = serde_json::from_slice::<serde_json::Value>(data)
        && crate::export::har_import::is_har(&doc)
        && let Ok(exchanges) = crate::export::har_import::exchanges(&doc)
    {
        exchanges.iter().for_each(analyse);
    }
}

/// Saved captures (`--save` JSON lines, native JSON, HAR), then the
/// analysers on whatever loaded: mutated fixtures reach every parser.
pub fn saved(data: &[u8]) {
    if let Ok(exchanges) = crate::capture::save::read(Path::new("fuzz-input"), data) {
        exchanges.iter().for_each(analyse);
    }
}

fn analyse(ex: &Exchange) {
    let _ = crate::llm::detect(ex);
    if let Some(analysis) = crate::llm::analyse(ex) {
        let mut threads = crate::llm::ThreadTracker::new();
        let _ = crate::capture::analysis_of(ex, &mut threads);
        let _ = analysis.summary();
    }
    let _ = crate::mcp::decode(ex);
}

fn exchange(path: &str, request: &[u8], content_type: &str, response: &[u8]) -> Exchange {
    let len = response.len() as u64;
    Exchange::builder()
        .client_addr("127.0.0.1:4000")
        .method(if path == "/sse" { "GET" } else { "POST" })
        .path(path)
        .header("content-type", "application/json")
        .body(request)
        .response_header("content-type", content_type)
        .response_body(response)
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
