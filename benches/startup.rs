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
//! already there, and the same with `--no-history`. No thresholds: the
//! numbers are for reading.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
    let took = began.elapsed();
    stop(&mut child);
    took
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
}
