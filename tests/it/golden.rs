//! Golden tests over `fixtures/`: every fixture is one captured exchange in
//! llmspy's native JSON form plus an `expect` object stating what must be
//! extracted (see `fixtures/README.md`). Each fixture's facts are checked
//! explicitly, then the whole analysis — conversation, reply, usage, cost,
//! timeline, MCP messages, notes — is kept as a JSON snapshot.

use std::path::Path;

use llmspy::exchange::Exchange;
use llmspy::export::native;
use llmspy::llm::{self, Analysis, Part};
use llmspy::pricing::PriceTable;
use serde_json::{Value, json};

fn load(path: &Path) -> (Exchange, Value) {
    let text = std::fs::read_to_string(path).expect("fixture is readable");
    let mut doc: Value = serde_json::from_str(&text).expect("fixture is JSON");
    let expect = doc
        .as_object_mut()
        .and_then(|o| o.remove("expect"))
        .expect("fixture has an expect object");
    let ex = native::parse_exchange(doc).expect("fixture loads as a native exchange");
    (ex, expect)
}

#[test]
fn fixtures() {
    insta::glob!("../../fixtures", "*/*.json", |path| {
        let (ex, expect) = load(path);
        // The embedded list, so an installed override cannot change results.
        let analysis = llm::analyse_with(&ex, PriceTable::embedded());
        let problems = check(analysis.as_ref(), &expect);
        assert!(
            problems.is_empty(),
            "{}:\n  {}",
            path.display(),
            problems.join("\n  ")
        );
        let snapshot = analysis.map(|a| a.conversation_json(None));
        insta::with_settings!({sort_maps => true, omit_expression => true}, {
            insta::assert_json_snapshot!(snapshot);
        });
    });
}

/// Every mismatch between the analysis and the fixture's expectations.
fn check(analysis: Option<&Analysis>, expect: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(a) = analysis else {
        if expect["kind"] != "other" {
            problems.push(format!("not recognised; expected kind {}", expect["kind"]));
        }
        return problems;
    };
    let api = a.api_json(None);
    let mut same = |what: &str, got: &Value, want: &Value| {
        if got != want {
            problems.push(format!("{what}: got {got}, want {want}"));
        }
    };
    for key in [
        "kind",
        "provider",
        "model",
        "stream",
        "usage",
        "stop_reason",
        "tool_calls",
    ] {
        if let Some(want) = expect.get(key) {
            same(key, &api[key], want);
        }
    }
    if let Some(want) = expect.get("text") {
        let got = api["assistant_text"].as_str().unwrap_or_default();
        same("text", &json!(got), want);
    }
    if let Some(want) = expect.get("thinking") {
        let got = a.reply.as_ref().map(|r| r.thinking()).unwrap_or_default();
        same("thinking", &json!(got), want);
    }
    check_cost(a, expect, &mut problems);
    check_error(&api, expect, &mut problems);
    check_notes(a, expect, &mut problems);
    check_request(a, expect, &mut problems);
    check_timeline(a, expect, &mut problems);
    check_mcp(a, expect, &mut problems);
    problems
}

fn check_cost(a: &Analysis, expect: &Value, problems: &mut Vec<String>) {
    let Some(want) = expect.get("cost_usd") else {
        return;
    };
    let ok = match (a.cost, want.as_f64()) {
        (None, None) => want.is_null(),
        (Some(got), Some(want)) => (got - want).abs() < 1e-9,
        _ => false,
    };
    if !ok {
        problems.push(format!("cost_usd: got {:?}, want {want}", a.cost));
    }
}

fn check_error(api: &Value, expect: &Value, problems: &mut Vec<String>) {
    let Some(want) = expect.get("error") else {
        return;
    };
    let got = &api["error"];
    match want.as_object() {
        None if got.is_null() => {}
        None => problems.push(format!("error: got {got}, want none")),
        Some(fields) => {
            for (k, v) in fields {
                if &got[k] != v {
                    problems.push(format!("error.{k}: got {}, want {v}", got[k]));
                }
            }
        }
    }
}

/// `notes: []` means none at all; otherwise each listed kind must appear.
fn check_notes(a: &Analysis, expect: &Value, problems: &mut Vec<String>) {
    let Some(want) = expect.get("notes").and_then(Value::as_array) else {
        return;
    };
    let kinds: Vec<Value> = a
        .notes
        .iter()
        .map(|n| serde_json::to_value(n.kind).unwrap_or_default())
        .collect();
    if want.is_empty() && !kinds.is_empty() {
        problems.push(format!("notes: expected none, got {:?}", a.notes));
    }
    for kind in want {
        if !kinds.contains(kind) {
            problems.push(format!("notes: no {kind} note in {:?}", a.notes));
        }
    }
}

fn check_request(a: &Analysis, expect: &Value, problems: &mut Vec<String>) {
    let req = &a.request;
    if let Some(want) = expect.get("system_contains").and_then(Value::as_str)
        && !req.system.as_deref().unwrap_or_default().contains(want)
    {
        problems.push(format!("system prompt lacks {want:?}: {:?}", req.system));
    }
    if let Some(want) = expect.get("request_messages") {
        let got = json!(req.messages.len());
        if &got != want {
            problems.push(format!("request messages: got {got}, want {want}"));
        }
    }
    if let Some(want) = expect.get("request_tools") {
        let got: Vec<&str> = req.tools.iter().map(|t| t.name.as_str()).collect();
        if &json!(got) != want {
            problems.push(format!("request tools: got {got:?}, want {want}"));
        }
    }
    if let Some(want) = expect.get("request_parts") {
        let got: Vec<String> = req
            .messages
            .last()
            .map(|m| m.parts.iter().map(part_type).collect())
            .unwrap_or_default();
        if &json!(got) != want {
            problems.push(format!("last message parts: got {got:?}, want {want}"));
        }
    }
    if let Some(want) = expect.get("tool_results") {
        let got: Vec<Value> = req
            .messages
            .iter()
            .flat_map(|m| &m.parts)
            .filter_map(|p| match p {
                Part::ToolResult(r) => Some(json!({"id": r.id, "is_error": r.is_error})),
                _ => None,
            })
            .collect();
        if &json!(got) != want {
            problems.push(format!("tool results: got {got:?}, want {want}"));
        }
    }
}

fn part_type(p: &Part) -> String {
    let v = serde_json::to_value(p).unwrap_or_default();
    v["type"].as_str().unwrap_or_default().to_string()
}

fn check_timeline(a: &Analysis, expect: &Value, problems: &mut Vec<String>) {
    let Some(want) = expect.get("timeline") else {
        return;
    };
    let Some(t) = &a.timeline else {
        problems.push("timeline: none".to_string());
        return;
    };
    let close = |got: Option<f64>, want: &Value| match (got, want.as_f64()) {
        (Some(g), Some(w)) => (g - w).abs() < 1e-6,
        (None, None) => want.is_null(),
        _ => false,
    };
    if want
        .get("events")
        .is_some_and(|n| n != &json!(t.events.len()))
    {
        problems.push(format!(
            "timeline events: got {}, want {}",
            t.events.len(),
            want["events"]
        ));
    }
    if want.get("ttft_ms").is_some_and(|w| !close(t.ttft_ms, w)) {
        problems.push(format!(
            "ttft_ms: got {:?}, want {}",
            t.ttft_ms, want["ttft_ms"]
        ));
    }
    if want
        .get("largest_gap_ms")
        .is_some_and(|w| !close(t.largest_gap_ms, w))
    {
        problems.push(format!(
            "largest_gap_ms: got {:?}, want {}",
            t.largest_gap_ms, want["largest_gap_ms"]
        ));
    }
}

fn check_mcp(a: &Analysis, expect: &Value, problems: &mut Vec<String>) {
    let Some(want) = expect.get("mcp").and_then(Value::as_object) else {
        return;
    };
    let Some(m) = &a.mcp else {
        problems.push("mcp: none".to_string());
        return;
    };
    let server = m.server.as_ref();
    let got = json!({
        "method": m.method,
        "id": m.id,
        "tool": m.tool,
        "is_error": m.is_error,
        "session_id": m.session_id,
        "transport": m.transport,
        "server_name": server.and_then(|s| s.name.clone()),
        "server_version": server.and_then(|s| s.version.clone()),
        "protocol_version": m.protocol_version,
        "pairs": m.pairs.len(),
        "received": m.received.len(),
    });
    for (k, v) in want {
        if &got[k] != v {
            problems.push(format!("mcp.{k}: got {}, want {v}", got[k]));
        }
    }
}

fn fixture_paths() -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut paths: Vec<_> = std::fs::read_dir(&root)
        .expect("fixtures/ exists")
        .flatten()
        .filter(|d| d.path().is_dir())
        .flat_map(|d| std::fs::read_dir(d.path()).expect("readable").flatten())
        .map(|f| f.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
}

/// Cutting any fixture's reply at any point, as the capture cap does, never
/// panics, keeps the kind, and says the reply was cut.
#[test]
fn fixtures_cut_anywhere_still_analyse() {
    let paths = fixture_paths();
    assert!(paths.len() > 30, "fixtures found: {}", paths.len());
    for path in paths {
        let (ex, _) = load(&path);
        let whole = llm::analyse(&ex).map(|a| a.kind);
        let Some(len) = ex.response.as_ref().map(|r| r.body.bytes.len()) else {
            continue;
        };
        for keep in (0..len).step_by((len / 40).max(1)) {
            let mut cut = ex.clone();
            if let Some(r) = cut.response.as_mut() {
                r.body.bytes.truncate(keep);
                r.body.truncated = true;
            }
            let analysis = llm::analyse(&cut);
            if ex.request.method == "GET" {
                continue; // the old MCP transport is recognised by its reply
            }
            assert_eq!(
                analysis.as_ref().map(|a| a.kind),
                whole,
                "{} cut at {keep}",
                path.display()
            );
            if let Some(a) = analysis {
                let flagged = a.notes.iter().any(|n| n.kind == llm::NoteKind::Truncated);
                assert!(
                    flagged,
                    "{} cut at {keep}: no truncation note",
                    path.display()
                );
            }
        }
    }
}
