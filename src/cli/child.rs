//! `llmspy run -- CMD`: run a program pointed at the llmspy already listening.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};

use super::env::{agent_vars, connectable};
use crate::ca::CertificateAuthority;

pub fn run(
    listen: SocketAddr,
    ca: &CertificateAuthority,
    command: &[String],
) -> anyhow::Result<ExitCode> {
    let addr = connectable(listen);
    if !llmspy_listening(addr) {
        bail!(
            "no llmspy is listening on {addr}: start it first in another terminal (`llmspy`, or `llmspy --no-tui`), \
             or pass the address it uses with --listen"
        );
    }
    let Some((program, args)) = command.split_first() else {
        bail!("nothing to run: give a command after `--`, e.g. `llmspy run -- claude`");
    };
    let status = std::process::Command::new(program)
        .args(args)
        .envs(agent_vars(listen, ca))
        .status()
        .with_context(|| format!("cannot start {program}"))?;
    Ok(exit_code(status))
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

/// Ask `PUT /llmspy/status` whether what listens there is llmspy.
fn llmspy_listening(addr: SocketAddr) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!(
        "PUT /llmspy/status HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply.starts_with("HTTP/1.1 200") && reply.contains("\"ports\"")
}
