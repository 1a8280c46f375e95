//! Issue 13: with its open-file limit held low (`ulimit -n` in a child
//! shell) and most of it taken by half-open connections, llmspy still
//! serves the control API and new proxy clients: the longest-idle
//! connections are closed to make room.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::support::upstream::Upstream;

const BIN: &str = env!("CARGO_BIN_EXE_llmspy");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_connections_near_the_fd_limit_do_not_lock_anyone_out() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().expect("tmp");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 256 && exec \"$0\" \"$@\"")
        .arg(BIN)
        .arg("--ca-dir")
        .arg(dir.path())
        .args(["--no-tui", "--listen", "127.0.0.1:0", "--upstream-ca"])
        .arg(&up.ca_file)
        .env_remove("LLMSPY_LISTEN")
        .env("LLMSPY_LOG", "llmspy=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("llmspy starts");
    let (tx, lines) = mpsc::channel();
    let stderr = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut before = Vec::new();
    let addr = loop {
        let line = lines.recv_timeout(Duration::from_secs(20)).expect("banner");
        before.push(line.clone());
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().expect("addr").to_string();
        }
    };
    assert!(
        before.iter().any(|l| l.contains("open-file limit is 256")),
        "llmspy says the hard limit is low: {before:#?}"
    );

    // More half-open connections than llmspy has descriptors for.
    let mut held = Vec::new();
    for _ in 0..300 {
        let mut tcp = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        tcp.write_all(b"GET http://127.0.0.1:9/ HTTP/1.1\r\nHo")
            .await
            .expect("write");
        held.push(tcp);
    }

    let api = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    // On failure, what llmspy said (what it shed, what failed) goes with it.
    let said = |lines: &mpsc::Receiver<String>| lines.try_iter().collect::<Vec<_>>().join("\n");
    let status = match api.put(format!("http://{addr}/llmspy/status")).send().await {
        Ok(status) => status,
        Err(e) => panic!(
            "the control API did not answer: {e}\nllmspy said:\n{}",
            said(&lines)
        ),
    };
    assert_eq!(status.status(), 200);

    let ca = dir.path().join("llmspy-ca.pem");
    let proxied = crate::support::client::reqwest(&format!("http://{addr}"), &ca);
    // Generous: CI runs this beside the rest of the suite on two cores.
    let resp = tokio::time::timeout(
        Duration::from_secs(60),
        proxied.post(up.https("/echo")).body("made room").send(),
    )
    .await
    .unwrap_or_else(|_| {
        panic!(
            "a new proxy client is not served\nllmspy said:\n{}",
            said(&lines)
        )
    })
    .expect("request");
    assert_eq!(resp.text().await.expect("body"), "made room");

    drop(held);
    let _ = child.kill();
    let _ = child.wait();
}
