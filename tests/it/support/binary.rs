//! The real `llmspy` binary, run headless on a free port, its output lines
//! on channels.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_llmspy");

pub fn llmspy(ca_dir: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--ca-dir")
        .arg(ca_dir)
        .env_remove("LLMSPY_LISTEN")
        .env("LLMSPY_LOG", "llmspy=warn");
    c
}

/// A child process killed and reaped when dropped, so that a test that
/// ends without stopping its llmspy (or fails before it could) leaves no
/// process behind.
pub struct Reaped(Child);

impl Reaped {
    pub fn new(child: Child) -> Reaped {
        Reaped(child)
    }
}

impl std::ops::Deref for Reaped {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Reaped {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// A headless llmspy whose output lines arrive on channels.
pub struct Running {
    pub child: Reaped,
    pub addr: String,
    pub stdout: mpsc::Receiver<String>,
    /// stderr after the banner: warnings.
    pub stderr: mpsc::Receiver<String>,
    /// stderr lines before the banner (start-up warnings).
    pub early: Vec<String>,
}

impl Running {
    pub fn start(ca_dir: &std::path::Path, extra: &[&str]) -> Running {
        Self::spawn(llmspy(ca_dir), extra)
    }

    /// As [`Running::start`], with SIGHUP ignored as `nohup` does.
    pub fn start_under_nohup(ca_dir: &std::path::Path, extra: &[&str]) -> Running {
        use std::os::unix::process::CommandExt;
        let mut command = llmspy(ca_dir);
        // SAFETY: `signal` is async-signal-safe, as `pre_exec` requires.
        unsafe {
            command.pre_exec(|| {
                libc::signal(libc::SIGHUP, libc::SIG_IGN);
                Ok(())
            });
        }
        Self::spawn(command, extra)
    }

    fn spawn(mut command: Command, extra: &[&str]) -> Running {
        let mut child = command
            .args(["--no-tui", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("llmspy starts");
        let (err_tx, err_rx) = mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = err_tx.send(line);
            }
        });
        let (out_tx, stdout) = mpsc::channel();
        let out = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = out_tx.send(line);
            }
        });
        // The banner line is the readiness signal.
        let mut early = Vec::new();
        let addr = loop {
            let line = err_rx
                .recv_timeout(Duration::from_secs(20))
                .expect("banner");
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest.split_whitespace().next().expect("addr").to_string();
            }
            early.push(line);
        };
        Running {
            child: Reaped(child),
            addr,
            stdout,
            stderr: err_rx,
            early,
        }
    }

    pub fn line_containing(&self, needle: &str) -> String {
        loop {
            let line = self
                .stdout
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| {
                    let stderr: Vec<String> = self.stderr.try_iter().collect();
                    panic!("no log line with {needle}; llmspy's stderr meanwhile: {stderr:?}")
                });
            if line.contains(needle) {
                return line;
            }
        }
    }

    /// The next stderr line containing `needle` (waits, bounded).
    pub fn stderr_containing(&self, needle: &str) -> String {
        loop {
            let line = self
                .stderr
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("no stderr line with {needle}"));
            if line.contains(needle) {
                return line;
            }
        }
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then every stdout and stderr line not yet read, up to the
    /// end of each.
    pub fn terminate_and_collect(self) -> Collected {
        let Running {
            mut child,
            stdout,
            stderr,
            ..
        } = self;
        kill(&child, "TERM");
        let status = child.wait().expect("exit");
        // The reader threads end at the end of the output, closing the channels.
        Collected {
            status,
            stdout: stdout.iter().collect(),
            stderr: stderr.iter().collect(),
        }
    }

    pub fn terminate(self) -> std::process::ExitStatus {
        self.signal("TERM")
    }

    /// Send the signal named (`TERM`, `HUP`, …) and wait for the exit. A
    /// failed exit prints what llmspy said meanwhile, for the test's report.
    pub fn signal(mut self, name: &str) -> std::process::ExitStatus {
        self.send_signal(name);
        let status = self.child.wait().expect("exit");
        if !status.success() {
            // The reader thread ends at the end of the output.
            let said: Vec<String> = self.stderr.iter().collect();
            eprintln!("llmspy exited with {status} after SIG{name}; its stderr since the banner:");
            for line in said {
                eprintln!("  {line}");
            }
        }
        status
    }

    /// Send the signal named, and go on.
    pub fn send_signal(&self, name: &str) {
        kill(&self.child, name);
    }
}

/// Send `child` the signal named (`TERM`, `HUP`, `INT`) with kill(2), at
/// once: a `kill` process takes milliseconds to start, long enough to hide
/// a window in which llmspy is not yet listening for stop signals.
pub fn kill(child: &Child, name: &str) {
    let signal = match name {
        "TERM" => libc::SIGTERM,
        "HUP" => libc::SIGHUP,
        "INT" => libc::SIGINT,
        other => panic!("no such stop signal in the tests: {other}"),
    };
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    // SAFETY: kill(2) with the pid of a child this process has not reaped.
    let sent = unsafe { libc::kill(pid, signal) };
    assert_eq!(sent, 0, "kill -{name}: {}", std::io::Error::last_os_error());
}

/// What a terminated llmspy left: its exit status and the lines not yet read.
pub struct Collected {
    pub status: std::process::ExitStatus,
    pub stdout: Vec<String>,
    pub stderr: Vec<String>,
}

/// Assert a finished command succeeded, showing its stderr if not.
pub fn assert_success(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
