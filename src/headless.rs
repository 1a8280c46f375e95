//! `--no-tui`: one line per finished exchange on stdout (or one JSON object
//! per line with `--json`). A store-event consumer, like the TUI.

use std::io::Write;

use serde_json::json;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::capture::{Record, StoreEvent, StoreReader};
use crate::exchange::{Exchange, State};

/// Print finished exchanges until the event channel closes.
pub async fn run(store: StoreReader, mut events: broadcast::Receiver<StoreEvent>, json: bool) {
    let mut out = String::new();
    loop {
        // Under load many exchanges finish between two wake-ups: print them
        // with one write instead of one system call each.
        let mut event = events.recv().await;
        for _ in 0..BATCH {
            if !take(event, &store, json, &mut out) {
                print(&mut out);
                return;
            }
            match waiting(&mut events) {
                Some(next) => event = next,
                None => break,
            }
        }
        print(&mut out);
    }
}

/// The most lines gathered into one write.
const BATCH: usize = 256;

/// Add an event's line to `out`; false once the channel is closed.
fn take(
    event: Result<StoreEvent, RecvError>,
    store: &StoreReader,
    json: bool,
    out: &mut String,
) -> bool {
    match event {
        Ok(StoreEvent::Finished(id)) => {
            if let Some(r) = store.read().get(id) {
                out.push_str(&if json { json_line(r) } else { text_line(r) });
                out.push('\n');
            }
        }
        Ok(StoreEvent::Evicted { count }) if !json => crate::note!(
            "llmspy: evicted {count} oldest exchange(s) to stay within the capture limits"
        ),
        Ok(_) => {}
        Err(RecvError::Lagged(n)) => crate::note!("llmspy: log fell behind; {n} events skipped"),
        Err(RecvError::Closed) => return false,
    }
    true
}

/// The next event already sent, if any, without waiting.
fn waiting(events: &mut broadcast::Receiver<StoreEvent>) -> Option<Result<StoreEvent, RecvError>> {
    match events.try_recv() {
        Ok(e) => Some(Ok(e)),
        Err(broadcast::error::TryRecvError::Lagged(n)) => Some(Err(RecvError::Lagged(n))),
        Err(broadcast::error::TryRecvError::Closed) => Some(Err(RecvError::Closed)),
        Err(broadcast::error::TryRecvError::Empty) => None,
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
    fn units() {
        assert_eq!(human_bytes(10), "10 B");
        assert_eq!(human_bytes(4200), "4.1 KB");
        assert_eq!(human_duration(Some(1_240_000)), "1.24 s");
        assert_eq!(human_duration(Some(12_000)), "12 ms");
        assert_eq!(human_duration(None), "-");
    }
}
