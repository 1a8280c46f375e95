//! The llmspy under load: the release binary, headless on a free port,
//! its memory read from `/proc` and its finished exchanges counted by
//! `/llmspy/status` (the log may skip lines under a burst, by design).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct Llmspy {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Llmspy {
    pub fn start() -> Llmspy {
        let dir = tempfile::tempdir().expect("tmp");
        let mut child = Command::new(env!("CARGO_BIN_EXE_llmspy"))
            .args(["--no-tui", "--listen", "127.0.0.1:0", "--ca-dir"])
            .arg(dir.path())
            .env("LLMSPY_LOG", "llmspy=error")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("llmspy starts");
        let stderr = BufReader::new(child.stderr.take().expect("stderr"));
        let (addr_tx, addr_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let _ = addr_tx.send(rest.split_whitespace().next().unwrap_or("").to_string());
                }
            }
        });
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        std::thread::spawn(move || stdout.lines().map_while(Result::ok).for_each(drop));
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("banner");
        Llmspy {
            child,
            addr,
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Wait until llmspy has recorded `n` exchanges and none is open.
    /// Polled: the status is the only place that says so without loss.
    pub async fn wait_finished(&self, n: usize) {
        let started = std::time::Instant::now();
        loop {
            let status = self.api("status").await;
            let recorded = status["recorded"].as_u64().unwrap_or(0) as usize;
            if recorded >= n && status["open"] == 0 {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "llmspy recorded {recorded} of {n} exchanges: {status}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn api(&self, route: &str) -> serde_json::Value {
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client");
        let body = client
            .put(format!("{}/llmspy/{route}", self.url()))
            .send()
            .await
            .expect("control API")
            .bytes()
            .await
            .expect("answer");
        serde_json::from_slice(&body).expect("JSON")
    }

    fn status(&self, field: &str) -> u64 {
        let text = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        text.lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    }

    pub fn rss(&self) -> u64 {
        self.status("VmRSS:")
    }

    pub fn peak(&self) -> u64 {
        self.status("VmHWM:")
    }

    /// Count the peak afresh from now ("5": reset the peak RSS).
    pub fn reset_peak(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5");
    }

    /// Every captured exchange, as `retrieve` gives it.
    pub async fn retrieve(&self) -> Vec<serde_json::Value> {
        let all = self
            .api("retrieve?type=REQUEST_RESPONSES&format=JSON")
            .await;
        all.as_array().cloned().unwrap_or_default()
    }

    pub fn stop(mut self) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}
