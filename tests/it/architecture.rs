//! The import rules of docs/DESIGN-NOTES.md, checked by reading src/.
//!
//! One crate can't enforce layering, so this test does: it fails naming the
//! file, the line and the rule ("src/llm/gemini.rs:12 uses tokio: parsers
//! must be IO-free"). Test modules (from the first `#[cfg(test)]` on) are
//! not checked: tests may use files and sockets.

use std::path::{Path, PathBuf};

/// (files the rule covers, forbidden path prefixes, why)
struct Rule {
    covers: fn(&str) -> bool,
    forbidden: &'static [&'static str],
    why: &'static str,
}

const IO: &[&str] = &[
    "tokio::",
    "hyper::",
    "hyper_util::",
    "rustls::",
    "tokio_rustls::",
    "std::net",
    "std::fs",
    "std::process",
];

fn is_pure(p: &str) -> bool {
    [
        "src/sse.rs",
        "src/mcp",
        "src/llm/",
        "src/pricing.rs",
        "src/filter",
        "src/export/",
        "src/redact",
        "src/content.rs",
    ]
    .iter()
    .any(|prefix| p.starts_with(prefix))
        || (p.starts_with("src/mock/") && !p.contains("load"))
}

const RULES: &[Rule] = &[
    Rule {
        covers: |p| p == "src/exchange.rs",
        forbidden: &["crate::"],
        why: "the exchange model depends on nothing else in the crate",
    },
    Rule {
        covers: is_pure,
        forbidden: IO,
        why: "parsers, analysers and exporters must be IO-free",
    },
    Rule {
        covers: is_pure,
        forbidden: &[
            "crate::engine",
            "crate::capture",
            "crate::tui",
            "crate::api",
            "crate::cli",
        ],
        why: "pure modules sit below the store and its consumers",
    },
    Rule {
        covers: |p| p.starts_with("src/capture/"),
        forbidden: &[
            "crate::engine",
            "crate::tui",
            "crate::api",
            "crate::cli",
            "std::net",
            "hyper::",
        ],
        why: "the store knows nothing of sockets or its consumers",
    },
    Rule {
        covers: |p| p.starts_with("src/capture/") && !p.ends_with("save.rs"),
        forbidden: &["std::fs"],
        why: "only capture/save.rs touches files",
    },
    Rule {
        covers: |p| p.starts_with("src/engine/"),
        forbidden: &[
            "crate::tui",
            "crate::export",
            "crate::llm",
            "crate::api",
            "crate::cli",
            "crate::headless",
        ],
        why: "the engine relays and records; it never parses, exports or draws",
    },
    Rule {
        covers: |p| p.starts_with("src/tui/") || p == "src/headless.rs",
        forbidden: &[
            "crate::engine",
            "crate::api",
            "crate::ca",
            "hyper::",
            "tokio::net",
            "rustls::",
            "std::net",
        ],
        why: "front ends read the store and never touch sockets",
    },
    Rule {
        covers: |p| p.starts_with("src/api/"),
        forbidden: &[
            "crate::tui",
            "crate::engine::relay",
            "crate::engine::tee",
            "crate::engine::mitm",
            "crate::engine::listener",
        ],
        why: "the API reads the store through the engine's public seam only",
    },
    Rule {
        covers: |p| p.starts_with("src/sessions/"),
        forbidden: &[
            "tokio::",
            "hyper::",
            "std::net",
            "std::fs",
            "crate::engine",
            "crate::tui",
            "crate::api",
            "crate::cli",
        ],
        why: "the sessions story is a pure function of captured records",
    },
    Rule {
        covers: |p| !p.starts_with("src/cli/") && p != "src/main.rs",
        forbidden: &["anyhow::", "anyhow!"],
        why: "anyhow belongs at the binary edge (src/cli, main); modules use thiserror",
    },
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Lines of code that count: before any test module, not comments.
fn checked_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .take_while(|(_, l)| !l.trim_start().starts_with("#[cfg(test)]"))
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l))
}

fn violations() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut found = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(root)
            .expect("under root")
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&file).expect("read");
        for rule in RULES.iter().filter(|r| (r.covers)(&rel)) {
            for (line_no, line) in checked_lines(&text) {
                // `use super::…` paths resolve inside the module; only
                // crate-absolute and external paths can cross a layer.
                if seam_import(line) {
                    continue;
                }
                if let Some(bad) = rule.forbidden.iter().find(|f| mentions(line, f)) {
                    found.push(format!("{rel}:{line_no} uses {bad}: {}", rule.why));
                }
            }
        }
    }
    found
}

/// The mock responder seam: plain data types the engine plays and
/// `crate::mock` produces. Importing them crosses no layer.
const SEAM: &[&str] = &[
    "Decision",
    "ForwardOverride",
    "MockChunk",
    "MockResponse",
    "Responder",
];

fn seam_import(line: &str) -> bool {
    let Some(rest) = line.trim().strip_prefix("use crate::engine::") else {
        return false;
    };
    let names = rest
        .trim_end_matches(';')
        .trim_start_matches('{')
        .trim_end_matches('}');
    names
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .all(|n| SEAM.contains(&n))
}

/// True when `line` names `path` as a path (not inside a longer identifier).
fn mentions(line: &str, path: &str) -> bool {
    line.match_indices(path).any(|(i, _)| {
        let before = line[..i].chars().next_back();
        let after = line[i + path.len()..].chars().next();
        let joined_before = before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
        let joined_after =
            !path.ends_with(':') && after.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !joined_before && !joined_after
    })
}

#[test]
fn modules_respect_the_layering() {
    let v = violations();
    assert!(v.is_empty(), "architecture rules broken:\n{}", v.join("\n"));
}

#[test]
fn the_checker_catches_a_violation() {
    assert!(mentions("use tokio::net::TcpStream;", "tokio::"));
    assert!(!mentions("use my_tokio::x;", "tokio::"));
    assert!(!mentions("crate::llm::tokio::x", "tokio::"));
    assert!(!mentions("use crate::capture::StoreReader;", "crate::ca"));
    assert!(mentions(
        "use crate::ca::CertificateAuthority;",
        "crate::ca"
    ));
    assert!(seam_import("use crate::engine::{Decision, MockResponse};"));
    assert!(!seam_import("use crate::engine::{Decision, Shared};"));
    let rule = &RULES[1];
    assert!((rule.covers)("src/llm/gemini.rs"));
    assert!(!(rule.covers)("src/engine/relay.rs"));
    let lines: Vec<_> =
        checked_lines("use a;\n// use tokio::x;\n#[cfg(test)]\nuse tokio::y;").collect();
    assert_eq!(lines, vec![(1, "use a;")]);
}
