//! `llmspy run -- CMD`: run a program pointed at llmspy — the one already
//! listening, or (`--start`) one started headless for the program's
//! lifetime.

use std::io::{IsTerminal, Write as _};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;

use super::args::{CommonArgs, RunArgs};
use super::background::Background;
use super::child_env::{Inputs, NODE_PRELOAD, NODE_PRELOAD_FILE, Plan, app_name};
use super::env::connectable;
use crate::ca::CertificateAuthority;

pub fn run(
    common: &CommonArgs,
    ca: &CertificateAuthority,
    args: &RunArgs,
) -> anyhow::Result<ExitCode> {
    let Some((program, rest)) = args.command.split_first() else {
        bail!("nothing to run: give a command after `--`, e.g. `llmspy run -- claude`");
    };
    let addr = connectable(common.listen);
    let token = common.control_token.as_deref().filter(|t| !t.is_empty());
    let _background = reach_llmspy(common, ca, args, addr, token)?;
    let preload = ca.dir().join(NODE_PRELOAD_FILE);
    let preload = match write_private(&preload, NODE_PRELOAD) {
        Ok(()) => Some(preload),
        Err(e) => {
            crate::note!(
                "llmspy run: cannot write {} ({e}); Node's fetch is set up by NODE_USE_ENV_PROXY only",
                preload.display()
            );
            None
        }
    };
    let proxy_auth = std::env::var("LLMSPY_PROXY_AUTH")
        .ok()
        .filter(|v| !v.is_empty());
    let current = |name: &str| std::env::var(name).ok();
    let plan = Plan::build(&Inputs {
        listen: common.listen,
        ca,
        app: app_name(program),
        proxy_auth: proxy_auth.as_deref(),
        keep_no_proxy: args.keep_no_proxy,
        control_token: token,
        preload: preload.as_deref(),
        current: &current,
    });
    crate::note!("{}", plan.summary(program, addr));
    if args.explain {
        crate::note!("{}", plan.explain().trim_end_matches('\n'));
    }
    let mut command = std::process::Command::new(program);
    command.args(rest);
    for s in &plan.set {
        command.env(s.name, &s.value);
    }
    for (name, _) in &plan.cleared {
        command.env_remove(name);
    }
    let status = match command.status() {
        Ok(status) => status,
        // As a shell says it: 127 not found, 126 found but not runnable.
        Err(e) => {
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            crate::note!("llmspy run: cannot start {program}: {e}");
            return Ok(ExitCode::from(code));
        }
    };
    Ok(exit_code(status))
}

/// The llmspy the program will go through: the one listening, or one
/// started in the background (dropped when the program ends).
fn reach_llmspy(
    common: &CommonArgs,
    ca: &CertificateAuthority,
    args: &RunArgs,
    addr: SocketAddr,
    token: Option<&str>,
) -> anyhow::Result<Option<Background>> {
    let probe = || llmspy_listening(addr, token) == Probe::Llmspy;
    Ok(match llmspy_listening(addr, token) {
        Probe::Llmspy => None,
        Probe::Refused(status) if token.is_some() => bail!(
            "llmspy on {addr} refused run's check ({status}): the control token given \
             (LLMSPY_CONTROL_TOKEN or --control-token) is not the one it was started with"
        ),
        Probe::Refused(status) => bail!(
            "llmspy on {addr} refused run's check ({status}): it wants its control token; \
             set LLMSPY_CONTROL_TOKEN (or pass --control-token) to the value it was started with"
        ),
        Probe::Other => bail!(
            "something other than llmspy listens on {addr}: pass the address llmspy uses with --listen"
        ),
        Probe::Nothing if args.start || offer_to_start(addr) => {
            Some(Background::start(common, ca.dir(), &probe)?)
        }
        Probe::Nothing => bail!(
            "no llmspy is listening on {addr}: start it first in another terminal (`llmspy`, or `llmspy --no-tui`), \
             pass the address it uses with --listen, or add --start to run one in the background"
        ),
    })
}

/// Ask on a terminal whether to start llmspy; never when not interactive.
fn offer_to_start(addr: SocketAddr) -> bool {
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return false;
    }
    let mut stderr = std::io::stderr();
    let _ = write!(
        stderr,
        "llmspy run: no llmspy is listening on {addr}. Start one in the background for this run? [Y/n] "
    );
    let _ = stderr.flush();
    let mut answer = String::new();
    if std::io::stdin().read_line(&mut answer).is_err() {
        return false;
    }
    let answer = answer.trim().to_ascii_lowercase();
    answer.is_empty() || answer == "y" || answer == "yes"
}

/// Write a file only its owner can read (it sits beside the CA key).
pub(super) fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if std::fs::read_to_string(path).is_ok_and(|t| t == text) {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).write(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}

fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    if let Some(code) = status.code() {
        return ExitCode::from(code.clamp(0, 255) as u8);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return ExitCode::from((128 + sig).clamp(0, 255) as u8);
        }
    }
    ExitCode::FAILURE
}

/// What answered at llmspy's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    Llmspy,
    /// llmspy, refusing the check (its control token): the status line.
    Refused(String),
    /// Something that is not llmspy.
    Other,
    Nothing,
}

/// Ask `PUT /llmspy/status` whether what listens there is llmspy.
pub fn llmspy_listening(addr: SocketAddr, token: Option<&str>) -> Probe {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return Probe::Nothing;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let request = format!(
        "PUT /llmspy/status HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return Probe::Other;
    }
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    let status = reply.lines().next().unwrap_or_default();
    if status.starts_with("HTTP/1.1 200") && reply.contains("\"ports\"") {
        Probe::Llmspy
    } else if (status.starts_with("HTTP/1.1 401") || status.starts_with("HTTP/1.1 403"))
        && reply.contains("control")
    {
        Probe::Refused(status.trim_start_matches("HTTP/1.1 ").to_string())
    } else {
        Probe::Other
    }
}
