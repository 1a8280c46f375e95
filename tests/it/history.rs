//! The history database with the real binary: runs ended by SIGTERM and by
//! `kill -9` listed with exact counts, exported together and filtered,
//! usage summed, secrets masked and the file private, a corrupt or
//! unwritable file reported while the proxy keeps relaying, retention, and
//! two processes sharing one file.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::binary::{Running, assert_success, llmspy};

const SECRET: &str = "sk-ant-api03-history-secret-0123456789";

/// Mock answers, so LLM traffic needs no upstream.
fn expectations(dir: &Path) -> PathBuf {
    let path = dir.join("expectations.json");
    let doc = json!([
        {"httpRequest": {"path": "/v1/messages"},
         "httpLlmResponse": {"provider": "ANTHROPIC", "model": "claude-h", "completion": {
            "text": "ok", "usage": {"inputTokens": 100, "outputTokens": 20}}}},
        {"httpRequest": {"path": "/v1/chat/completions"},
         "httpLlmResponse": {"provider": "OPENAI", "model": "gpt-h", "completion": {
            "text": "ok", "usage": {"inputTokens": 7, "outputTokens": 3}}}}
    ]);
    std::fs::write(&path, doc.to_string()).expect("expectations");
    path
}

struct Run {
    running: Running,
    ca_dir: PathBuf,
}

fn start(dir: &Path, history: &Path, extra: &[&str]) -> Run {
    let ca_dir = dir.join("ca");
    let init = expectations(dir);
    let mut args = vec![
        "--history",
        history.to_str().expect("utf8"),
        "--init",
        init.to_str().expect("utf8"),
    ];
    args.extend_from_slice(extra);
    Run {
        running: Running::start(&ca_dir, &args),
        ca_dir,
    }
}

/// An LLM call through the proxy carrying `marker` in its prompt.
fn call(run: &Run, path: &str, marker: &str) {
    let body = json!({"model": "m", "max_tokens": 5,
        "messages": [{"role": "user", "content": format!("note {marker}")}]});
    let out = Command::new("curl")
        .args(["-sS", "--fail", "--noproxy", "", "--max-time", "20", "-x"])
        .arg(format!("http://{}", run.running.addr))
        .arg("--cacert")
        .arg(run.ca_dir.join("llmspy-ca.pem"))
        .args([
            "-H",
            &format!("x-api-key: {SECRET}"),
            "-H",
            "content-type: application/json",
        ])
        .args(["-d", &body.to_string()])
        .arg(format!("https://api.llm.test{path}"))
        .output()
        .expect("curl");
    assert_success(&out);
}

fn status(run: &Run) -> Value {
    let out = Command::new("curl")
        .args(["-sS", "--noproxy", "*", "-X", "PUT"])
        .arg(format!("http://{}/llmspy/status", run.running.addr))
        .output()
        .expect("curl");
    serde_json::from_slice(&out.stdout).expect("status JSON")
}

/// Wait (bounded) until the writer has committed `n` exchanges.
fn saved(run: &Run, n: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    // The writer commits on its own thread and sends no event: poll.
    while status(run)["history"]["saved"].as_u64() < Some(n) {
        assert!(std::time::Instant::now() < deadline, "{}", status(run));
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn cli(ca_dir: &Path, args: &[&str]) -> std::process::Output {
    llmspy(ca_dir).args(args).output().expect("llmspy runs")
}

fn runs(ca_dir: &Path, history: &Path) -> Vec<Value> {
    let out = cli(
        ca_dir,
        &["history", "--history", history.to_str().unwrap(), "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<Value>>(&out.stdout).expect("runs JSON")
}

#[test]
fn runs_survive_sigterm_sighup_and_kill_9_and_export_together() {
    let dir = tempfile::tempdir().expect("tmp");
    let history = dir.path().join("h.sqlite");

    let one = start(dir.path(), &history, &[]);
    for _ in 0..3 {
        call(&one, "/v1/messages", "marker-one");
    }
    one.running.line_containing("/v1/messages");
    let ca_dir = one.ca_dir.clone();
    assert!(one.running.terminate().success());

    let two = start(dir.path(), &history, &[]);
    for _ in 0..4 {
        call(&two, "/v1/chat/completions", "marker-two");
    }
    saved(&two, 4);
    two.running.kill9();

    // SIGHUP, as when the terminal closes, ends the run like SIGTERM.
    let three = start(dir.path(), &history, &[]);
    call(&three, "/v1/messages", "marker-three");
    three.running.line_containing("/v1/messages");
    assert!(three.running.signal("HUP").success());

    let list = runs(&ca_dir, &history);
    assert_eq!(list.len(), 3, "{list:?}");
    assert_eq!(
        (list[2]["exchanges"].as_i64(), list[2]["state"].as_str()),
        (Some(1), Some("ended"))
    );
    assert_eq!(
        (list[0]["exchanges"].as_i64(), list[0]["state"].as_str()),
        (Some(3), Some("ended"))
    );
    assert_eq!(
        (list[1]["exchanges"].as_i64(), list[1]["state"].as_str()),
        (Some(4), Some("stopped abruptly"))
    );
    assert_eq!(list[0]["tokens_in"], 300);
    assert_eq!(list[1]["tokens_out"], 12);

    let h = history.to_str().unwrap();
    let har = cli(&ca_dir, &["export", "--history", h, "--format", "har"]);
    assert!(
        har.status.success(),
        "{}",
        String::from_utf8_lossy(&har.stderr)
    );
    let har = String::from_utf8_lossy(&har.stdout);
    assert!(har.contains("marker-one") && har.contains("marker-two"));
    assert!(!har.contains(SECRET), "secrets are masked in the history");
    let entries = serde_json::from_str::<Value>(&har).expect("HAR")["log"]["entries"]
        .as_array()
        .map(Vec::len);
    assert_eq!(entries, Some(8));

    let only_two = cli(
        &ca_dir,
        &[
            "export",
            "--history",
            h,
            "--filter",
            "~bq marker-two",
            "--format",
            "json",
        ],
    );
    let only_two: Vec<Value> = serde_json::from_slice(&only_two.stdout).expect("JSON");
    assert_eq!(only_two.len(), 4);
    let run_one = cli(&ca_dir, &["retrieve", "--history", h, "--run", "1"]);
    let run_one: Vec<Value> = serde_json::from_slice(&run_one.stdout).expect("JSON");
    assert_eq!(run_one.len(), 3);
    // A run that is not there is said, not shown as an empty screen.
    let no_run = cli(&ca_dir, &["open", h, "--run", "99"]);
    let err = String::from_utf8_lossy(&no_run.stderr);
    assert!(
        !no_run.status.success() && err.contains("run 99 of"),
        "{err}"
    );

    let stats = cli(&ca_dir, &["history", "--history", h, "--stats", "--json"]);
    let stats: Vec<Value> = serde_json::from_slice(&stats.stdout).expect("stats JSON");
    let by_model = |m: &str| stats.iter().find(|r| r["model"] == m).cloned().expect(m);
    assert_eq!(
        (
            by_model("claude-h")["calls"].as_i64(),
            by_model("claude-h")["tokens_in"].as_i64()
        ),
        (Some(4), Some(400))
    );
    assert_eq!(
        (
            by_model("gpt-h")["provider"].as_str(),
            by_model("gpt-h")["tokens_out"].as_i64()
        ),
        (Some("openai-compatible"), Some(12))
    );

    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&history).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn a_corrupt_or_unwritable_history_is_one_warning_and_the_proxy_still_relays() {
    let dir = tempfile::tempdir().expect("tmp");
    let corrupt = dir.path().join("corrupt.sqlite");
    std::fs::write(&corrupt, vec![b'x'; 8192]).expect("garbage");
    let run = start(dir.path(), &corrupt, &[]);
    let warning = run.running.early.join("\n");
    assert!(warning.contains("not a SQLite database"), "{warning}");
    call(&run, "/v1/messages", "still-relayed");
    run.running.line_containing("/v1/messages");
    let ca_dir = run.ca_dir.clone();
    assert!(run.running.terminate().success());
    let out = cli(
        &ca_dir,
        &["history", "--history", corrupt.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a SQLite database"));
    // Named as --history, it is read as nothing else: the error is about
    // the database, not a capture that failed to parse.
    let out = cli(&ca_dir, &["export", "--history", corrupt.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a SQLite database"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A directory given as the file.
    let out = cli(
        &ca_dir,
        &["history", "--history", dir.path().to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("it is a directory"));

    // A directory that cannot hold it (a file where the directory should be).
    let blocked = dir.path().join("a-file");
    std::fs::write(&blocked, "").expect("file");
    let run = start(dir.path(), &blocked.join("history.sqlite"), &[]);
    assert!(
        run.running
            .early
            .join("\n")
            .contains("cannot create the history's directory"),
        "{:?}",
        run.running.early
    );
    // With the OS's reason: the source used to be left out.
    assert!(
        run.running.early.join("\n").contains("(os error"),
        "{:?}",
        run.running.early
    );
    call(&run, "/v1/messages", "still-relayed");
    assert!(run.running.terminate().success());
}

#[test]
fn retention_prunes_the_oldest_run_and_says_so() {
    let dir = tempfile::tempdir().expect("tmp");
    let history = dir.path().join("h.sqlite");
    let one = start(dir.path(), &history, &[]);
    for _ in 0..20 {
        call(&one, "/v1/messages", "old-run");
    }
    saved(&one, 20);
    let ca_dir = one.ca_dir.clone();
    assert!(one.running.terminate().success());
    let two = start(dir.path(), &history, &["--history-max-bytes", "1"]);
    call(&two, "/v1/chat/completions", "new-run");
    let said = two.running.stderr_containing("removed run 1");
    assert!(said.contains("--history-max-bytes"), "{said}");
    assert!(two.running.terminate().success());
    let list = runs(&ca_dir, &history);
    assert_eq!(
        list.iter().map(|r| r["id"].as_i64()).collect::<Vec<_>>(),
        vec![Some(2)]
    );
}

#[test]
fn two_processes_share_one_history_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let history = dir.path().join("shared.sqlite");
    let a = start(dir.path(), &history, &[]);
    let b = start(dir.path(), &history, &[]);
    for _ in 0..5 {
        call(&a, "/v1/messages", "from-a");
        call(&b, "/v1/chat/completions", "from-b");
    }
    saved(&a, 5);
    saved(&b, 5);
    let ca_dir = a.ca_dir.clone();
    assert!(a.running.terminate().success());
    assert!(b.running.terminate().success());
    let list = runs(&ca_dir, &history);
    assert_eq!(
        list.iter()
            .map(|r| r["exchanges"].as_i64())
            .collect::<Vec<_>>(),
        vec![Some(5), Some(5)]
    );
}
