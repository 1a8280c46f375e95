//! How finished exchanges reach the consumers that keep or send them
//! (the `--no-tui` log, `--save`, the history, the OpenTelemetry exporter):
//! each has a channel of its own, fed in order by the capture task.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::store::Record;

/// What the capture task hands each sink.
#[derive(Debug)]
pub enum SinkMsg {
    /// A finished exchange with its analysis summary and thread placement,
    /// shared by every sink (one copy, however many sinks).
    Finished(Arc<Record>),
    /// Answer once everything sent before it is written (or given up on).
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// Decides whether one more finished exchange may wait for a sink.
pub trait Budget: Send + Sync {
    /// Whether `record` may be queued, counting it if so. A refused one is
    /// the budget's to count and report.
    fn admit(&self, record: &Record) -> bool;
}

/// A consumer fed every finished exchange, in order (an unbounded channel:
/// a slow sink queues, it never slows capture or the relay). With a
/// [`Budget`] it is fed only while the budget admits, so a consumer that
/// falls behind holds a bounded backlog instead of every body it has not
/// reached.
#[derive(Clone)]
pub struct Sink {
    tx: mpsc::UnboundedSender<SinkMsg>,
    budget: Option<Arc<dyn Budget>>,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink")
            .field("budget", &self.budget.is_some())
            .finish_non_exhaustive()
    }
}

impl Sink {
    /// A sink fed everything.
    pub fn new(tx: mpsc::UnboundedSender<SinkMsg>) -> Sink {
        Sink { tx, budget: None }
    }

    /// A sink fed what `budget` admits.
    pub fn with_budget(tx: mpsc::UnboundedSender<SinkMsg>, budget: Arc<dyn Budget>) -> Sink {
        Sink {
            tx,
            budget: Some(budget),
        }
    }

    /// Queue `msg`. An error only when the consumer is gone; an exchange
    /// the budget refused is not one.
    pub fn send(&self, msg: SinkMsg) -> Result<(), mpsc::error::SendError<SinkMsg>> {
        if let (SinkMsg::Finished(record), Some(budget)) = (&msg, &self.budget)
            && !budget.admit(record)
        {
            return Ok(());
        }
        self.tx.send(msg)
    }

    /// True once the consumer has stopped.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}
