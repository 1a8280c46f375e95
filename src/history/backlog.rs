//! The history's budget on its sink: how much of finished exchanges may
//! wait for the writer.
//!
//! The writer runs at a low priority so the relay comes first, which on a
//! machine kept busy by something else can leave it with little CPU for a
//! while. Exchanges waiting for it hold their bodies beyond what
//! `--max-exchanges` keeps (326 MB peak RSS for 400 exchanges of 256 KiB
//! while a build loaded both cores), so the capture hands it exchanges
//! while fewer than [`BACKLOG_MAX_BYTES`] wait, and the rest are counted as
//! dropped, as the writer does when the database refuses rows for too long.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::status::HistoryStatus;
use crate::capture::{Budget, Record};

/// Bytes of exchanges that may wait for the writer.
pub const BACKLOG_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// What an exchange holds besides its bodies (its head, URL, summary),
/// roughly: without it a flood of body-less requests would have no bound.
const RECORD_OVERHEAD: u64 = 1024;

/// The bytes `record` holds while it waits, as counted in and out.
pub(super) fn cost(record: &Record) -> u64 {
    record.exchange.captured_bytes() as u64 + RECORD_OVERHEAD
}

pub(super) struct Backlog {
    status: Arc<HistoryStatus>,
    max_bytes: u64,
    /// Whether the last exchange offered was refused (one warning per
    /// spell).
    dropping: AtomicBool,
}

impl Backlog {
    pub(super) fn new(status: Arc<HistoryStatus>, max_bytes: u64) -> Backlog {
        Backlog {
            status,
            max_bytes,
            dropping: AtomicBool::new(false),
        }
    }
}

impl Budget for Backlog {
    fn admit(&self, record: &Record) -> bool {
        if self.status.reserve_backlog(cost(record), self.max_bytes) {
            self.dropping.store(false, Ordering::Relaxed);
            return true;
        }
        self.status.note_dropped(1);
        if !self.dropping.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "history: the writer is {} MiB behind; exchanges are not saved until it catches up",
                self.max_bytes >> 20
            );
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{Sink, SinkMsg};
    use crate::exchange::Exchange;
    use tokio::sync::mpsc;

    fn finished(body: usize) -> SinkMsg {
        SinkMsg::Finished(Arc::new(Record {
            exchange: Exchange::builder().body(vec![b'x'; body]).build(),
            summary: None,
            thread: None,
        }))
    }

    #[test]
    fn a_writer_that_falls_behind_holds_a_bounded_backlog_and_the_rest_is_counted() {
        let (tx, mut writer) = mpsc::unbounded_channel();
        let status = Arc::new(HistoryStatus::new("h.sqlite".into()));
        let each = 1000 + RECORD_OVERHEAD;
        let sink = Sink::with_budget(tx, Arc::new(Backlog::new(status.clone(), 4 * each)));
        for _ in 0..10 {
            sink.send(finished(1000)).unwrap();
        }
        let mut passed = Vec::new();
        while let Ok(SinkMsg::Finished(r)) = writer.try_recv() {
            passed.push(r);
        }
        assert_eq!(passed.len(), 4, "4 exchanges within the budget");
        assert_eq!(status.to_json()["dropped"], 6);
        // The writer takes one: room for one more.
        status.release_backlog(cost(&passed[0]));
        sink.send(finished(1000)).unwrap();
        sink.send(finished(1000)).unwrap();
        assert!(matches!(writer.try_recv(), Ok(SinkMsg::Finished(_))));
        assert!(writer.try_recv().is_err());
        assert_eq!(status.to_json()["dropped"], 7);
        // Flushes are never refused.
        let (done, _) = tokio::sync::oneshot::channel();
        sink.send(SinkMsg::Flush(done)).unwrap();
        assert!(matches!(writer.try_recv(), Ok(SinkMsg::Flush(_))));
        drop(writer);
        assert!(sink.is_closed(), "the writer ended");
    }
}
