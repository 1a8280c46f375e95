//! The control plane's gate, with real requests: foreign `Host` and
//! `Origin`, non-JSON bodies, paths outside the files root, the control
//! token, proxy credentials, and what reaches the disk.

use std::path::Path;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::mcp_server::{SECRET_BEARER, SECRET_KEY, Session, direct, proxy, secret_traffic};
use crate::support::binary::{Running, llmspy};
use crate::support::client::reqwest_with;
use crate::support::proxy::{Options, TestProxy};
use crate::support::upstream::Upstream;

/// One raw HTTP/1.1 request, so every header is exactly what a browser or
/// an attacker would send; the status and the body of the answer.
async fn raw(proxy: &TestProxy, head: &str, body: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(proxy.addr)
        .await
        .expect("connect");
    let req = format!(
        "{head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.expect("read");
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    (status, text)
}

async fn status_json(proxy: &TestProxy) -> Value {
    direct()
        .put(format!("{}/llmspy/status", proxy.url()))
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json")
}

/// Wait (bounded, on store events) until `n` refusals were counted.
async fn refused(proxy: &mut TestProxy, n: u64) -> Value {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let s = status_json(proxy).await;
        if s["refused"]["total"].as_u64() >= Some(n) {
            return s["refused"].clone();
        }
        let _ = tokio::time::timeout_at(deadline, proxy.events.recv())
            .await
            .expect("refusals are counted");
    }
}

const EXPECTATION: &str =
    r#"{"httpRequest": {"path": "/injected"}, "httpResponse": {"body": "pwned"}}"#;

#[tokio::test]
async fn a_rebinding_host_is_refused_and_proxied_traffic_is_not() {
    let up = Upstream::start().await;
    let mut proxy = proxy(Some(&up)).await;
    secret_traffic(&mut proxy, &up).await;
    let port = proxy.addr.port();

    // A page on evil.example (resolving to 127.0.0.1) reading the capture.
    let (status, text) = raw(
        &proxy,
        &format!("GET /llmspy/retrieve HTTP/1.1\r\nHost: evil.example:{port}"),
        "",
    )
    .await;
    assert_eq!(status, 421, "{text}");
    assert!(text.contains("Host evil.example"), "{text}");
    assert!(!text.contains(SECRET_KEY), "{text}");
    for route in ["/llmspy/events", "/mockserver/retrieve", "/llmspy/mcp"] {
        let (status, _) = raw(
            &proxy,
            &format!("GET {route} HTTP/1.1\r\nHost: evil.example"),
            "",
        )
        .await;
        assert_eq!(status, 421, "{route}");
    }
    // Loopback names pass.
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let (status, text) = raw(
            &proxy,
            &format!("PUT /llmspy/status HTTP/1.1\r\nHost: {host}"),
            "",
        )
        .await;
        assert_eq!(status, 200, "{host}: {text}");
    }
    // Proxied requests carry the upstream's Host, not llmspy's: unaffected.
    let (status, text) = raw(
        &proxy,
        &format!("GET {} HTTP/1.1\r\nHost: evil.example", up.http("/plain")),
        "",
    )
    .await;
    assert_eq!(status, 200, "{text}");

    let counts = refused(&mut proxy, 4).await;
    assert_eq!(counts["host"], 4, "{counts}");
    assert!(
        counts["last"]
            .as_str()
            .expect("last")
            .contains("evil.example"),
        "{counts}"
    );
}

#[tokio::test]
async fn allowed_hosts_pass() {
    let proxy = TestProxy::with(Options {
        control: llmspy::api::guard::ControlPolicy::new(&["llmspy.internal".into()], None),
        ..Options::default()
    })
    .await;
    let (status, _) = raw(
        &proxy,
        "PUT /llmspy/status HTTP/1.1\r\nHost: llmspy.internal:1080",
        "",
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_cross_origin_page_cannot_inject_answers_or_write_files() {
    let mut proxy = proxy(None).await;
    let port = proxy.addr.port();
    let host = format!("Host: 127.0.0.1:{port}");
    let mcp_call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "create_expectation", "arguments": {"expectation": serde_json::from_str::<Value>(EXPECTATION).unwrap()}}})
    .to_string();

    // The "simple" request a page can send without a preflight.
    let (status, text) = raw(
        &proxy,
        &format!("POST /llmspy/mcp HTTP/1.1\r\n{host}\r\nOrigin: http://evil.example\r\nContent-Type: text/plain"),
        &mcp_call,
    )
    .await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("Origin http://evil.example"), "{text}");
    let (status, _) = raw(
        &proxy,
        &format!("PUT /mockserver/expectation HTTP/1.1\r\n{host}\r\nSec-Fetch-Site: cross-site\r\nContent-Type: application/json"),
        EXPECTATION,
    )
    .await;
    assert_eq!(status, 403);
    // Without an Origin, a body that is not JSON is refused too (415).
    let (status, text) = raw(
        &proxy,
        &format!("PUT /mockserver/expectation HTTP/1.1\r\n{host}\r\nContent-Type: application/x-www-form-urlencoded"),
        EXPECTATION,
    )
    .await;
    assert_eq!(status, 415, "{text}");
    assert!(text.contains("Content-Type: application/json"), "{text}");
    // Nothing was created.
    let active: Value = direct()
        .put(format!(
            "{}/llmspy/retrieve?type=ACTIVE_EXPECTATIONS",
            proxy.url()
        ))
        .send()
        .await
        .expect("retrieve")
        .json()
        .await
        .expect("json");
    assert_eq!(active, json!([]), "{active}");

    // JSON from no page at all (the CLI, curl, an SDK) is the user.
    let (status, text) = raw(
        &proxy,
        &format!("PUT /mockserver/expectation HTTP/1.1\r\n{host}\r\nContent-Type: application/json; charset=utf-8"),
        EXPECTATION,
    )
    .await;
    assert_eq!(status, 201, "{text}");

    let counts = refused(&mut proxy, 3).await;
    assert_eq!(
        (counts["origin"].as_u64(), counts["contentType"].as_u64()),
        (Some(2), Some(1)),
        "{counts}"
    );
}

/// Base-URL mode relays any site's page under llmspy's own origin, the
/// control API's: neither what such a page's script sends nor the page
/// itself may reach the control API as llmspy's own.
#[tokio::test]
async fn a_page_relayed_under_llmspys_origin_cannot_drive_it() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::with(Options {
        upstream_ca: vec![up.ca_file.clone()],
        ..Options::default()
    })
    .await;
    let port = proxy.addr.port();
    let host = format!("Host: 127.0.0.1:{port}");
    let page = format!("/via/https/127.0.0.1:{}/echo", up.tls_addr.port());
    let (status, text) = raw(
        &proxy,
        &format!(
            "POST {page} HTTP/1.1\r\n{host}\r\nSec-Fetch-Mode: navigate\r\nContent-Type: text/html"
        ),
        "<script>fetch('/llmspy/retrieve?type=REQUESTS')</script>",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let head = text
        .split("\r\n\r\n")
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    assert!(
        head.contains("content-security-policy: sandbox"),
        "the relayed page runs sandboxed: {head}"
    );

    // What the page's script would send: a same-origin GET (no Origin, but
    // Sec-Fetch-Site), and a PUT with llmspy's own origin.
    let (status, text) = raw(
        &proxy,
        &format!("GET /llmspy/retrieve?type=REQUESTS HTTP/1.1\r\n{host}\r\nSec-Fetch-Site: same-origin\r\nSec-Fetch-Mode: cors"),
        "",
    )
    .await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("Sec-Fetch-Site: same-origin"), "{text}");
    let (status, text) = raw(
        &proxy,
        &format!("PUT /mockserver/expectation HTTP/1.1\r\n{host}\r\nOrigin: http://127.0.0.1:{port}\r\nContent-Type: application/json"),
        EXPECTATION,
    )
    .await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("web pages may not drive llmspy"), "{text}");
    let counts = refused(&mut proxy, 2).await;
    assert_eq!(counts["origin"].as_u64(), Some(2), "{counts}");
}

/// A directory outside the files root, a file in it, and a symlink from
/// inside the root to it.
struct Outside {
    dir: tempfile::TempDir,
}

impl Outside {
    fn new(root: &Path) -> Outside {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("victim.json"), "precious").expect("victim");
        std::os::unix::fs::symlink(dir.path(), root.join("escape")).expect("symlink");
        Outside { dir }
    }

    fn victim(&self) -> String {
        self.dir.path().join("victim.json").display().to_string()
    }

    fn untouched(&self) {
        let text = std::fs::read_to_string(self.victim()).expect("victim");
        assert_eq!(text, "precious", "a file outside the root was replaced");
    }
}

#[tokio::test]
async fn every_path_taking_route_stays_inside_the_files_root() {
    let up = Upstream::start().await;
    let mut proxy = proxy(Some(&up)).await;
    secret_traffic(&mut proxy, &up).await;
    let outside = Outside::new(&proxy.files_root);
    let escapes = [
        "../victim.json".to_string(),
        outside.victim(),
        "escape/victim.json".into(),
        "escape/new.json".into(),
    ];
    let http = direct();
    let record = format!("{}/llmspy/fixtures/record", proxy.url());

    for path in &escapes {
        let resp = http
            .put(&record)
            .json(&json!({"path": path, "overwrite": true}))
            .send()
            .await
            .expect("put");
        assert_eq!(resp.status(), 403, "{path}");
        let msg = resp.text().await.expect("body");
        assert!(msg.contains("outside the files root"), "{path}: {msg}");
    }
    let mut mcp = Session::open(&proxy).await;
    for path in &escapes {
        for (tool, args) in [
            (
                "record_llm_fixtures",
                json!({"path": path, "overwrite": true}),
            ),
            (
                "export",
                json!({"format": "har", "path": path, "overwrite": true}),
            ),
            ("load_expectations_from_file", json!({"path": path})),
        ] {
            let result = mcp.call(tool, args).await;
            assert_eq!(result["isError"], true, "{tool} {path}: {result}");
            let text = result["content"][0]["text"].as_str().expect("text");
            assert!(
                text.contains("outside the files root"),
                "{tool} {path}: {text}"
            );
        }
    }
    outside.untouched();
    assert!(!outside.dir.path().join("new.json").exists());

    // Inside the root: written once, then 409 unless overwrite is said.
    let ok = mcp
        .ok(
            "export",
            json!({"format": "har", "path": "out/traffic.har"}),
        )
        .await;
    let written = proxy.files_root.join("out/traffic.har");
    assert_eq!(
        ok["path"],
        written
            .canonicalize()
            .expect("written")
            .display()
            .to_string()
    );
    let again = mcp
        .call(
            "export",
            json!({"format": "har", "path": "out/traffic.har"}),
        )
        .await;
    assert_eq!(again["isError"], true, "{again}");
    mcp.ok(
        "export",
        json!({"format": "har", "path": "out/traffic.har", "overwrite": true}),
    )
    .await;
    let har = std::fs::read_to_string(&written).expect("har");
    assert!(
        !har.contains(SECRET_KEY) && !har.contains(SECRET_BEARER),
        "exports are masked"
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&written).expect("meta").permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");

    // Reads take regular files only: a FIFO inside the root is refused at
    // once instead of waiting for a writer.
    let fifo = proxy.files_root.join("pipe.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let fifo_load = mcp
        .call("load_expectations_from_file", json!({"path": "pipe.json"}))
        .await;
    assert_eq!(fifo_load["isError"], true, "{fifo_load}");
    assert!(
        fifo_load.to_string().contains("not a regular file"),
        "{fifo_load}"
    );
    let dev = mcp
        .call("load_expectations_from_file", json!({"path": "/dev/zero"}))
        .await;
    assert_eq!(dev["isError"], true, "{dev}");

    let counts = refused(&mut proxy, 17).await;
    assert_eq!(counts["path"], 17, "{counts}");
}

#[tokio::test]
async fn expectation_files_must_be_regular_and_bounded() {
    let e = llmspy::mock::loader::load(Path::new("/dev/zero")).expect_err("a device");
    assert!(e.to_string().contains("not a regular file"), "{e}");
}

#[tokio::test]
async fn a_control_token_is_required_when_set() {
    let proxy = TestProxy::with(Options {
        control: llmspy::api::guard::ControlPolicy::new(&[], Some("t0ken".into())),
        ..Options::default()
    })
    .await;
    let url = format!("{}/llmspy/status", proxy.url());
    let none = direct().put(&url).send().await.expect("put");
    assert_eq!(none.status(), 401);
    assert!(none.headers().contains_key("www-authenticate"));
    let wrong = direct()
        .put(&url)
        .bearer_auth("t0keN")
        .send()
        .await
        .expect("put");
    assert_eq!(wrong.status(), 401);
    let right = direct()
        .put(&url)
        .bearer_auth("t0ken")
        .send()
        .await
        .expect("put");
    assert_eq!(right.status(), 200);
    // The CA certificate stays public.
    let ca = direct()
        .get(format!("{}/llmspy/ca.pem", proxy.url()))
        .send()
        .await
        .expect("get");
    assert_eq!(ca.status(), 200);
}

#[tokio::test]
async fn proxy_clients_need_credentials_when_asked() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::with(Options {
        upstream_ca: vec![up.ca_file.clone()],
        proxy_auth: Some(llmspy::engine::ProxyCredentials {
            user: "me".into(),
            password: "pa:ss".into(),
        }),
        ..Options::default()
    })
    .await;
    let url = proxy.url();

    let anonymous = reqwest_with(
        reqwest::Proxy::all(&url).expect("proxy"),
        &proxy.ca_file,
        false,
    );
    let plain = anonymous
        .get(up.http("/plain"))
        .send()
        .await
        .expect("answer");
    assert_eq!(plain.status(), 407);
    assert!(plain.headers().contains_key("proxy-authenticate"));
    assert!(
        anonymous.get(up.https("/hello")).send().await.is_err(),
        "CONNECT is refused"
    );

    let authed = reqwest_with(
        reqwest::Proxy::all(&url)
            .expect("proxy")
            .basic_auth("me", "pa:ss"),
        &proxy.ca_file,
        false,
    );
    assert_eq!(
        authed
            .get(up.https("/hello"))
            .send()
            .await
            .expect("tls")
            .status(),
        200
    );
    assert_eq!(
        authed
            .get(up.http("/plain"))
            .send()
            .await
            .expect("plain")
            .status(),
        200
    );
    let socks = |auth: &str| {
        let proxy_url = format!("socks5h://{auth}{}", proxy.addr);
        reqwest_with(
            reqwest::Proxy::all(proxy_url).expect("proxy"),
            &proxy.ca_file,
            false,
        )
    };
    assert_eq!(
        socks("me:pa%3Ass@")
            .get(up.https("/hello"))
            .send()
            .await
            .expect("socks")
            .status(),
        200
    );
    assert!(
        socks("me:nope@")
            .get(up.https("/hello"))
            .send()
            .await
            .is_err()
    );
    assert!(socks("").get(up.https("/hello")).send().await.is_err());

    // The credentials are not passed upstream.
    let seen = up.seen();
    assert!(
        seen.iter()
            .all(|s| !s.headers.contains_key("proxy-authorization")),
        "proxy credentials went upstream"
    );
    let counts = refused(&mut proxy, 4).await;
    assert_eq!(counts["proxyAuth"], 4, "{counts}");
}

fn mode_of(path: &Path) -> u32 {
    std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(path).expect("meta").permissions())
        & 0o777
}

fn curl(args: &[&str]) -> std::process::Output {
    std::process::Command::new("curl")
        .args(["-sS", "--noproxy", "", "--max-time", "20"])
        .args(args)
        .output()
        .expect("curl runs")
}

/// The binary as a user runs it: `--save` is private and masked, the
/// README's curl commands work, a rebinding page is refused with a warning
/// line in the headless log.
// Blocking child processes below: the upstream needs its own thread.
#[tokio::test(flavor = "multi_thread")]
async fn the_binary_saves_privately_and_logs_refusals() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().expect("tmp");
    let save = dir.path().join("capture.jsonl");
    let upstream_ca = up.ca_file.display().to_string();
    let files = dir.path().join("files");
    std::fs::create_dir(&files).expect("files root");
    let running = Running::start(
        &dir.path().join("ca"),
        &[
            "--save",
            save.to_str().expect("utf8"),
            "--upstream-ca",
            &upstream_ca,
            "--files-root",
            files.to_str().expect("utf8"),
        ],
    );
    let api = format!("http://{}/llmspy", running.addr);
    let proxy = format!("http://{}", running.addr);
    let sent = curl(&[
        "-x",
        &proxy,
        "-H",
        &format!("x-api-key: {SECRET_KEY}"),
        &up.http("/plain"),
    ]);
    assert_eq!(String::from_utf8_lossy(&sent.stdout), "ok");
    running.line_containing("/plain");

    // The README's commands.
    let status = curl(&["-X", "PUT", &format!("{api}/status")]);
    let status: Value = serde_json::from_slice(&status.stdout).expect("status JSON");
    assert_eq!(status["exchanges"], 1, "{status}");
    let created = curl(&[
        "-X",
        "PUT",
        &format!("{api}/expectation"),
        "-H",
        "Content-Type: application/json",
        "-d",
        EXPECTATION,
        "-w",
        "%{http_code}",
        "-o",
        "/dev/null",
    ]);
    assert_eq!(String::from_utf8_lossy(&created.stdout), "201");
    let har = dir.path().join("traffic.har");
    let exported = curl(&[
        "-X",
        "PUT",
        &format!("{api}/retrieve?type=REQUEST_RESPONSES&format=HAR"),
        "-o",
        har.to_str().expect("utf8"),
    ]);
    assert!(exported.status.success());
    assert!(
        !std::fs::read_to_string(&har)
            .expect("har")
            .contains(SECRET_KEY)
    );
    // MockServer's documented form, without a Content-Type, is told what to add.
    let form = curl(&[
        "-X",
        "PUT",
        &format!("{api}/expectation"),
        "-d",
        EXPECTATION,
    ]);
    let form = String::from_utf8_lossy(&form.stdout);
    assert!(
        form.contains("-H 'Content-Type: application/json'"),
        "{form}"
    );

    let rebound = curl(&[
        "-H",
        "Host: evil.example",
        "-w",
        "%{http_code}",
        "-o",
        "/dev/null",
        &format!("{api}/retrieve"),
    ]);
    assert_eq!(String::from_utf8_lossy(&rebound.stdout), "421");
    let warning = running.stderr_containing("Host evil.example");
    assert!(warning.contains("refused a control request"), "{warning}");

    // Directories llmspy makes are its owner's alone, as XDG asks: the CA
    // directory, and a fixture's new folders under the files root.
    let recorded = curl(&[
        "-X",
        "PUT",
        &format!("{api}/fixtures/record"),
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"path": "fx/sub/fixture.json"}"#,
        "-w",
        "%{http_code}",
        "-o",
        "/dev/null",
    ]);
    assert_eq!(String::from_utf8_lossy(&recorded.stdout), "200");

    assert!(running.terminate().success());
    assert_eq!(mode_of(&save), 0o600);
    assert_eq!(mode_of(&dir.path().join("ca")), 0o700, "the CA directory");
    assert_eq!(mode_of(&files.join("fx")), 0o700);
    assert_eq!(mode_of(&files.join("fx/sub")), 0o700);
    assert_eq!(mode_of(&files.join("fx/sub/fixture.json")), 0o600);
    let saved = std::fs::read_to_string(&save).expect("save file");
    assert!(!saved.contains(SECRET_KEY), "--save masks secrets: {saved}");
    assert!(saved.contains("REDACTED"), "{saved}");
}

// Blocking child processes below: the upstream needs its own thread.
#[tokio::test(flavor = "multi_thread")]
async fn save_secrets_keeps_them_and_says_so() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().expect("tmp");
    let save = dir.path().join("capture.jsonl");
    let running = Running::start(
        &dir.path().join("ca"),
        &["--save", save.to_str().expect("utf8"), "--save-secrets"],
    );
    let proxy = format!("http://{}", running.addr);
    curl(&[
        "-x",
        &proxy,
        "-H",
        &format!("x-api-key: {SECRET_KEY}"),
        &up.http("/plain"),
    ]);
    running.line_containing("/plain");
    assert!(running.terminate().success());
    assert_eq!(mode_of(&save), 0o600);
    assert!(
        std::fs::read_to_string(&save)
            .expect("save")
            .contains(SECRET_KEY)
    );
}

/// With a control token, requests without it are refused and the CLI
/// subcommands send it from `LLMSPY_CONTROL_TOKEN`.
#[tokio::test]
async fn the_cli_passes_the_control_token() {
    let dir = tempfile::tempdir().expect("tmp");
    let ca_dir = dir.path().join("ca");
    let running = Running::start(&ca_dir, &["--control-token", "s3cret-token"]);
    let retrieve = |token: Option<&str>| {
        let mut c = llmspy(&ca_dir);
        c.args(["retrieve", "--listen", &running.addr]);
        match token {
            Some(t) => c.env("LLMSPY_CONTROL_TOKEN", t),
            None => c.env_remove("LLMSPY_CONTROL_TOKEN"),
        };
        c.output().expect("retrieve runs")
    };
    let without = retrieve(None);
    assert_eq!(without.status.code(), Some(2));
    let err = String::from_utf8_lossy(&without.stderr);
    assert!(
        err.contains("401") && err.contains("control token"),
        "{err}"
    );
    let with = retrieve(Some("s3cret-token"));
    assert!(
        with.status.code() == Some(1) || with.status.success(),
        "{}",
        String::from_utf8_lossy(&with.stderr)
    );
    let listed: Value = serde_json::from_slice(&with.stdout).expect("JSON");
    assert_eq!(listed, json!([]));

    // `run` says what it needs, and does not try to start a second llmspy.
    let run = |token: Option<&str>| {
        let mut c = llmspy(&ca_dir);
        c.args(["run", "--start", "--listen", &running.addr, "--", "true"]);
        match token {
            Some(t) => c.env("LLMSPY_CONTROL_TOKEN", t),
            None => c.env_remove("LLMSPY_CONTROL_TOKEN"),
        };
        c.output().expect("run runs")
    };
    let without = run(None);
    let err = String::from_utf8_lossy(&without.stderr);
    assert_eq!(without.status.code(), Some(2), "{err}");
    assert!(
        err.contains("refused run's check (401") && err.contains("LLMSPY_CONTROL_TOKEN"),
        "{err}"
    );
    let wrong = run(Some("not-the-token"));
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(err.contains("is not the one it was started with"), "{err}");
    let with = run(Some("s3cret-token"));
    assert!(
        with.status.success(),
        "{}",
        String::from_utf8_lossy(&with.stderr)
    );
    // A program that is not there exits as a shell says it: 127.
    let missing = llmspy(&ca_dir)
        .args(["run", "--listen", &running.addr, "--", "/nonexistent/agent"])
        .env("LLMSPY_CONTROL_TOKEN", "s3cret-token")
        .output()
        .expect("run runs");
    assert_eq!(missing.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot start /nonexistent/agent"));
    assert!(running.terminate().success());
}

/// A tunnel (CONNECT) to llmspy's own port: relayed, its requests reached
/// the control API on a fresh loopback connection, which the gate trusts
/// whoever opened the tunnel (a remote client of `--listen 0.0.0.0` read
/// every captured key that way). Now plain HTTP in such a tunnel is served
/// by the API as from the tunnel's own client (so a local client that
/// tunnels everything, as undici's proxy agent does, still reaches it), no
/// relayed exchange is made of it, and anything else in it is closed.
#[tokio::test]
async fn a_tunnel_to_llmspy_itself_is_judged_by_who_opened_it() {
    let mut proxy = TestProxy::with(Options::default()).await;
    let port = proxy.addr.port();
    let open_tunnel = || async {
        let mut s = tokio::net::TcpStream::connect(proxy.addr)
            .await
            .expect("connect");
        s.write_all(
            format!("CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n")
                .as_bytes(),
        )
        .await
        .expect("write");
        let mut head = [0u8; 64];
        let n = s.read(&mut head).await.expect("read");
        assert!(
            String::from_utf8_lossy(&head[..n]).starts_with("HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&head[..n])
        );
        s
    };

    let mut s = open_tunnel().await;
    s.write_all(
        format!(
            "GET /llmspy/status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.expect("read");
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.starts_with("HTTP/1.1 200") && text.contains("\"ports\""),
        "{text}"
    );
    assert_eq!(
        proxy.store.read().count(),
        0,
        "answered by the API, not relayed to it as an exchange"
    );

    // A SOCKS5 greeting inside the tunnel would open a second tunnel from
    // llmspy's own loopback socket: closed instead.
    let mut s = open_tunnel().await;
    s.write_all(&[5, 1, 0]).await.expect("write");
    let mut rest = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut rest))
        .await
        .expect("closed, not left open");
    assert!(read.is_err() || rest.is_empty(), "{rest:?}");
    let _ = proxy.events.try_recv();
}
