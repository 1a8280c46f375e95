//! `llmspy run --start`: a headless llmspy started for one program's
//! lifetime, its log in the CA directory, stopped when the program ends.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::args::CommonArgs;

/// How long a freshly started llmspy may take to answer.
const READY_WITHIN: Duration = Duration::from_secs(20);

/// Between two readiness probes: a starting process gives no other signal
/// a parent can wait on without reading its output.
const PROBE_EVERY: Duration = Duration::from_millis(50);

pub struct Background {
    child: Child,
}

impl Background {
    /// Start `llmspy --no-tui` on `--listen` and wait until `ready` says it
    /// answers.
    pub fn start(
        common: &CommonArgs,
        ca_dir: &Path,
        ready: &dyn Fn() -> bool,
    ) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("finding the llmspy binary")?;
        let log_path = ca_dir.join(format!("llmspy-run-{}.log", common.listen.port()));
        let log = open_log(&log_path).with_context(|| format!("opening {}", log_path.display()))?;
        let mut command = Command::new(exe);
        command
            .args([
                "--no-tui",
                "--listen",
                &common.listen.to_string(),
                "--ca-dir",
            ])
            .arg(ca_dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("log file")?)
            .stderr(log);
        if let Some(token) = &common.control_token {
            command.env("LLMSPY_CONTROL_TOKEN", token);
        }
        let mut child = command.spawn().context("starting a background llmspy")?;
        let deadline = Instant::now() + READY_WITHIN;
        while !ready() {
            if let Some(status) = child.try_wait().context("watching the background llmspy")? {
                bail!(
                    "the background llmspy stopped ({status}); see {}",
                    log_path.display()
                );
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                bail!(
                    "the background llmspy did not answer within {READY_WITHIN:?}; see {}",
                    log_path.display()
                );
            }
            std::thread::sleep(PROBE_EVERY);
        }
        crate::note!(
            "llmspy run: started llmspy on {} for this run (log: {}; `llmspy export` and the API work while it runs)",
            common.listen,
            log_path.display()
        );
        Ok(Background { child })
    }
}

impl Drop for Background {
    /// Stop it the way a user would (SIGTERM), so `--save` files and the
    /// log are finished.
    fn drop(&mut self) {
        #[cfg(unix)]
        {
            if let Ok(pid) = i32::try_from(self.child.id()) {
                // SAFETY: kill(2) with a pid this process started and has not reaped.
                unsafe {
                    libc::kill(pid, libc::SIGTERM);
                }
            }
        }
        #[cfg(not(unix))]
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn open_log(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}
