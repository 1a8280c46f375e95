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

mod clock;

use std::fmt::Write as _;
use std::io::Write;

use serde_json::json;
use tokio::sync::mpsc;

use crate::capture::{Record, SinkMsg, StoreReader};
use crate::digits;
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
            if json {
                out.push_str(&json_line(&record));
            } else {
                write_text_line(&record, out);
            }
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

/// The text line of `record`, appended to `out`:
/// `12:03:04.512  POST   https://api.anthropic.com/v1/messages  200  4.1 KB  1.24 s`.
/// A line per exchange under load: written in place, with the local time
/// from [`clock`], rather than put together from a string per field.
fn write_text_line(record: &Record, out: &mut String) {
    let ex = &record.exchange;
    let (h, m, s, ms) = clock::local(ex.started_at);
    for (n, sep) in [(h, ':'), (m, ':'), (s, '.')] {
        digits::push_padded(out, u64::from(n), 2);
        out.push(sep);
    }
    digits::push_padded(out, u64::from(ms), 3);
    out.push_str("  ");
    let method = &ex.request.method;
    out.push_str(method);
    // `{:<6}`: short methods padded, long ones whole.
    let width = method.chars().count();
    out.extend(std::iter::repeat_n(' ', 6usize.saturating_sub(width) + 1));
    let _ = ex.request.write_url_with_path(out, &logged_path(ex));
    out.push_str("  ");
    match (&ex.state, &ex.response) {
        (State::Failed(f), _) => {
            let _ = write!(out, "FAILED ({}): {}", f.kind.label(), f.message);
        }
        (_, Some(r)) => {
            digits::push(out, u64::from(r.status));
            // gRPC answers 200 either way; its own status says how it went.
            if let Some(grpc) = r.grpc_status().filter(|g| !g.is_ok()) {
                out.push_str(" gRPC ");
                out.push_str(&grpc.name());
            }
        }
        (_, None) => out.push('-'),
    }
    out.push_str("  ");
    let _ = write_human_bytes(out, ex.response.as_ref().map_or(0, |r| r.body.wire_size));
    out.push_str("  ");
    let _ = write_human_duration(out, ex.duration_us());
    if let Some(summary) = &record.summary {
        out.push_str("  ");
        out.push_str(&summary.log_line());
    }
    if ex.response.as_ref().is_some_and(|r| r.body.truncated) {
        out.push_str("  [capture truncated]");
    }
    // Answered by a mock, not the upstream: the UI marks it ◇.
    if let crate::exchange::Source::Mock { expectation_id } = &ex.source {
        out.push_str("  ◇ mock ");
        out.push_str(expectation_id);
    }
    // The upstream closed a kept connection as the request went out, and it
    // went again on a new one: the server may have read it twice.
    if ex.timings.resent_us.is_some() {
        out.push_str("  [sent twice]");
    }
    if let Some(app) = &ex.client_app {
        out.push_str("  ← ");
        out.push_str(app);
    }
}

/// The path as the log shows it: standard output ends up in CI logs, so a
/// key in the query is masked.
fn logged_path(ex: &Exchange) -> std::borrow::Cow<'_, str> {
    crate::redact::masked_path(&ex.request.path, crate::redact::MASK)
}

pub fn json_line(record: &Record) -> String {
    let ex: &Exchange = &record.exchange;
    let url = crate::redact::masked_url(ex, crate::redact::MASK);
    let v = json!({
        "id": ex.id,
        "time": ex.started_at,
        "method": ex.request.method,
        "url": url,
        "status": ex.response.as_ref().map(|r| r.status),
        "grpcStatus": ex.grpc_status().map(|g| g.code),
        "bytes": ex.response.as_ref().map_or(0, |r| r.body.wire_size),
        "durationMs": ex.duration_us().map(|u| u as f64 / 1000.0),
        "state": ex.state.label(),
        "failure": ex.state.failure(),
        "truncated": ex.response.as_ref().is_some_and(|r| r.body.truncated),
        "llm": record.summary,
        "thread": record.thread.as_ref().map(|t| t.thread_id),
        "clientApp": ex.client_app,
        "resentMs": ex.timings.resent_us.map(|u| u as f64 / 1000.0),
        "mockedBy": match &ex.source {
            crate::exchange::Source::Mock { expectation_id } => Some(expectation_id),
            _ => None,
        },
    });
    v.to_string()
}

fn write_human_bytes(out: &mut String, n: u64) -> std::fmt::Result {
    match n {
        0..1024 => {
            digits::push(out, n);
            out.write_str(" B")
        }
        1024..1_048_576 => write!(out, "{:.1} KB", n as f64 / 1024.0),
        _ => write!(out, "{:.1} MB", n as f64 / 1_048_576.0),
    }
}

fn write_human_duration(out: &mut String, us: Option<u64>) -> std::fmt::Result {
    match us {
        None => out.write_char('-'),
        Some(us) if us < 1_000_000 => {
            digits::push(out, us / 1000);
            out.write_str(" ms")
        }
        Some(us) => write!(out, "{:.2} s", us as f64 / 1e6),
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

    /// What `write` appends to an empty line.
    fn written(write: impl FnOnce(&mut String)) -> String {
        let mut line = String::new();
        write(&mut line);
        line
    }

    fn text_line(record: &Record) -> String {
        written(|out| write_text_line(record, out))
    }

    fn human_bytes(n: u64) -> String {
        written(|out| {
            let _ = write_human_bytes(out, n);
        })
    }

    fn human_duration(us: Option<u64>) -> String {
        written(|out| {
            let _ = write_human_duration(out, us);
        })
    }

    fn record(ex: Exchange) -> Record {
        Record {
            exchange: ex,
            summary: None,
            thread: None,
        }
    }

    #[test]
    fn text_lines_say_time_method_url_status_size_duration_and_client() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-06T04:01:20.047Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let time = at.with_timezone(&chrono::Local).format("%H:%M:%S%.3f");
        let done = Exchange::builder()
            .started_at(at)
            .method("GET")
            .url("http://[::1]:8080/ws/echo?x=1")
            .status(101)
            .response_body(vec![b'x'; 4200])
            .timings(crate::exchange::Timings {
                end_us: Some(1_240_000),
                ..Default::default()
            })
            .client_app("python")
            .build();
        assert_eq!(
            text_line(&record(done)),
            format!("{time}  GET    http://[::1]:8080/ws/echo?x=1  101  4.1 KB  1.24 s  ← python")
        );
        let failed = Exchange::builder()
            .started_at(at)
            .url("https://api.example.com/v1/messages")
            .failed(
                crate::exchange::FailureKind::UpstreamReset,
                "the stream broke",
            )
            .build();
        assert_eq!(
            text_line(&record(failed)),
            format!(
                "{time}  POST   https://api.example.com/v1/messages  FAILED (upstream reset): the stream broke  0 B  -"
            )
        );
        let mocked = Exchange::builder()
            .started_at(at)
            .url("https://api.example.com/v1/messages")
            .status(200)
            .source(crate::exchange::Source::Mock {
                expectation_id: "weather-1".into(),
            })
            .build();
        assert!(
            text_line(&record(mocked.clone())).ends_with("  ◇ mock weather-1"),
            "{}",
            text_line(&record(mocked.clone()))
        );
        assert!(json_line(&record(mocked)).contains(r#""mockedBy":"weather-1""#));
    }

    /// Standard output lands in CI logs: a key in the query never does,
    /// and a failed gRPC call says so beside its `200`.
    #[test]
    fn lines_mask_query_keys_and_name_a_failed_grpc_call() {
        let mut ex = Exchange::builder()
            .url("https://g.example/v1beta/models/m:generateContent?key=AIza-log-secret&alt=sse")
            .status(200)
            .response_headers([("content-type", "application/grpc")])
            .build();
        let trailers = &mut ex.response.as_mut().expect("response").body.trailers;
        trailers.push("grpc-status", "7");
        let rec = record(ex);
        let line = text_line(&rec);
        let json = json_line(&rec);
        for shown in [&line, &json] {
            assert!(!shown.contains("AIza-log-secret"), "{shown}");
            assert!(shown.contains("key=***REDACTED***&alt=sse"), "{shown}");
        }
        assert!(line.contains(" 200 gRPC PERMISSION_DENIED  "), "{line}");
        assert!(json.contains(r#""grpcStatus":7"#), "{json}");
    }

    #[test]
    fn a_request_sent_twice_says_so() {
        let ex = Exchange::builder()
            .url("https://api.example.com/v1/models")
            .status(200)
            .timings(crate::exchange::Timings {
                end_us: Some(3_000),
                resent_us: Some(1_500),
                ..Default::default()
            })
            .build();
        let record = record(ex);
        assert!(
            text_line(&record).ends_with("  [sent twice]"),
            "{}",
            text_line(&record)
        );
        assert!(json_line(&record).contains("\"resentMs\":1.5"));
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
