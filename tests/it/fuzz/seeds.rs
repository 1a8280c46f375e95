//! The fuzz seed corpus and mutator, shared by the property tests
//! (`tests/it/fuzz.rs`) and the timed runs (`benches/fuzz/`): seeds come
//! from `fixtures/` and what llmspy derives from them (HAR exports,
//! recorded expectation fixtures, bodies).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use llmspy::exchange::Exchange;
use proptest::prelude::*;

fn fixture_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("fixtures") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
        &mut out,
    );
    out.sort();
    out
}

fn fixtures() -> Vec<(Vec<u8>, Exchange)> {
    fixture_files()
        .into_iter()
        .map(|p| {
            let raw = std::fs::read(&p).expect("read fixture");
            let ex = llmspy::capture::save::load(&p)
                .expect("fixture loads")
                .remove(0);
            (raw, ex)
        })
        .collect()
}

/// Each target's name and seeds.
type Corpus = Vec<(&'static str, Vec<Vec<u8>>)>;

/// Seeds for each target, built once.
pub fn corpus(target: &str) -> &'static [Vec<u8>] {
    static ALL: OnceLock<Corpus> = OnceLock::new();
    let all = ALL.get_or_init(build_corpus);
    all.iter()
        .find(|(name, _)| *name == target)
        .map(|(_, seeds)| seeds.as_slice())
        .unwrap_or_else(|| panic!("no corpus for {target}"))
}

fn build_corpus() -> Corpus {
    let fixtures = fixtures();
    let exchanges: Vec<Exchange> = fixtures.iter().map(|(_, ex)| ex.clone()).collect();
    let bodies = |ex: &Exchange| {
        let req = ex.request.body.bytes.clone();
        let resp = ex
            .response
            .as_ref()
            .map(|r| r.body.bytes.clone())
            .unwrap_or_default();
        (req, resp)
    };
    // `llm`/`mcp` inputs: route byte, split byte, request body, response body.
    let routed = |ex: &Exchange| {
        let (req, resp) = bodies(ex);
        let total = (req.len() + resp.len()).max(1);
        let split = (req.len() * 255 / total) as u8;
        let ct = ex
            .response
            .as_ref()
            .and_then(|r| llmspy::exchange::header(&r.headers, "content-type"))
            .unwrap_or("")
            .to_string();
        let pick = route_for(&ex.request.path, &ct);
        let mut input = vec![pick, split];
        input.extend_from_slice(&req);
        input.extend_from_slice(&resp);
        input
    };
    let har = llmspy::export::render(
        llmspy::export::Format::Har,
        &exchanges,
        &llmspy::export::Options::default(),
    )
    .expect("HAR");
    let recorded = llmspy::mock::fixtures::record(&exchanges, &Default::default());
    let expectation_doc = serde_json::to_vec_pretty(&recorded.doc).expect("fixture JSON");
    let jsonl: Vec<u8> = exchanges
        .iter()
        .flat_map(|ex| {
            let mut line = serde_json::to_vec(&llmspy::export::native::to_json(ex)).expect("line");
            line.push(b'\n');
            line
        })
        .collect();
    vec![
        (
            "sniff",
            vec![
                b"GET / HTTP/1.1\r\n".to_vec(),
                b"CONNECT api.openai.com:443 HTTP/1.1\r\n".to_vec(),
                b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(),
                vec![0x16, 0x03, 0x01, 0x02, 0x00, 0x01],
                vec![5, 1, 0],
            ],
        ),
        (
            "socks5",
            vec![
                vec![5, 1, 0, 5, 1, 0, 3, 4, b'h', b'o', b's', b't', 0, 80],
                vec![5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, 1, 187],
                [vec![5, 2, 2, 0, 5, 1, 0, 4], vec![0; 15], vec![1, 1, 187]].concat(),
            ],
        ),
        ("sse", exchanges.iter().map(|ex| bodies(ex).1).collect()),
        (
            "grpc",
            vec![
                // 1: "pong", 2 { 1: 7 }; then a compressed empty message.
                [
                    &[0u8, 0, 0, 0, 10, 0x0a, 4][..],
                    b"pong",
                    &[0x12, 2, 0x08, 7],
                    &[1, 0, 0, 0, 0],
                ]
                .concat(),
                // A gRPC-Web trailers frame.
                [&[0x80u8, 0, 0, 0, 15][..], b"grpc-status: 0\n"].concat(),
                // Fixed32, fixed64 and a varint of ten bytes.
                [
                    &[0u8, 0, 0, 0, 25, 0x25, 1, 0, 0, 0, 0x29][..],
                    &[0, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0x08],
                    &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
                ]
                .concat(),
            ],
        ),
        ("llm", exchanges.iter().map(routed).collect()),
        (
            "mcp",
            exchanges
                .iter()
                .filter(|ex| ex.request.path.contains("mcp") || ex.request.path == "/sse")
                .map(routed)
                .collect(),
        ),
        (
            "filter",
            [
                "~p anthropic & ~c 200",
                "!~c 2xx | ~m gpt-4o",
                "~b \"tool_use\" & (~h x-api-key | ~q stream)",
                "~u /v1/.*messages",
                "~t > 1000 & ~failed",
            ]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect(),
        ),
        ("expectations", vec![expectation_doc]),
        ("har", vec![har]),
        (
            "saved",
            fixtures
                .iter()
                .map(|(raw, _)| raw.clone())
                .chain([jsonl])
                .collect(),
        ),
    ]
}

/// The `llmspy::fuzz` route byte for a path and content type.
fn route_for(path: &str, content_type: &str) -> u8 {
    let streamed = llmspy::exchange::is_event_stream(Some(content_type));
    let prefixes = [
        ("/v1/messages", 0),
        ("/v1/chat/completions", 2),
        ("/v1/responses", 4),
        ("/api/chat", 9),
        ("/api/generate", 10),
        ("/mcp", 12),
        ("/sse", 14),
    ];
    if path.contains(":streamGenerateContent") {
        return if path.contains("alt=sse") { 6 } else { 7 };
    }
    if path.contains(":generateContent") {
        return 8;
    }
    prefixes
        .iter()
        .find(|(p, _)| path.contains(p))
        .map_or(0, |(_, i)| if streamed { *i } else { i + 1 })
}

/// One edit to a seed: overwrite, insert, delete, duplicate or truncate.
#[derive(Debug, Clone)]
pub struct Edit {
    kind: u8,
    at: usize,
    len: usize,
    byte: u8,
}

pub fn edits() -> impl Strategy<Value = Vec<Edit>> {
    proptest::collection::vec(
        (0u8..5, any::<usize>(), 0usize..64, any::<u8>()).prop_map(|(kind, at, len, byte)| Edit {
            kind,
            at,
            len,
            byte,
        }),
        1..8,
    )
}

pub fn mutate(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for e in edits {
        let at = if out.is_empty() {
            0
        } else {
            e.at % (out.len() + 1)
        };
        let end = (at + e.len).min(out.len());
        match e.kind {
            0 if at < out.len() => out[at] = e.byte,
            1 => out
                .splice(at..at, std::iter::repeat_n(e.byte, e.len.max(1)))
                .for_each(drop),
            2 => {
                out.drain(at..end);
            }
            3 => {
                let copy = out[at..end].to_vec();
                out.splice(at..at, copy).for_each(drop);
            }
            _ => out.truncate(at),
        }
    }
    out
}

pub fn target(name: &str) -> fn(&[u8]) {
    llmspy::fuzz::TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
        .unwrap_or_else(|| panic!("no fuzz target {name}"))
}
