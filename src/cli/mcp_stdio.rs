//! `llmspy mcp-stdio -- CMD ARGS…`: run a stdio MCP server as a child,
//! pass stdin and stdout through byte for byte, and report each JSON-RPC
//! exchange (both directions, paired by id) to the running llmspy, where
//! it shows as MCP traffic. Configure an agent by putting
//! `llmspy mcp-stdio --` in front of the server command.
//!
//! Reporting never holds the pipes up: lines are copied first, then handed
//! to a background thread that posts them to `/llmspy/mcp-stdio/ingest`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use http::Method;
use serde_json::{Value, json};

use super::args::CommonArgs;
use super::control::Control;

/// Messages waiting for their answer, by direction and id.
type Pending = Arc<Mutex<HashMap<String, (Value, Instant)>>>;

pub fn run(
    common: &CommonArgs,
    server: Option<&str>,
    command: &[String],
) -> anyhow::Result<ExitCode> {
    let (program, rest) = command
        .split_first()
        .context("no server command given after --")?;
    let control = Control::new(common, server)?;
    // The wrapped server must run either way (the agent depends on it), but
    // say at once when its messages will not be recorded.
    if !control.is_listening() {
        crate::note!(
            "llmspy mcp-stdio: no llmspy is listening at {}; the server runs, but its messages are not recorded (start `llmspy`, or pass --server URL)",
            control.authority()
        );
    }
    let mut child = Command::new(program)
        .args(rest)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {program}"))?;
    let name = std::path::Path::new(program)
        .file_name()
        .map_or_else(|| program.clone(), |n| n.to_string_lossy().into_owned());
    let (tx, rx) = mpsc::channel::<Value>();
    let stop = tx.clone();
    let poster = std::thread::spawn(move || post_all(&control, rx));
    let from_client: Pending = Arc::default();
    let from_server: Pending = Arc::default();
    let child_in = child.stdin.take().context("child stdin")?;
    let child_out = child.stdout.take().context("child stdout")?;
    let up = Relay {
        name: name.clone(),
        tx: tx.clone(),
        mine: from_client.clone(),
        theirs: from_server.clone(),
    };
    let down = Relay {
        name,
        tx,
        mine: from_server,
        theirs: from_client,
    };
    std::thread::spawn(move || up.copy(std::io::stdin().lock(), child_in));
    let out = std::thread::spawn(move || down.copy(child_out, std::io::stdout().lock()));
    let status = child.wait().context("waiting for the server")?;
    let _ = out.join();
    // The server is gone: report what is queued and stop, even while the
    // client keeps our stdin open (its copier never ends then).
    let _ = stop.send(Value::Null);
    let _ = poster.join();
    Ok(ExitCode::from(
        status.code().unwrap_or(1).clamp(0, 255) as u8
    ))
}

/// One direction of the pipe.
struct Relay {
    name: String,
    tx: mpsc::Sender<Value>,
    /// Requests sent in this direction, awaiting an answer from the other.
    mine: Pending,
    /// Requests sent the other way, which this direction answers.
    theirs: Pending,
}

impl Relay {
    fn copy(self, from: impl Read, mut to: impl Write) {
        let mut reader = BufReader::new(from);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            // Note a request before passing it on: the answer may come
            // back on the other thread before this one gets to run again.
            if let Ok(msg) = serde_json::from_slice::<Value>(&line) {
                self.observe(msg);
            }
            if to.write_all(&line).and_then(|()| to.flush()).is_err() {
                return;
            }
        }
    }

    /// Pair a message with its request, or hold it until answered.
    fn observe(&self, msg: Value) {
        let id = msg.get("id").filter(|v| !v.is_null()).map(Value::to_string);
        let is_request = msg.get("method").is_some();
        match (id, is_request) {
            (Some(id), true) => {
                lock(&self.mine).insert(id, (msg, Instant::now()));
            }
            (Some(id), false) => {
                if let Some((request, at)) = lock(&self.theirs).remove(&id) {
                    self.report(request, Some(msg), at);
                }
            }
            (None, _) => self.report(msg, None, Instant::now()),
        }
    }

    fn report(&self, request: Value, response: Option<Value>, at: Instant) {
        let _ = self.tx.send(json!({
            "command": self.name, "request": request, "response": response,
            "durationUs": at.elapsed().as_micros() as u64,
        }));
    }
}

fn lock(p: &Pending) -> std::sync::MutexGuard<'_, HashMap<String, (Value, Instant)>> {
    p.lock().unwrap_or_else(|e| e.into_inner())
}

fn post_all(control: &Control, rx: mpsc::Receiver<Value>) {
    let mut warned = false;
    for doc in rx {
        if doc.is_null() {
            return;
        }
        if let Err(e) = control.json(Method::POST, "mcp-stdio/ingest", &doc)
            && !warned
        {
            crate::note!(
                "llmspy mcp-stdio: cannot report to llmspy ({e:#}); the server still runs"
            );
            warned = true;
        }
    }
}
