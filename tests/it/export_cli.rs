//! `llmspy export` and `llmspy retrieve`, the real binary: offline from a
//! saved capture, online from a running llmspy, exit codes, and the
//! native JSON round trip.

use std::path::Path;
use std::process::Output;

use llmspy::exchange::Exchange;
use serde_json::Value;

use crate::api::{SECRET, send_traffic, setup};

async fn llmspy(args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_llmspy"))
        .args(args)
        .env_remove("LLMSPY_LISTEN")
        .env("LLMSPY_LOG", "llmspy=warn")
        .output()
        .await
        .expect("llmspy runs")
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).expect("JSON file")
}

/// Write `exchanges` the way `--save` does: one native JSON object a line.
fn save(path: &Path, exchanges: &[Exchange]) {
    let lines: String = exchanges
        .iter()
        .map(|ex| {
            let json = llmspy::export::native::to_json(ex);
            format!("{}\n", serde_json::to_string(&json).expect("JSON"))
        })
        .collect();
    std::fs::write(path, lines).expect("write capture");
}

/// The captured exchanges of a fresh run of [`send_traffic`].
async fn captured() -> Vec<Exchange> {
    let mut s = setup().await;
    send_traffic(&mut s).await;
    let store = s.proxy.store.read();
    store.all().map(|r| r.exchange.clone()).collect()
}

#[tokio::test]
async fn export_from_a_saved_capture_offline() {
    let exchanges = captured().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cap = dir.path().join("cap.jsonl");
    save(&cap, &exchanges);
    let cap = cap.to_str().expect("path");

    let har = dir.path().join("traffic.har");
    let out = llmspy(&[
        "export",
        "--from",
        cap,
        "--format",
        "har",
        "-o",
        har.to_str().expect("path"),
    ])
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("wrote 3 item(s) as HAR"),
        "{}",
        stderr(&out)
    );
    let doc = read_json(&har);
    assert_eq!(doc["log"]["entries"].as_array().map(Vec::len), Some(3));
    assert!(!doc.to_string().contains(SECRET), "redacted by default");

    let zip = dir.path().join("traffic.bruno.zip");
    let args = [
        "export",
        "--from",
        cap,
        "-f",
        "bruno",
        "--filter",
        "~p anthropic",
        "-o",
    ];
    let out = llmspy(&[&args[..], &[zip.to_str().expect("path")]].concat()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let archive = zip::ZipArchive::new(std::fs::File::open(&zip).expect("zip")).expect("valid zip");
    assert_eq!(
        archive
            .file_names()
            .filter(|n| n.ends_with(".bru") && !n.ends_with("folder.bru"))
            .count(),
        2
    );

    let sessions = llmspy(&["retrieve", "--from", cap, "--type", "sessions"]).await;
    assert_eq!(code(&sessions), 0, "{}", stderr(&sessions));
    let v: Value = serde_json::from_slice(&sessions.stdout).expect("JSON on stdout");
    assert_eq!(
        v["sessions"][0]["turns"].as_array().map(Vec::len),
        Some(2),
        "{v:#}"
    );
}

#[tokio::test]
async fn exit_codes_say_what_happened() {
    let exchanges = captured().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cap = dir.path().join("cap.jsonl");
    save(&cap, &exchanges);
    let cap = cap.to_str().expect("path");
    let empty = dir.path().join("empty.har");

    let args = [
        "export",
        "--from",
        cap,
        "--format",
        "HAR",
        "--filter",
        "~m DELETE",
        "-o",
    ];
    let out = llmspy(&[&args[..], &[empty.to_str().expect("path")]].concat()).await;
    assert_eq!(code(&out), 1, "nothing matched: {}", stderr(&out));
    assert!(stderr(&out).contains("nothing matched"));
    let doc = read_json(&empty);
    assert_eq!(
        doc["log"]["entries"],
        Value::Array(vec![]),
        "still a valid, empty HAR"
    );

    let out = llmspy(&["export", "--from", cap, "--type", "EVERYTHING"]).await;
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("REQUEST_RESPONSES"),
        "{}",
        stderr(&out)
    );

    let out = llmspy(&["export", "--from", cap, "--filter", "~m (POST"]).await;
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("filter"), "{}", stderr(&out));

    let missing = dir.path().join("missing.jsonl");
    let out = llmspy(&["export", "--from", missing.to_str().expect("path")]).await;
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("missing.jsonl"), "{}", stderr(&out));

    let out = llmspy(&["retrieve", "--server", "http://127.0.0.1:1"]).await;
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("no llmspy is listening on 127.0.0.1:1"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn export_and_retrieve_from_a_running_llmspy() {
    let mut s = setup().await;
    let ids = send_traffic(&mut s).await;
    let server = s.proxy.url();
    let dir = tempfile::tempdir().expect("tempdir");
    let postman = dir.path().join("p.postman.json");
    let args = [
        "export",
        "--server",
        &server,
        "--format",
        "postman",
        "--filter",
        "~p anthropic",
        "-o",
    ];
    let out = llmspy(&[&args[..], &[postman.to_str().expect("path")]].concat()).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let doc = read_json(&postman);
    assert!(
        doc["info"]["schema"]
            .as_str()
            .expect("schema")
            .contains("v2.1")
    );
    assert!(!doc.to_string().contains(SECRET));

    let out = llmspy(&[
        "retrieve",
        "--server",
        &server,
        "--match",
        r#"{"method":"GET"}"#,
    ])
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(v.as_array().map(Vec::len), Some(1));
    assert_eq!(v[0]["id"], ids.get);

    let id = ids.turn2.to_string();
    let out = llmspy(&[
        "retrieve",
        "--server",
        &server,
        "--type",
        "conversation",
        "--id",
        &id,
    ])
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(v["request"]["messages"].as_array().map(Vec::len), Some(3));

    // What is printed is masked unless asked (unlike the API's JSON).
    let masked = llmspy(&["retrieve", "--server", &server]).await;
    assert_eq!(code(&masked), 0, "{}", stderr(&masked));
    let text = String::from_utf8_lossy(&masked.stdout);
    assert!(
        !text.contains(SECRET) && text.contains("***REDACTED***"),
        "{text}"
    );
    let kept = llmspy(&["retrieve", "--server", &server, "--no-redact"]).await;
    assert!(String::from_utf8_lossy(&kept.stdout).contains(SECRET));

    let out = llmspy(&["retrieve", "--server", &server, "--filter", "~zz"]).await;
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("400") && stderr(&out).contains("filter"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn native_json_round_trips_through_the_loader() {
    let mut s = setup().await;
    send_traffic(&mut s).await;
    let original: Vec<Exchange> = s
        .proxy
        .store
        .read()
        .all()
        .map(|r| r.exchange.clone())
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let online = dir.path().join("online.json");
    let out = llmspy(&[
        "export",
        "--server",
        &s.proxy.url(),
        "--no-redact",
        "-o",
        online.to_str().expect("path"),
    ])
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let loaded = llmspy::capture::save::load(&online).expect("the loader reads the export");
    assert_eq!(loaded, original, "the same exchanges come back");

    // And again from that file, offline: a second generation is identical.
    let offline = dir.path().join("offline.json");
    let out = llmspy(&[
        "export",
        "--from",
        online.to_str().expect("path"),
        "--no-redact",
        "-o",
        offline.to_str().expect("path"),
    ])
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        llmspy::capture::save::load(&offline).expect("load"),
        original
    );
}
