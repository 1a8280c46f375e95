//! The capture task: the store's only writer.
//!
//! The relay talks to it through a [`Recorder`], whose methods never block or
//! await: they push a message on an unbounded channel. The per-exchange byte
//! caps are enforced by the relay before sending (it stops copying bytes past
//! the cap), so the channel holds at most a cap's worth per live exchange.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use tokio::sync::{broadcast, mpsc};

use super::StoreEvent;
use super::apply::{Applied, apply};
use super::sink::{Sink, SinkMsg};
use super::store::{Limits, Store, StoreReader};
use crate::exchange::{Exchange, ExchangeId, Failure, FailureKind, Response, State};

/// A batch at least this large means traffic is flowing: pause before the
/// next one. Below it (a lone request) changes are applied at once.
const BUSY_BATCH: usize = 8;

/// How long the capture task lets messages gather when traffic flows.
const BATCH_PAUSE: std::time::Duration = std::time::Duration::from_millis(1);

/// A change to apply to the store.
#[derive(Debug)]
pub enum CaptureMsg {
    /// A new exchange; its request body arrives later.
    Start(Box<Exchange>),
    /// A frame of the request body (`data` is None once past the cap).
    RequestData {
        id: ExchangeId,
        data: Option<Bytes>,
        len: usize,
    },
    RequestDone {
        id: ExchangeId,
        at_us: u64,
    },
    /// The response head; the body arrives in frames.
    ResponseHead {
        id: ExchangeId,
        response: Box<Response>,
        at_us: u64,
    },
    ResponseData {
        id: ExchangeId,
        data: Option<Bytes>,
        len: usize,
        at_us: u64,
        /// The frame ended the body: the exchange finished well with it
        /// (a `Finish` of its own would be a second send on a channel
        /// every worker shares, for most responses).
        last: bool,
    },
    /// The fields a body's trailers carried (gRPC's status among them),
    /// sent before the message that ends the body.
    Trailers {
        id: ExchangeId,
        /// The response's trailers; else the request's.
        of_response: bool,
        trailers: crate::exchange::Headers,
    },
    /// The exchange ended, well or not.
    Finish {
        id: ExchangeId,
        at_us: u64,
        failure: Option<Failure>,
    },
    /// Finish every exchange still open with this failure (at shutdown).
    FinishOpen {
        failure: Failure,
    },
    /// A WebSocket message, decoded by the relay after the `101`.
    WebSocketMessage {
        id: ExchangeId,
        message: crate::exchange::WsMessage,
    },
    /// Why the relay stopped decoding a WebSocket direction.
    WebSocketNote {
        id: ExchangeId,
        note: String,
    },
    /// The request went out again on a new connection (engine/resend.rs).
    Resent {
        id: ExchangeId,
        at_us: u64,
    },
    /// The response came from a mock expectation, not the upstream.
    Mocked {
        id: ExchangeId,
        expectation_id: String,
    },
    /// A finished exchange recorded in one go (e.g. a TLS rejection).
    Insert(Box<Exchange>),
    /// A request llmspy turned away: counted and announced.
    Refused(super::Refusal),
    /// Remove exchanges; None removes all.
    Clear(Option<Vec<ExchangeId>>),
    /// Answered once everything sent before it is applied and handed to
    /// `--save` (and written, when saving).
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// The relay's handle on the capture task. Cheap to clone; never waits.
///
/// A clone counts one reference on this handle's own allocation, not on the
/// channel: a relay worker clones its recorder three times per exchange
/// (the exchange's guard and two body tees), and cloning the channel's
/// sender would touch counts that every worker shares, a cache line moved
/// between cores each time. Each worker takes a handle of its own with
/// [`Recorder::for_another_thread`].
#[derive(Debug, Clone)]
pub struct Recorder {
    handle: Arc<Handle>,
}

#[derive(Debug)]
struct Handle {
    tx: mpsc::UnboundedSender<CaptureMsg>,
    next_id: Arc<AtomicU64>,
    limits: Limits,
}

impl Recorder {
    fn new(tx: mpsc::UnboundedSender<CaptureMsg>, limits: Limits) -> Recorder {
        Recorder {
            handle: Arc::new(Handle {
                tx,
                next_id: Arc::new(AtomicU64::new(1)),
                limits,
            }),
        }
    }

    /// A recorder feeding the same capture task, whose clones count on a
    /// handle of their own: one for each thread that relays.
    #[must_use]
    pub fn for_another_thread(&self) -> Recorder {
        let Handle {
            tx,
            next_id,
            limits,
        } = &*self.handle;
        Recorder {
            handle: Arc::new(Handle {
                tx: tx.clone(),
                next_id: next_id.clone(),
                limits: *limits,
            }),
        }
    }

    /// Reserve the next exchange id.
    pub fn next_id(&self) -> ExchangeId {
        self.handle.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub fn limits(&self) -> Limits {
        self.handle.limits
    }

    /// Hand a message to the capture task. If the task is gone (shutdown) the
    /// message is dropped: capture must never stand in the relay's way.
    pub fn send(&self, msg: CaptureMsg) {
        let _ = self.handle.tx.send(msg);
    }
}

#[cfg(test)]
impl Recorder {
    /// A recorder whose messages a unit test reads itself, with no
    /// capture task behind it: what the relay's parts send, as sent.
    pub(crate) fn bare(limits: Limits) -> (Recorder, mpsc::UnboundedReceiver<CaptureMsg>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Recorder::new(tx, limits), rx)
    }
}

/// Start the capture task on the current tokio runtime.
///
/// Each of `sinks` receives every finished exchange, with no loss.
pub fn spawn(
    limits: Limits,
    sinks: Vec<Sink>,
) -> (Recorder, StoreReader, broadcast::Sender<StoreEvent>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let store = Arc::new(RwLock::new(Store::new(limits)));
    let (events, _) = broadcast::channel(8192);
    let task = CaptureTask {
        threads: crate::llm::ThreadTracker::new(),
        store: store.clone(),
        events: events.clone(),
        sinks,
    };
    tokio::spawn(task.run(rx));
    (
        Recorder::new(tx, limits),
        StoreReader { inner: store },
        events,
    )
}

struct CaptureTask {
    threads: crate::llm::ThreadTracker,
    store: Arc<RwLock<Store>>,
    events: broadcast::Sender<StoreEvent>,
    sinks: Vec<Sink>,
}

impl CaptureTask {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<CaptureMsg>) {
        let mut batch = Vec::with_capacity(64);
        while rx.recv_many(&mut batch, 4096).await > 0 {
            let batch_was_busy = batch.len() >= BUSY_BATCH;
            let mut applied = Applied::with_capacity(batch.len());
            {
                let mut store = self.store.write().unwrap_or_else(|e| e.into_inner());
                for msg in batch.drain(..) {
                    apply(&mut store, msg, &mut applied);
                }
            }
            let Applied {
                events: out,
                flushes,
            } = applied;
            for event in &out {
                if let StoreEvent::Finished(id) = event {
                    self.analyse(*id);
                }
            }
            for event in out {
                if let StoreEvent::Finished(id) = &event {
                    self.feed_sinks(*id);
                }
                // No receivers is fine (nobody is watching yet).
                let _ = self.events.send(event);
            }
            // Only now may what finished in this batch be pushed out.
            let evicted = self
                .store
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .evict_over_caps();
            if evicted > 0 {
                let _ = self.events.send(StoreEvent::Evicted { count: evicted });
            }
            for done in flushes {
                self.flush_sinks(done);
            }
            // Let messages gather before the next batch: while this task is
            // not waiting on the channel a send wakes nobody, so under load
            // the relay pays one wake-up per pause instead of one per frame.
            // Readers see changes at most this much later.
            if batch_was_busy {
                tokio::time::sleep(BATCH_PAUSE).await;
            }
        }
    }
}

impl CaptureTask {
    /// Hand a finished exchange to every sink: one copy, shared.
    fn feed_sinks(&self, id: ExchangeId) {
        if self.sinks.is_empty() {
            return;
        }
        let record = {
            let store = self.store.read().unwrap_or_else(|e| e.into_inner());
            match store.shared(id) {
                Some(r) => r,
                None => return,
            }
        };
        for sink in &self.sinks {
            let _ = sink.send(SinkMsg::Finished(record.clone()));
        }
    }

    /// Answer `done` once every sink has written what it was given.
    fn flush_sinks(&self, done: tokio::sync::oneshot::Sender<()>) {
        let waits: Vec<_> = self
            .sinks
            .iter()
            .filter_map(|sink| {
                let (tx, rx) = tokio::sync::oneshot::channel();
                sink.send(SinkMsg::Flush(tx)).ok().map(|()| rx)
            })
            .collect();
        tokio::spawn(async move {
            for wait in waits {
                let _ = wait.await;
            }
            let _ = done.send(());
        });
    }

    /// Run the pure analysers on a finished exchange, off the relay path.
    /// It is read where it lies, under the read lock: only this task ever
    /// writes the store, so the lock holds up no reader, and a large LLM
    /// request is neither copied nor decoded twice. Traffic that plainly
    /// is not LLM or MCP is told from its head alone.
    fn analyse(&mut self, id: ExchangeId) {
        let analysed = {
            let store = self.store.read().unwrap_or_else(|e| e.into_inner());
            match store.get(id) {
                Some(r) if !crate::llm::plainly_other(&r.exchange) => {
                    analysed(&r.exchange, &mut self.threads)
                }
                _ => return,
            }
        };
        let Some((summary, thread, completed)) = analysed else {
            return;
        };
        let mut store = self.store.write().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = store.get_mut(id) {
            r.summary = Some(summary);
            r.thread = thread;
            if completed {
                r.exchange.state = State::Complete;
            }
        }
    }
}

/// The summary and thread placement of a finished exchange (LLM/MCP only).
pub fn analysis_of(
    exchange: &Exchange,
    threads: &mut crate::llm::ThreadTracker,
) -> Option<(crate::llm::Summary, Option<crate::llm::ThreadInfo>)> {
    let analysis = crate::llm::analyse(exchange)?;
    Some(placed(exchange, &analysis, threads))
}

/// The summary and thread placement of a finished exchange, and whether a
/// client that hung up is judged to have got it all (LLM/MCP only).
fn analysed(
    exchange: &Exchange,
    threads: &mut crate::llm::ThreadTracker,
) -> Option<(crate::llm::Summary, Option<crate::llm::ThreadInfo>, bool)> {
    let hung_up = matches!(&exchange.state, State::Failed(f) if f.kind == FailureKind::ClientGone);
    if !hung_up {
        let (summary, thread) = analysis_of(exchange, threads)?;
        return Some((summary, thread, false));
    }
    // A client that hung up after the stream's closing event lost nothing
    // (the OpenAI SDK does at `[DONE]`, the MCP SDK after its response):
    // judged as complete, which stands if the analysis agrees the stream
    // had ended. Rare, so a copy is fine here.
    let mut complete = exchange.clone();
    complete.state = State::Complete;
    let analysis = crate::llm::analyse(&complete)?;
    if analysis.stream_reached_end() {
        let (summary, thread) = placed(&complete, &analysis, threads);
        return Some((summary, thread, true));
    }
    let (summary, thread) = analysis_of(exchange, threads)?;
    Some((summary, thread, false))
}

/// The summary of an analysis and the exchange's place in its thread.
fn placed(
    exchange: &Exchange,
    analysis: &crate::llm::Analysis,
    threads: &mut crate::llm::ThreadTracker,
) -> (crate::llm::Summary, Option<crate::llm::ThreadInfo>) {
    let thread = (analysis.kind != crate::llm::Kind::Mcp)
        .then(|| threads.observe(exchange.id, analysis, exchange.client_addr.as_deref()));
    (analysis.summary(), thread)
}
