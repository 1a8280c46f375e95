//! Between the capture and the history writer: bounds the bytes of
//! finished exchanges waiting for the writer.
//!
//! The writer runs at a low priority so the relay comes first, which on a
//! machine kept busy by something else can leave it with little CPU for a
//! while. Exchanges waiting for it hold their bodies beyond what
//! `--max-exchanges` keeps (326 MB peak RSS for 400 exchanges of 256 KiB
//! while a build loaded both cores). The feeder runs at normal priority,
//! wakes every few milliseconds (not once per exchange: a wake-up per
//! exchange would cost the relay more than the writer itself), passes
//! exchanges on while fewer than [`BACKLOG_MAX_BYTES`] wait, and counts the
//! rest as dropped, as the writer does when the database refuses rows for
//! too long.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::mpsc::{self, error::TryRecvError};

use super::status::HistoryStatus;
use crate::capture::SinkMsg;

/// Bytes of exchanges (as captured) that may wait for the writer.
pub const BACKLOG_MAX_BYTES: u64 = 32 * 1024 * 1024;
/// How often the feeder looks for new exchanges.
const TICK: Duration = Duration::from_millis(5);

pub(super) struct Feeder {
    input: mpsc::UnboundedReceiver<SinkMsg>,
    output: mpsc::UnboundedSender<SinkMsg>,
    status: Arc<HistoryStatus>,
    max_bytes: u64,
    /// Whether the last exchange offered was dropped (one warning per spell).
    dropping: bool,
}

impl Feeder {
    pub(super) fn new(
        input: mpsc::UnboundedReceiver<SinkMsg>,
        output: mpsc::UnboundedSender<SinkMsg>,
        status: Arc<HistoryStatus>,
        max_bytes: u64,
    ) -> Feeder {
        Feeder {
            input,
            output,
            status,
            max_bytes,
            dropping: false,
        }
    }

    /// Pass on every message waiting. False once the input is closed (the
    /// capture ended) or the writer is gone.
    pub(super) fn drain(&mut self) -> bool {
        loop {
            let msg = match self.input.try_recv() {
                Ok(msg) => msg,
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Disconnected) => return false,
            };
            if let SinkMsg::Finished(record) = &msg {
                let size = record.exchange.captured_bytes() as u64;
                if !self.status.reserve_backlog(size, self.max_bytes) {
                    self.status.note_dropped(1);
                    if !self.dropping {
                        tracing::warn!(
                            "history: the writer is {} MiB behind; exchanges are not saved until it catches up",
                            self.max_bytes >> 20
                        );
                    }
                    self.dropping = true;
                    continue;
                }
                self.dropping = false;
            }
            if self.output.send(msg).is_err() {
                return false;
            }
        }
    }

    /// Feed until the input closes or `stop` is set, then pass on what is
    /// left; dropping the feeder then closes the writer's channel.
    pub(super) fn run(mut self, stop: &AtomicBool) {
        while self.drain() && !stop.load(Ordering::Acquire) && !self.output.is_closed() {
            std::thread::sleep(TICK);
        }
        self.drain();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Record;
    use crate::exchange::Exchange;

    fn finished(body: usize) -> SinkMsg {
        SinkMsg::Finished(Arc::new(Record {
            exchange: Exchange::builder().body(vec![b'x'; body]).build(),
            summary: None,
            thread: None,
        }))
    }

    #[test]
    fn a_writer_that_falls_behind_holds_a_bounded_backlog_and_the_rest_is_counted() {
        let (tx, input) = mpsc::unbounded_channel();
        let (output, mut writer) = mpsc::unbounded_channel();
        let status = Arc::new(HistoryStatus::new("h.sqlite".into()));
        let mut feeder = Feeder::new(input, output, status.clone(), 4096);
        for _ in 0..10 {
            tx.send(finished(1000)).unwrap();
        }
        assert!(feeder.drain());
        let mut passed = Vec::new();
        while let Ok(SinkMsg::Finished(r)) = writer.try_recv() {
            passed.push(r);
        }
        assert_eq!(passed.len(), 4, "4 exchanges of 1000 bytes within 4096");
        assert_eq!(status.to_json()["dropped"], 6);
        // The writer takes one: room for one more.
        status.release_backlog(passed[0].exchange.captured_bytes() as u64);
        tx.send(finished(1000)).unwrap();
        tx.send(finished(1000)).unwrap();
        assert!(feeder.drain());
        assert!(matches!(writer.try_recv(), Ok(SinkMsg::Finished(_))));
        assert!(writer.try_recv().is_err());
        assert_eq!(status.to_json()["dropped"], 7);
        drop(tx);
        assert!(!feeder.drain(), "the capture ended");
    }
}
