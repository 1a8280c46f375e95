//! `--no-tui`: one line per finished exchange on stdout (or one JSON object
//! per line with `--json`).
//!
//! The log is a capture sink, not a store-event consumer like the TUI: a
//! sink is handed every finished exchange, in order and without loss, with
//! the record itself. Store events are a bounded broadcast that a reader
//! far enough behind skips through (under a burst the log had lost lines),
//! and a line made from the store missed an exchange evicted before it was
//! printed. At shutdown the capture's last flush is answered once every
//! line before it is written, so exchanges cut short by the stop are logged
//! too.

use std::io::Write;

use serde_json::json;
use tokio::sync::mpsc;

use crate::capture::{Record, SinkMsg, StoreReader};
use crate::exchange::{Exchange, State};

/// Print finished exchanges until the capture ends.
pub async fn run(mut finished: mpsc::UnboundedReceiver<SinkMsg>, store: StoreReader, json: bool) {
    let mut out = String::new();
    let mut flushes = Vec::new();
    let mut evictions = Evictions::default();
    while let Some(msg) = finished.recv().await {
        take(msg, json, &mut out, &mut flushes);
        // Under load many exchanges finish between two wake-ups: print
        // them with one write, not one system call each.
        while out.len() < BATCH_BYTES
            && let Ok(msg) = finished.try_recv()
        {
            take(msg, json, &mut out, &mut flushes);
        }
        // Eviction notes are for people: `--json` output stays JSON lines.
        // A flush (the stop's last one among them) settles the count: the
        // process may end once it is answered.
        if !json {
            let evicted = store.read().evicted();
            if flushes.is_empty() {
                evictions.note(evicted);
            } else {
                evictions.settle(evicted);
            }
        }
        print(&mut out);
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
    }
    print(&mut out);
    if !json {
        evictions.settle(store.read().evicted());
    }
}

/// Evictions are said at once the first time, then at most every
/// [`NOTE_EVERY`] with the count since (a note per batch of lines had put
/// 163 notes beside 200 lines with `--max-exchanges 3`). Read from the
/// store's counter rather than its events, which would wake the log
/// several times for every exchange.
#[derive(Default)]
struct Evictions {
    said: u64,
    at: Option<std::time::Instant>,
}

const NOTE_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

impl Evictions {
    fn note(&mut self, evicted: u64) {
        if evicted <= self.said || self.at.is_some_and(|at| at.elapsed() < NOTE_EVERY) {
            return;
        }
        crate::note!(
            "llmspy: evicted {} oldest exchange(s) to stay within the capture limits",
            evicted - self.said
        );
        self.said = evicted;
        self.at = Some(std::time::Instant::now());
    }

    /// At the end: what was evicted since the last note, however recent.
    fn settle(&mut self, evicted: u64) {
        self.at = None;
        self.note(evicted);
    }
}

/// The most bytes of lines gathered into one write.
const BATCH_BYTES: usize = 64 * 1024;

fn take(
    msg: SinkMsg,
    json: bool,
    out: &mut String,
    flushes: &mut Vec<tokio::sync::oneshot::Sender<()>>,
) {
    match msg {
        SinkMsg::Finished(record) => {
            out.push_str(&if json {
                json_line(&record)
            } else {
                text_line(&record)
            });
            out.push('\n');
        }
        SinkMsg::Flush(done) => flushes.push(done),
    }
}

fn print(out: &mut String) {
    if out.is_empty() {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    // A closed stdout (piped into `head`) is not an error worth dying for.
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
    out.clear();
}

/// `12:03:04.512  POST https://api.anthropic.com/v1/messages  200  4.1 KB  1.24 s`
pub fn text_line(record: &Record) -> String {
    let ex = &record.exchange;
    let time = ex
        .started_at
        .with_timezone(&chrono::Local)
        .format("%H:%M:%S%.3f");
    let status = match (&ex.state, &ex.response) {
        (State::Failed(f), _) => format!("FAILED ({}): {}", f.kind.label(), f.message),
        (_, Some(r)) => r.status.to_string(),
        (_, None) => "-".into(),
    };
    let bytes = ex.response.as_ref().map_or(0, |r| r.body.wire_size);
    let mut line = format!(
        "{time}  {:<6} {}  {status}  {}  {}",
        ex.request.method,
        ex.url(),
        human_bytes(bytes),
        human_duration(ex.duration_us()),
    );
    if let Some(summary) = &record.summary {
        line.push_str("  ");
        line.push_str(&summary.log_line());
    }
    if ex.response.as_ref().is_some_and(|r| r.body.truncated) {
        line.push_str("  [capture truncated]");
    }
    if let Some(app) = &ex.client_app {
        line.push_str(&format!("  ← {app}"));
    }
    line
}

pub fn json_line(record: &Record) -> String {
    let ex: &Exchange = &record.exchange;
    let v = json!({
        "id": ex.id,
        "time": ex.started_at,
        "method": ex.request.method,
        "url": ex.url(),
        "status": ex.response.as_ref().map(|r| r.status),
        "bytes": ex.response.as_ref().map_or(0, |r| r.body.wire_size),
        "durationMs": ex.duration_us().map(|u| u as f64 / 1000.0),
        "state": ex.state.label(),
        "failure": ex.state.failure(),
        "truncated": ex.response.as_ref().is_some_and(|r| r.body.truncated),
        "llm": record.summary,
        "thread": record.thread.as_ref().map(|t| t.thread_id),
        "clientApp": ex.client_app,
    });
    v.to_string()
}

pub fn human_bytes(n: u64) -> String {
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 => format!("{:.1} KB", n as f64 / 1024.0),
        _ => format!("{:.1} MB", n as f64 / 1_048_576.0),
    }
}

pub fn human_duration(us: Option<u64>) -> String {
    match us {
        None => "-".into(),
        Some(us) if us < 1_000_000 => format!("{} ms", us / 1000),
        Some(us) => format!("{:.2} s", us as f64 / 1e6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evictions_are_said_once_then_at_most_every_ten_seconds() {
        let mut e = Evictions::default();
        e.note(0);
        assert_eq!((e.said, e.at.is_some()), (0, false), "none yet");
        e.note(3);
        assert_eq!(e.said, 3);
        e.note(9);
        assert_eq!(e.said, 3, "too soon: counted toward the next note");
        e.at = e.at.map(|at| at - NOTE_EVERY);
        e.note(9);
        assert_eq!(e.said, 9);
        e.note(12);
        assert_eq!(e.said, 9, "too soon again");
        e.settle(12);
        assert_eq!(e.said, 12, "the end says the rest at once");
        e.settle(12);
        assert_eq!(e.said, 12, "and nothing twice");
    }

    #[test]
    fn units() {
        assert_eq!(human_bytes(10), "10 B");
        assert_eq!(human_bytes(4200), "4.1 KB");
        assert_eq!(human_duration(Some(1_240_000)), "1.24 s");
        assert_eq!(human_duration(Some(12_000)), "12 ms");
        assert_eq!(human_duration(None), "-");
    }
}
