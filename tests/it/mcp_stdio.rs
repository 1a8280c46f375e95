//! `llmspy mcp-stdio -- CMD`: the real binary wrapping a tiny stdio
//! JSON-RPC server (python3), driven over its stdin/stdout; what the client
//! and the server say passes through unchanged, the exit code too, and each
//! exchange shows in the running llmspy as MCP traffic.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::mcp_server::proxy;

const BIN: &str = env!("CARGO_BIN_EXE_llmspy");

/// Answers each request on one line with odd spacing (so pass-through is
/// visibly byte for byte), says nothing to notifications, exits 3 at EOF.
const SERVER: &str = r#"
import json, sys
for line in sys.stdin:
    msg = json.loads(line)
    if "id" not in msg:
        continue
    if msg["method"] == "initialize":
        result = {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
                  "serverInfo": {"name": "tiny-stdio", "version": "1.0"}}
    elif msg["method"] == "tools/call":
        result = {"content": [{"type": "text", "text": "sunny in " + msg["params"]["arguments"]["city"]}],
                  "isError": False}
    else:
        result = {}
    sys.stdout.write('{"jsonrpc":  "2.0",   "id": %s, "result": %s}\n' % (json.dumps(msg["id"]), json.dumps(result)))
    sys.stdout.flush()
sys.exit(3)
"#;

// Multi-threaded: the test thread blocks on the child's pipes while the
// in-process llmspy must keep answering the bridge's reports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrapped_stdio_server_works_unchanged_and_shows_as_mcp_traffic() {
    let mut proxy = proxy(None).await;
    let mut child = Command::new(BIN)
        .args([
            "mcp-stdio",
            "--server",
            &proxy.url(),
            "--",
            "python3",
            "-c",
            SERVER,
        ])
        .env_remove("LLMSPY_LISTEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("llmspy mcp-stdio starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let (tx, lines) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut stderr = child.stderr.take().expect("stderr");
    let mut send = |msg: Value| {
        writeln!(stdin, "{msg}").expect("write to mcp-stdio");
        stdin.flush().expect("flush");
    };
    let recv = |what: &str| {
        lines
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("no {what} from the wrapped server: {e}"))
    };

    send(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}));
    let init = recv("initialize answer");
    assert!(
        init.starts_with(r#"{"jsonrpc":  "2.0",   "id": 1, "result": "#),
        "passed through byte for byte: {init}"
    );
    let init: Value = serde_json::from_str(&init).expect("JSON");
    assert_eq!(init["result"]["serverInfo"]["name"], "tiny-stdio");
    send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    send(
        json!({"jsonrpc": "2.0", "id": "call-2", "method": "tools/call",
        "params": {"name": "forecast", "arguments": {"city": "Oslo"}}}),
    );
    let call: Value = serde_json::from_str(&recv("tools/call answer")).expect("JSON");
    assert_eq!(call["id"], "call-2");
    assert_eq!(call["result"]["content"][0]["text"], "sunny in Oslo");

    // EOF on stdin reaches the server; its exit code comes back.
    drop(stdin);
    let (done_tx, done) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done_tx.send(child.wait());
    });
    let status = done
        .recv_timeout(Duration::from_secs(20))
        .expect("mcp-stdio exits once stdin closes")
        .expect("wait");
    let mut err = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut err).expect("stderr");
    assert_eq!(status.code(), Some(3), "the server's exit code: {err}");
    assert!(err.is_empty(), "nothing to complain about: {err}");

    let exchanges = proxy.finished(3).await;
    let mut seen: Vec<(String, Option<String>, Option<u16>)> = exchanges
        .iter()
        .map(|ex| {
            assert_eq!(ex.request.scheme, "stdio");
            assert_eq!(ex.request.host, "python3");
            let m = llmspy::llm::analyse(ex)
                .and_then(|a| a.mcp)
                .unwrap_or_else(|| panic!("not MCP: {ex:?}"));
            (
                m.method.unwrap_or_default(),
                m.tool.or_else(|| m.server.and_then(|s| s.name)),
                ex.response.as_ref().map(|r| r.status),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("initialize".into(), Some("tiny-stdio".into()), Some(200)),
            ("notifications/initialized".into(), None, Some(202)),
            ("tools/call".into(), Some("forecast".into()), Some(200)),
        ]
    );
}

#[test]
fn a_server_that_cannot_start_is_named() {
    let out = Command::new(BIN)
        .args([
            "mcp-stdio",
            "--server",
            "http://127.0.0.1:9",
            "--",
            "/nonexistent/mcp-server",
        ])
        .env_remove("LLMSPY_LISTEN")
        .stdin(Stdio::null())
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/mcp-server"), "{err}");
}

#[test]
fn it_exits_with_the_server_even_while_the_client_keeps_stdin_open() {
    let mut child = Command::new(BIN)
        .args([
            "mcp-stdio",
            "--server",
            "http://127.0.0.1:9",
            "--",
            "python3",
            "-c",
        ])
        .arg("import sys; print('bye', flush=True); sys.exit(5)")
        .env_remove("LLMSPY_LISTEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    // Hold stdin open, as an agent's MCP client does.
    let _stdin = child.stdin.take().expect("stdin");
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().expect("stdout"), &mut out)
        .expect("stdout");
    assert_eq!(out, "bye\n");
    let (tx, done) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = done
        .recv_timeout(Duration::from_secs(20))
        .expect("mcp-stdio exits when its server does")
        .expect("wait");
    assert_eq!(status.code(), Some(5));
}
