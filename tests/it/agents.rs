//! Zero-configuration capture (issue 16): base-URL mode, which program sent
//! each exchange, and what `llmspy run` gives its child — with the real
//! binary, real TLS upstream, curl and the machine's Node.

use std::process::Command;

use llmspy::engine::Routes;
use llmspy::exchange::{State, Via};

use crate::support::binary::{BIN, Running};
use crate::support::client::{reqwest, reqwest_with};
use crate::support::proxy::{Options, TestProxy};
use crate::support::upstream::Upstream;

fn no_proxy_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}

#[tokio::test]
async fn base_url_paths_reach_the_real_upstream_and_are_captured_under_its_url() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::with(Options {
        upstream_ca: vec![up.ca_file.clone()],
        routes: Routes::parse(&[format!("local=https://127.0.0.1:{}/v1", up.tls_addr.port())])
            .expect("route"),
        ..Options::default()
    })
    .await;
    let client = no_proxy_client();
    let via = format!(
        "{}/via/https/127.0.0.1:{}/echo?x=1",
        proxy.url(),
        up.tls_addr.port()
    );
    let resp = client
        .post(&via)
        .header("proxy-authorization", "Basic bXlhZ2VudDo=") // "myagent:"
        .body("hello")
        .send()
        .await
        .expect("via");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.expect("body"), "hello");
    let named = client
        .get(format!("{}/local/models", proxy.url()))
        .send()
        .await
        .expect("route");
    assert_eq!(named.status(), 200);
    assert_eq!(named.text().await.expect("body"), "ok");

    let seen = up.seen();
    assert_eq!(seen[0].path, "/echo?x=1");
    assert!(
        !seen[0].headers.contains_key("proxy-authorization"),
        "the client's name is not forwarded"
    );
    assert_eq!(seen[1].path, "/v1/models");
    let exchanges = proxy.finished(2).await;
    let first = &exchanges[0];
    assert_eq!(first.via, Via::BaseUrl);
    assert_eq!(first.state, State::Complete);
    assert_eq!(first.url(), up.https("/echo?x=1"));
    assert_eq!(first.client_app.as_deref(), Some("myagent"));
    assert_eq!(exchanges[1].url(), up.https("/v1/models"));
}

#[tokio::test]
async fn base_url_mode_refuses_loops_and_leaves_the_api_alone() {
    let up = Upstream::start().await;
    let proxy = TestProxy::start(&up.ca_file).await;
    let client = no_proxy_client();
    let looped = client
        .get(format!(
            "{}/via/http/{}/llmspy/status",
            proxy.url(),
            proxy.addr
        ))
        .send()
        .await
        .expect("loop");
    assert_eq!(looped.status(), 508);
    // Other spellings of this machine loop as well.
    let port = proxy.addr.port();
    for host in [
        format!("[::ffff:127.0.0.1]:{port}"),
        format!("0.0.0.0:{port}"),
        format!("me.localhost:{port}"),
    ] {
        let looped = client
            .get(format!("{}/via/http/{host}/llmspy/status", proxy.url()))
            .send()
            .await
            .expect("loop");
        assert_eq!(looped.status(), 508, "{host}");
    }
    let status = client
        .put(format!("{}/llmspy/status", proxy.url()))
        .send()
        .await
        .expect("status");
    assert_eq!(status.status(), 200, "the control API still answers");
}

#[tokio::test]
async fn a_proxy_client_is_named_by_its_proxy_user_or_its_process() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    // Each client twice, the second request on the same connection (the
    // name found for it is kept with the connection).
    let named = reqwest(&format!("http://claude@{}", proxy.addr), &proxy.ca_file);
    for path in ["/a", "/a2"] {
        let a = named.get(up.https(path)).send().await.expect("named");
        a.text().await.expect("body a");
    }
    // No user: on Linux the socket's process is found (this test binary).
    let plain = reqwest(&proxy.url(), &proxy.ca_file);
    for path in ["/b", "/b2"] {
        let b = plain.get(up.https(path)).send().await.expect("plain");
        b.text().await.expect("body b");
    }
    // SOCKS5 has no proxy user to go by: its process too.
    let socks = reqwest::Proxy::all(format!("socks5h://{}", proxy.addr)).expect("socks");
    let socks = reqwest_with(socks, &proxy.ca_file, false);
    let c = socks.get(up.https("/c")).send().await.expect("socks5");
    c.text().await.expect("body c");
    let exchanges = proxy.finished(5).await;
    let apps: Vec<_> = exchanges.iter().map(|e| e.client_app.as_deref()).collect();
    assert_eq!(apps[..2], [Some("claude"); 2]);
    if cfg!(target_os = "linux") {
        let me = std::env::current_exe().expect("exe");
        let me = me.file_name().expect("name").to_string_lossy().to_string();
        assert_eq!(apps[2..], [Some(me.as_str()); 3]);
    }
}

/// `llmspy run` with no flags: NO_PROXY cleared, the way back to llmspy
/// exported, curl trusting the CA without --cacert, and the program named.
#[tokio::test(flavor = "multi_thread")]
async fn run_sets_up_curl_and_clears_no_proxy() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().expect("tmp");
    let ca_dir = dir.path().join("ca");
    let upstream_ca = up.ca_file.display().to_string();
    let running = Running::start(&ca_dir, &["--upstream-ca", &upstream_ca]);
    let script = format!(
        "echo \"no_proxy=[$NO_PROXY$no_proxy] listen=$LLMSPY_LISTEN\"; curl -sS {}",
        up.https("/hello")
    );
    let run = |extra: &[&str]| {
        Command::new(BIN)
            .args(["run", "--ca-dir"])
            .arg(&ca_dir)
            .args(["--listen", &running.addr])
            .args(extra)
            .args(["--", "sh", "-c", &script])
            .env("NO_PROXY", "localhost,127.0.0.1")
            .env("no_proxy", "localhost,127.0.0.1")
            .output()
            .expect("run")
    };
    let out = run(&[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout, format!("no_proxy=[] listen={}\nok", running.addr));
    assert!(
        stderr.contains("llmspy run: sh → llmspy at")
            && stderr.contains("cleared NO_PROXY/no_proxy"),
        "one summary line: {stderr}"
    );
    let line = running.line_containing("/hello");
    assert!(line.contains("200"), "{line}");

    let kept = run(&["--keep-no-proxy", "--explain"]);
    let stdout = String::from_utf8_lossy(&kept.stdout);
    let stderr = String::from_utf8_lossy(&kept.stderr);
    assert!(
        stdout.starts_with("no_proxy=[localhost,127.0.0.1localhost,127.0.0.1]"),
        "{stdout}"
    );
    for want in [
        "CURL_CA_BUNDLE=",
        "AWS_CA_BUNDLE=",
        "GIT_SSL_CAINFO=",
        "DENO_CERT=",
        "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=",
        "NODE_USE_ENV_PROXY=1",
        "NODE_OPTIONS=--require",
        "LLMSPY_LISTEN=",
    ] {
        assert!(stderr.contains(want), "--explain lists {want}: {stderr}");
    }
    running.terminate();
}

/// Node's built-in fetch, https.request, and http.request to a plain-HTTP
/// loopback server (a local model server's shape) with the common
/// NO_PROXY in the shell, on the Node this machine has (skipped without
/// one): captured with no flag but `llmspy run`.
#[tokio::test(flavor = "multi_thread")]
async fn run_captures_node_fetch_https_and_local_http() {
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!("no node here: skipped");
        return;
    }
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().expect("tmp");
    let ca_dir = dir.path().join("ca");
    let upstream_ca = up.ca_file.display().to_string();
    let running = Running::start(&ca_dir, &["--upstream-ca", &upstream_ca, "--json"]);
    let script = format!(
        "const https = require('node:https');
         const http = require('node:http');
         const read = (res, next) => {{ let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => next(b)); }};
         (async () => {{
           const r = await fetch('{fetch_url}', {{ method: 'POST', body: 'from fetch' }});
           process.stdout.write(await r.text() + ' ');
           https.get('{get_url}', (res) => read(res, (b) => {{
             process.stdout.write(b + ' ');
             http.get('{local_url}', (res) => read(res, (b) => process.stdout.write(b)));
           }}));
         }})();",
        fetch_url = up.https_localhost("/echo"),
        get_url = up.https_localhost("/plain"),
        local_url = up.http("/local"),
    );
    let out = Command::new(BIN)
        .args(["run", "--ca-dir"])
        .arg(&ca_dir)
        .args(["--listen", &running.addr, "--", "node", "-e", &script])
        .env("NO_PROXY", "localhost,127.0.0.1")
        .output()
        .expect("run node");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "from fetch ok ok");
    for url in [
        up.https_localhost("/echo"),
        up.https_localhost("/plain"),
        up.http("/local"),
    ] {
        let line = running.line_containing(&url);
        assert!(line.contains("\"clientApp\":\"node\""), "{line}");
    }
    running.terminate();
}

/// The program `llmspy run` starts keeps the memory settings it would
/// have had without llmspy. mimalloc can turn transparent huge pages off
/// for its process with `prctl(PR_SET_THP_DISABLE)`, which every child
/// inherits; llmspy chooses huge pages per block size in its allocator
/// instead (src/alloc.rs) and sets nothing for the process, so nothing of
/// the kind reaches the agent.
#[cfg(target_os = "linux")]
#[test]
fn run_leaves_the_programs_huge_page_setting_as_it_was() {
    let thp = |status: &str| {
        status
            .lines()
            .find(|l| l.starts_with("THP_enabled:"))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
    };
    let own = std::fs::read_to_string("/proc/self/status").expect("status");
    let Some(own) = thp(&own) else {
        return; // a kernel before 5.0 does not say
    };
    let dir = tempfile::tempdir().expect("tmp");
    let ca_dir = dir.path().join("ca");
    let running = Running::start(&ca_dir, &[]);
    let out = Command::new(BIN)
        .args(["run", "--ca-dir"])
        .arg(&ca_dir)
        .args(["--listen", &running.addr, "--", "cat", "/proc/self/status"])
        .env_remove("MIMALLOC_ALLOW_THP")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let child = String::from_utf8_lossy(&out.stdout);
    assert_eq!(thp(&child), Some(own));
}

#[test]
fn completions_for_each_shell() {
    for (shell, want) in [
        ("bash", "_llmspy()"),
        ("zsh", "#compdef llmspy"),
        ("fish", "complete -c llmspy"),
    ] {
        let out = Command::new(BIN)
            .args(["completions", shell])
            .output()
            .expect("completions");
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(want),
            "{shell}: {}",
            &text[..text.len().min(200)]
        );
        assert!(text.contains("keep-no-proxy"), "{shell} knows run's flags");
    }
}

/// `run --start` with nothing listening: a background llmspy serves the
/// program, which reaches it with plain `llmspy retrieve` (no flags), and
/// it stops when the program ends.
#[tokio::test(flavor = "multi_thread")]
async fn run_start_serves_the_program_and_its_llmspy_subcommands() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().expect("tmp");
    let ca_dir = dir.path().join("ca");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let listen = format!("127.0.0.1:{port}");
    let script = format!(
        "curl -sS {url} >/dev/null; \"{BIN}\" retrieve --filter '~app sh'",
        url = up.http("/started")
    );
    let out = Command::new(BIN)
        .args(["run", "--start", "--ca-dir"])
        .arg(&ca_dir)
        .args(["--listen", &listen, "--", "sh", "-c", &script])
        .env_remove("LLMSPY_LISTEN")
        .output()
        .expect("run --start");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("started llmspy on"), "{stderr}");
    let captured: serde_json::Value = serde_json::from_slice(&out.stdout).expect("retrieve JSON");
    assert_eq!(captured[0]["url"], up.http("/started"), "{captured}");
    assert_eq!(captured[0]["clientApp"], "sh");
    assert!(
        std::net::TcpStream::connect(&listen).is_err(),
        "the background llmspy stopped with the program"
    );
}
