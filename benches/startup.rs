//! Time from starting the `llmspy` binary (the bench profile: release with
//! debug info) headless to its port accepting a TCP connection:
//! `cargo bench --bench startup`.
//!
//! Each start runs `llmspy --no-tui --listen 127.0.0.1:PORT --ca-dir DIR`
//! with `HOME`, `XDG_DATA_HOME` and `XDG_CONFIG_HOME` in a temporary
//! directory, so the history database, the config file and the CA are the
//! bench's own and the user's are never read or written. The port is
//! picked free beforehand and polled every 100 µs until it accepts; then
//! llmspy gets SIGTERM and is waited for (outside the timing).
//!
//! Three cases, ten starts each: the very first start in a fresh
//! directory (creates the CA and the history database), a start with both
//! already there, and the same with `--no-history`. Then the first HTTPS
//! request through a just-started llmspy (to a TLS upstream on loopback,
//! timed from sending to the whole answer), against a second request on a
//! new connection: what the first client of a run waits for besides the
//! start itself. No thresholds: the numbers are for reading.

// The shared test upstream reads top to bottom; the length limit is for
// the library and the binary.
#![allow(clippy::too_many_lines)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "../tests/it/support/client.rs"]
#[allow(dead_code)]
mod client;
#[path = "../tests/it/support/upstream.rs"]
#[allow(dead_code)]
mod upstream;
#[path = "../tests/it/support/ws_echo.rs"]
mod ws_echo;

const STARTS: usize = 10;

fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr")
}

fn spawn(home: &Path, addr: SocketAddr, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_llmspy"))
        .args(["--no-tui", "--listen", &addr.to_string(), "--ca-dir"])
        .arg(home.join("ca"))
        .args(extra)
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("LLMSPY_LOG", "llmspy=error")
        .env_remove("LLMSPY_LISTEN")
        .env_remove("LLMSPY_CA_DIR")
        .env_remove("LLMSPY_CONFIG")
        .env_remove("LLMSPY_HISTORY")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("llmspy starts")
}

/// One start: the time until the port accepts.
fn start(home: &Path, extra: &[&str]) -> Duration {
    let (took, mut child, _) = start_listening(home, extra);
    stop(&mut child);
    took
}

/// Start llmspy and wait until its port accepts.
fn start_listening(home: &Path, extra: &[&str]) -> (Duration, Child, SocketAddr) {
    let addr = free_port();
    let began = Instant::now();
    let mut child = spawn(home, addr, extra);
    loop {
        if TcpStream::connect(addr).is_ok() {
            break;
        }
        if let Some(status) = child.try_wait().expect("wait") {
            panic!("llmspy exited before listening: {status}");
        }
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "llmspy did not listen"
        );
        std::thread::sleep(Duration::from_micros(100));
    }
    (began.elapsed(), child, addr)
}

/// One request through llmspy at `proxy` on a client of its own (so a new
/// connection and handshake), timed to the end of the answer.
async fn fetch(proxy: SocketAddr, home: &Path, url: &str) -> Duration {
    let client = client::reqwest(
        &format!("http://{proxy}"),
        &home.join("ca").join("llmspy-ca.pem"),
    );
    let began = Instant::now();
    let resp = client.get(url).send().await.expect("request");
    assert!(resp.status().is_success(), "{}", resp.status());
    resp.bytes().await.expect("body");
    began.elapsed()
}

/// The first request through a just-started llmspy and a second one on a
/// new connection, `STARTS` times.
fn first_requests() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let up = rt.block_on(upstream::Upstream::start());
    let url = up.https("/hello");
    let ca = up.ca_file.to_str().expect("utf-8 path").to_string();
    let home = tempfile::tempdir().expect("tmp");
    start(home.path(), &[]);
    let (mut first, mut second) = (Vec::new(), Vec::new());
    for _ in 0..STARTS {
        let (_, mut child, addr) =
            start_listening(home.path(), &["--no-history", "--upstream-ca", &ca]);
        first.push(rt.block_on(fetch(addr, home.path(), &url)));
        second.push(rt.block_on(fetch(addr, home.path(), &url)));
        stop(&mut child);
    }
    report("first request through a just-started llmspy", first);
    report("a second request, on a new connection", second);
}

fn stop(child: &mut Child) {
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    // SAFETY: signalling a child this process started and has not reaped.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    child.wait().expect("llmspy exits");
}

fn report(case: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{case}: median {:.1} ms (min {:.1} ms, max {:.1} ms, {} starts)",
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(times[times.len() - 1]),
        times.len()
    );
}

fn main() {
    let first: Vec<Duration> = (0..STARTS)
        .map(|_| {
            let home = tempfile::tempdir().expect("tmp");
            start(home.path(), &[])
        })
        .collect();
    report("first start (creates the CA and the history)", first);
    let home = tempfile::tempdir().expect("tmp");
    start(home.path(), &[]);
    let again = (0..STARTS).map(|_| start(home.path(), &[])).collect();
    report("start with an existing CA and history", again);
    let bare = (0..STARTS)
        .map(|_| start(home.path(), &["--no-history"]))
        .collect();
    report("start with an existing CA, --no-history", bare);
    first_requests();
}
