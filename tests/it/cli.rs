//! The real `llmspy` binary: env, ca, run, headless logging, --save, SIGTERM,
//! and the generated man page.

use std::process::Command;

use crate::support::upstream::Upstream;

use crate::support::binary::{BIN, Running, assert_success, llmspy};

#[test]
fn env_and_ca_print_what_an_agent_needs() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = llmspy(dir.path())
        .args(["env", "--listen", "127.0.0.1:1234"])
        .output()
        .expect("env");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let ca = dir.path().join("llmspy-ca.pem");
    for want in [
        "export HTTPS_PROXY=http://127.0.0.1:1234".to_string(),
        "export HTTP_PROXY=http://127.0.0.1:1234".to_string(),
        format!("export NODE_EXTRA_CA_CERTS={}", ca.display()),
        format!(
            "export SSL_CERT_FILE={}",
            dir.path().join("llmspy-ca-bundle.pem").display()
        ),
        "export REQUESTS_CA_BUNDLE=".to_string(),
        // Node 20's fetch ignores the proxy variables without these.
        "export NODE_USE_ENV_PROXY=1".to_string(),
        "export LLMSPY_LISTEN=127.0.0.1:1234".to_string(),
    ] {
        assert!(text.contains(&want), "missing {want:?} in:\n{text}");
    }
    // NODE_OPTIONS is added to the shell's own, with the preload written.
    let preload = dir.path().join("llmspy-node-preload.cjs");
    let shell = std::process::Command::new("bash")
        .args([
            "-c",
            "NODE_OPTIONS=--no-warnings; eval \"$0\"; printf %s \"$NODE_OPTIONS\"",
        ])
        .arg(text.as_ref())
        .output()
        .expect("bash");
    assert_eq!(
        String::from_utf8_lossy(&shell.stdout),
        format!("--no-warnings --require \"{}\"", preload.display())
    );
    assert!(
        std::fs::metadata(&preload).is_ok(),
        "the preload is written"
    );
    let path = llmspy(dir.path()).arg("ca").output().expect("ca");
    assert_eq!(
        String::from_utf8_lossy(&path.stdout).trim(),
        ca.display().to_string()
    );
    let pem = llmspy(dir.path())
        .args(["ca", "--pem"])
        .output()
        .expect("ca --pem");
    let pem = String::from_utf8_lossy(&pem.stdout).to_string();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(
        pem,
        std::fs::read_to_string(&ca).expect("ca file"),
        "the same CA every time"
    );
    let bundle = std::fs::read_to_string(dir.path().join("llmspy-ca-bundle.pem")).expect("bundle");
    assert!(bundle.ends_with(&pem), "the bundle ends with llmspy's CA");
}

#[test]
fn run_says_clearly_when_nothing_listens() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("b")
        .local_addr()
        .expect("a")
        .port();
    let out = llmspy(dir.path())
        .args([
            "run",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--",
            "true",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("no llmspy is listening on 127.0.0.1:{port}")),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn headless_logs_saves_runs_children_and_stops_cleanly() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().expect("tmp");
    let save = dir.path().join("capture.jsonl");
    let ca_dir = dir.path().join("ca");
    let upstream_ca = up.ca_file.display().to_string();
    let running = Running::start(
        &ca_dir,
        &[
            "--save",
            save.to_str().expect("utf8"),
            "--upstream-ca",
            &upstream_ca,
        ],
    );
    let proxy = format!("http://{}", running.addr);

    // `llmspy run` sets the variables for the child and passes its exit code through.
    let script = format!(
        "curl -sS --noproxy '' --cacert \"$NODE_EXTRA_CA_CERTS\" -x \"$HTTPS_PROXY\" {} ; exit 7",
        up.https("/hello")
    );
    let out = Command::new(BIN)
        .args(["run", "--ca-dir"])
        .arg(&ca_dir)
        .args(["--listen", &running.addr, "--", "sh", "-c", &script])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok");

    let line = running.line_containing("/hello");
    assert!(
        line.contains("GET") && line.contains("200") && line.contains(&up.https("/hello")),
        "{line}"
    );

    // A shell that evals `llmspy env` trusts llmspy's CA in curl with no
    // `--cacert`: the bundle variables are the ones `run` sets.
    let script = format!(
        "eval \"$({BIN} env --ca-dir '{}' --listen {})\" && curl -sS --noproxy '' {}",
        ca_dir.display(),
        running.addr,
        up.https("/from-env")
    );
    let out = Command::new("sh")
        .args(["-c", &script])
        .env_remove("CURL_CA_BUNDLE")
        .output()
        .expect("sh");
    assert_success(&out);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok");
    running.line_containing("/from-env");

    let plain = Command::new("curl")
        .args(["-sS", "--noproxy", "", "-x", &proxy, &up.http("/plain")])
        .output()
        .expect("curl");
    assert_eq!(String::from_utf8_lossy(&plain.stdout), "ok");
    running.line_containing("/plain");

    let status = running.terminate();
    assert!(status.success(), "SIGTERM ends llmspy cleanly: {status:?}");
    let saved = std::fs::read_to_string(&save).expect("save file");
    let lines: Vec<&str> = saved.lines().collect();
    assert_eq!(lines.len(), 3, "{saved}");
    let loaded = llmspy::capture::save::load(&save).expect("loads back");
    let paths: Vec<&str> = loaded.iter().map(|e| e.request.path.as_str()).collect();
    assert_eq!(paths, ["/hello", "/from-env", "/plain"]);
}

/// The banner is what scripts wait for: a stop sent the moment it appears
/// must find llmspy listening (with its history on, it still records the
/// listen address after the banner, an SQLite write that can take long on
/// a busy disk), so it stops cleanly instead of being killed by the signal.
#[test]
fn a_stop_sent_the_moment_the_banner_appears_stops_llmspy_cleanly() {
    for _ in 0..3 {
        let dir = tempfile::tempdir().expect("tmp");
        let running = Running::start(&dir.path().join("ca"), &[]);
        let status = running.terminate();
        assert!(status.success(), "stopped, not killed: {status:?}");
    }
}

#[test]
fn under_nohup_sighup_does_not_stop_llmspy() {
    let dir = tempfile::tempdir().expect("tmp");
    let running = Running::start_under_nohup(&dir.path().join("ca"), &["--no-history"]);
    running.send_signal("HUP");
    // Still serving after the signal: a stopping llmspy closes its listener first.
    let status_url = format!("http://{}/llmspy/status", running.addr);
    let out = Command::new("curl")
        .args(["-sS", "--noproxy", "*", "--fail", &status_url])
        .output()
        .expect("curl");
    assert_success(&out);
    assert!(running.terminate().success(), "SIGTERM still stops it");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_stop_signal_ends_llmspy_without_the_grace_period() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().expect("tmp");
    let upstream_ca = up.ca_file.display().to_string();
    let running = Running::start(
        &dir.path().join("ca"),
        &["--no-history", "--upstream-ca", &upstream_ca],
    );
    // A stream in flight: its first event arrived and it never ends, so
    // the first SIGTERM would wait out the grace period for it.
    let mut stream = Command::new("curl")
        .args(["-sS", "-N", "--noproxy", "", "-x"])
        .arg(format!("http://{}", running.addr))
        .arg(up.http("/stall"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("curl");
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(stream.stdout.take().expect("stdout")),
        &mut first,
    )
    .expect("first event");
    assert_eq!(first, "data: one\n");
    running.send_signal("TERM");
    running.stderr_containing("stop again to end now");
    let status = running.signal("TERM");
    assert_eq!(status.code(), Some(130), "{status:?}");
    let _ = stream.kill();
    let _ = stream.wait();
}

#[test]
fn json_log_lines_are_json() {
    let dir = tempfile::tempdir().expect("tmp");
    let running = Running::start(dir.path(), &["--json"]);
    let out = Command::new("curl")
        .args([
            "-sS",
            "-X",
            "PUT",
            &format!("http://{}/llmspy/status", running.addr),
        ])
        .output()
        .expect("curl");
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status JSON");
    assert!(status["ports"][0].as_u64().is_some());
    assert!(running.terminate().success());
}

#[test]
fn man_pages_are_current() {
    // llmspy.1 and one page per subcommand (llmspy-env.1, …), as the
    // root page's SEE ALSO names them.
    let cmd = <llmspy::cli::args::Cli as clap::CommandFactory>::command();
    let fresh = tempfile::tempdir().expect("tmp");
    clap_mangen::generate_to(cmd, fresh.path()).expect("render");
    let man = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let update = std::env::var_os("LLMSPY_UPDATE_MAN").is_some();
    let mut stale = Vec::new();
    for entry in std::fs::read_dir(fresh.path()).expect("pages") {
        let entry = entry.expect("page");
        let page = std::fs::read(entry.path()).expect("read");
        let path = man.join(entry.file_name());
        if update {
            std::fs::write(&path, &page).expect("write man page");
        }
        if std::fs::read(&path).unwrap_or_default() != page {
            stale.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    assert!(
        stale.is_empty(),
        "stale man pages {stale:?}: run `LLMSPY_UPDATE_MAN=1 cargo test --test it man_pages`"
    );
}

#[tokio::test]
async fn har_and_native_exports_load_back_for_open() {
    use llmspy::export::{Format, Options, render};
    let up = Upstream::start().await;
    let mut proxy = crate::support::proxy::TestProxy::start(&up.ca_file).await;
    let client = crate::support::client::reqwest(&proxy.url(), &proxy.ca_file);
    let body = r#"{"model":"claude-sonnet-4-5","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#;
    client
        .post(up.https("/echo"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("req");
    let captured = proxy.finished(1).await;
    let dir = tempfile::tempdir().expect("tmp");
    for format in [Format::Har, Format::Json] {
        let bytes = render(format, &captured, &Options::default()).expect("render");
        let path = dir
            .path()
            .join(format!("capture.{}", format.file_extension()));
        std::fs::write(&path, bytes).expect("write");
        let loaded =
            llmspy::capture::save::load(&path).unwrap_or_else(|e| panic!("{format:?}: {e}"));
        assert_eq!(loaded.len(), 1, "{format:?}");
        let (a, b) = (&loaded[0], &captured[0]);
        assert_eq!(
            (a.request.method.as_ref(), a.url()),
            (b.request.method.as_ref(), b.url()),
            "{format:?}"
        );
        assert_eq!(a.response.as_ref().map(|r| r.status), Some(200));
        assert_eq!(
            a.response.as_ref().map(|r| r.body.bytes.clone()),
            Some(body.as_bytes().to_vec()),
            "{format:?}"
        );
    }
}

/// A headless llmspy (no history) with `extra` flags in front of a test
/// upstream, and a client that goes through it.
async fn headless(extra: &[&str]) -> (Upstream, tempfile::TempDir, Running, reqwest::Client) {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().expect("tmp");
    let ca_dir = dir.path().join("ca");
    let upstream_ca = up.ca_file.display().to_string();
    let mut args = vec!["--no-history", "--upstream-ca", &upstream_ca];
    args.extend_from_slice(extra);
    let running = Running::start(&ca_dir, &args);
    let client = crate::support::client::reqwest(
        &format!("http://{}", running.addr),
        &ca_dir.join("llmspy-ca.pem"),
    );
    (up, dir, running, client)
}

/// `--json` through a store holding 5: a burst of 1,500 exchanges gets a
/// line each, those evicted before the log reached them included, and a
/// stream still open at SIGTERM gets its line as cut short by the stop.
#[tokio::test(flavor = "multi_thread")]
async fn the_headless_log_has_a_line_for_every_exchange_and_for_one_the_stop_cut_short() {
    const N: usize = 1500;
    let (up, _dir, running, client) = headless(&["--json", "--max-exchanges", "5"]).await;
    let url = up.https("/hello");
    use futures_util::StreamExt;
    let burst = futures_util::stream::iter(0..N)
        .map(|_| {
            let (client, url) = (client.clone(), url.clone());
            async move { client.get(&url).send().await.expect("relayed").status() }
        })
        .buffer_unordered(32);
    let statuses: Vec<_> = burst.collect().await;
    assert!(statuses.iter().all(|s| s.is_success()));
    // A stream that never ends, open when llmspy is told to stop.
    let open = client.get(up.https("/stall")).send().await.expect("stream");
    assert!(open.status().is_success());
    let left = tokio::task::spawn_blocking(move || running.terminate_and_collect())
        .await
        .expect("join");
    assert!(left.status.success());
    drop(open);
    let lines: Vec<serde_json::Value> = left
        .stdout
        .iter()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let mut ids: Vec<u64> = lines.iter().filter_map(|l| l["id"].as_u64()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), N + 1, "one line per exchange, none twice");
    assert_eq!(lines.len(), N + 1);
    let cut = lines
        .iter()
        .find(|l| l["url"].as_str().is_some_and(|u| u.ends_with("/stall")))
        .expect("the open stream's line");
    assert_eq!(cut["state"], "failed", "{cut}");
    assert_eq!(cut["failure"]["kind"], "shutdown", "{cut}");
}

/// The text log says when the store let exchanges go.
#[tokio::test(flavor = "multi_thread")]
async fn the_headless_log_notes_evictions() {
    let (up, _dir, running, client) = headless(&["--max-exchanges", "2"]).await;
    for _ in 0..4 {
        let r = client
            .get(up.https("/hello"))
            .send()
            .await
            .expect("relayed");
        r.bytes().await.expect("body");
    }
    // Four exchanges through a store of two: two evicted. The first is
    // said at once; the second, too soon after it to be said then, is
    // said at the stop.
    let notes = tokio::task::spawn_blocking(move || {
        let first = running.stderr_containing("oldest exchange(s)");
        let mut rest = running.terminate_and_collect().stderr;
        rest.insert(0, first);
        rest
    })
    .await
    .expect("join");
    let evicted: u64 = notes
        .iter()
        .filter_map(|l| l.split_once("llmspy: evicted ").map(|(_, n)| n))
        .map(|l| {
            l.split(' ')
                .next()
                .unwrap()
                .parse::<u64>()
                .expect("a count")
        })
        .sum();
    assert_eq!(evicted, 2, "{notes:#?}");
}

/// A request head llmspy cannot read (more headers than it parses) is
/// answered by hyper before any exchange exists; the log says so.
#[tokio::test(flavor = "multi_thread")]
async fn a_request_llmspy_cannot_read_is_logged() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().expect("tmp");
    let running = Running::start(
        &dir.path().join("ca"),
        &["--upstream-ca", &up.ca_file.display().to_string()],
    );
    let mut curl = tokio::process::Command::new("curl");
    curl.args([
        "-sS",
        "--max-time",
        "10",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
    ])
    .args(["-x", &format!("http://{}", running.addr)]);
    for i in 0..120 {
        curl.args(["-H", &format!("x-h{i}: v")]);
    }
    let out = curl
        .arg(up.http("/many-headers"))
        .output()
        .await
        .expect("curl");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "431");
    let line = running.stderr_containing("could not read");
    assert!(line.contains("too large"), "{line}");
}

/// A log reader that went away (`llmspy --no-tui 2>&1 | head -1`) must not
/// stop the proxy: std's printing macros panic on a closed pipe, and the
/// banner printed its shell lines with one. Both streams here are pipes
/// whose reading ends are closed before llmspy starts, so every line it
/// writes meets a broken pipe; it must still serve, log, and stop cleanly.
#[tokio::test]
async fn closed_stdout_and_stderr_do_not_stop_llmspy() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().expect("tmp");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let (out_reader, out_writer) = std::io::pipe().expect("pipe");
    let (err_reader, err_writer) = std::io::pipe().expect("pipe");
    drop((out_reader, err_reader));
    let mut child = crate::support::binary::Reaped::new(
        llmspy(&dir.path().join("ca"))
            .args(["--no-tui", "--no-history", "--listen", &addr])
            .arg("--upstream-ca")
            .arg(&up.ca_file)
            .stdout(out_writer)
            .stderr(err_writer)
            .spawn()
            .expect("llmspy starts"),
    );
    // No banner to read: its status answering is the sign it listens.
    let status_url = format!("http://{addr}/llmspy/status");
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let mut listening = false;
    for _ in 0..200 {
        if client.get(&status_url).send().await.is_ok() {
            listening = true;
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("llmspy exited before listening: {status:?}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(listening, "llmspy never answered on {addr}");
    let proxied = reqwest::Client::builder()
        .proxy(reqwest::Proxy::all(format!("http://{addr}")).expect("proxy"))
        .build()
        .expect("client");
    for i in 0..3 {
        let body = proxied
            .get(up.http(&format!("/after-{i}")))
            .send()
            .await
            .expect("served with nobody reading its log")
            .text()
            .await
            .expect("body");
        assert_eq!(body, "ok");
    }
    // Warnings too (a refused control request, TLS sent to the proxy
    // port): tracing reported its failed write with `eprintln!`, which
    // panicked inside the panic hook, an abort.
    let refused = client
        .get(&status_url)
        .header("origin", "http://evil.example")
        .send()
        .await
        .expect("answered");
    assert_eq!(refused.status(), 403);
    let mut tls = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    tokio::io::AsyncWriteExt::write_all(&mut tls, b"\x16\x03\x01\x00\x05hello")
        .await
        .expect("write");
    let mut sink = Vec::new();
    let _ = tokio::io::AsyncReadExt::read_to_end(&mut tls, &mut sink).await;
    let body = proxied
        .get(up.http("/after-warnings"))
        .send()
        .await
        .expect("served after the warnings")
        .text()
        .await
        .expect("body");
    assert_eq!(body, "ok");
    assert_eq!(child.try_wait().expect("wait"), None, "llmspy still runs");
    crate::support::binary::kill(&child, "TERM");
    let status = child.wait().expect("exit");
    assert!(
        status.success(),
        "stopped cleanly, not by a panic: {status:?}"
    );
}
