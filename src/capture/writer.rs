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
use super::store::{Limits, Record, Store, StoreReader};
use crate::exchange::{Chunk, Exchange, ExchangeId, Failure, FailureKind, Response, State};

/// Header added to the recorded response when the capture cap cut the body.
pub const TRUNCATED_HEADER: &str = "x-llmspy-stream-truncated";

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

/// What the capture task hands each sink.
#[derive(Debug)]
pub enum SinkMsg {
    /// A finished exchange with its analysis summary and thread placement,
    /// shared by every sink (one copy, however many sinks).
    Finished(Arc<Record>),
    /// Answer once everything sent before it is written (or given up on).
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// A consumer fed every finished exchange, in order and without loss (an
/// unbounded channel: a slow sink queues, it never slows capture or the
/// relay). `--save`, and the OpenTelemetry exporter.
pub type Sink = mpsc::UnboundedSender<SinkMsg>;

/// The relay's handle on the capture task. Cheap to clone; never waits.
#[derive(Debug, Clone)]
pub struct Recorder {
    tx: mpsc::UnboundedSender<CaptureMsg>,
    next_id: Arc<AtomicU64>,
    limits: Limits,
}

impl Recorder {
    /// Reserve the next exchange id.
    pub fn next_id(&self) -> ExchangeId {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Hand a message to the capture task. If the task is gone (shutdown) the
    /// message is dropped: capture must never stand in the relay's way.
    pub fn send(&self, msg: CaptureMsg) {
        let _ = self.tx.send(msg);
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
        Recorder {
            tx,
            next_id: Arc::new(AtomicU64::new(1)),
            limits,
        },
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
            let mut out = Vec::with_capacity(batch.len());
            let mut flushes = Vec::new();
            {
                let mut store = self.store.write().unwrap_or_else(|e| e.into_inner());
                for msg in batch.drain(..) {
                    match msg {
                        CaptureMsg::Flush(done) => flushes.push(done),
                        msg => apply(&mut store, msg, &mut out),
                    }
                }
            }
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
            match store.get(id) {
                Some(r) => Arc::new(r.clone()),
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

    /// Run the pure analysers on a finished exchange, off the relay path and
    /// without holding the store lock while parsing.
    fn analyse(&mut self, id: ExchangeId) {
        // Only LLM and MCP traffic is analysed; detection reads the request
        // in place, so other traffic is never copied.
        let mut exchange = {
            let store = self.store.read().unwrap_or_else(|e| e.into_inner());
            match store.get(id) {
                Some(r) if crate::llm::detect(&r.exchange) != crate::llm::Kind::Other => {
                    r.exchange.clone()
                }
                _ => return,
            }
        };
        // A client that hung up after the stream's closing event lost
        // nothing (the OpenAI SDK does at `[DONE]`, the MCP SDK after its
        // response): judge it as complete, and keep that if the analysis
        // agrees the stream had ended.
        let state = exchange.state.clone();
        let hung_up = matches!(&state, State::Failed(f) if f.kind == FailureKind::ClientGone);
        if hung_up {
            exchange.state = State::Complete;
        }
        let Some(mut analysis) = crate::llm::analyse(&exchange) else {
            return;
        };
        let completed = hung_up && analysis.stream_reached_end();
        if hung_up && !completed {
            exchange.state = state;
            let Some(a) = crate::llm::analyse(&exchange) else {
                return;
            };
            analysis = a;
        }
        let (summary, thread) = placed(&exchange, &analysis, &mut self.threads);
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

/// A store filled from saved exchanges (e.g. `llmspy open`), analysed as the
/// capture task would have: nothing writes to it afterwards.
pub fn loaded_store(exchanges: Vec<Exchange>) -> Store {
    let mut store = Store::new(Limits {
        max_exchanges: exchanges.len().max(1),
        max_total_bytes: usize::MAX,
        ..Limits::default()
    });
    let mut threads = crate::llm::ThreadTracker::new();
    for ex in exchanges {
        let analysed = analysis_of(&ex, &mut threads);
        let id = ex.id;
        store.insert(ex);
        if let (Some(r), Some((summary, thread))) = (store.get_mut(id), analysed) {
            r.summary = Some(summary);
            r.thread = thread;
        }
    }
    store
}

/// Apply one message; pure store manipulation, no IO.
fn apply(store: &mut Store, msg: CaptureMsg, out: &mut Vec<StoreEvent>) {
    let limits = store.limits();
    match msg {
        CaptureMsg::Start(ex) => {
            let id = ex.id;
            push_evicted(out, store.insert(*ex));
            out.push(StoreEvent::Started(id));
        }
        CaptureMsg::Insert(ex) => {
            let id = ex.id;
            push_evicted(out, store.insert(*ex));
            out.push(StoreEvent::Started(id));
            out.push(StoreEvent::Finished(id));
        }
        CaptureMsg::RequestData { id, data, len } => {
            let Some(r) = store.get_mut(id) else { return };
            let body = &mut r.exchange.request.body;
            let before = body.bytes.len();
            append(body, data.as_deref(), len, limits.max_body_capture_bytes);
            let grown = body.bytes.len() - before;
            push_evicted(out, store.grew(grown));
        }
        CaptureMsg::RequestDone { id, at_us } => {
            if let Some(r) = store.get_mut(id) {
                r.exchange.timings.request_done_us = Some(at_us);
            }
        }
        CaptureMsg::ResponseHead {
            id,
            response,
            at_us,
        } => {
            let Some(r) = store.get_mut(id) else { return };
            r.exchange.timings.response_head_us = Some(at_us);
            // llmspy's own error answers arrive with their body.
            let before = r.exchange.captured_bytes();
            r.exchange.response = Some(*response);
            let after = r.exchange.captured_bytes();
            if r.exchange.state == State::InFlight {
                r.exchange.state = State::Streaming;
            }
            push_evicted(out, store.resized(before, after));
            out.push(StoreEvent::Updated(id));
        }
        CaptureMsg::ResponseData {
            id,
            data,
            len,
            at_us,
        } => {
            let Some(r) = store.get_mut(id) else { return };
            let ex = &mut r.exchange;
            let Some(resp) = ex.response.as_mut() else {
                return;
            };
            let cap = response_cap(resp, &limits);
            let before = resp.body.bytes.len();
            let offset = resp.body.wire_size;
            append(&mut resp.body, data.as_deref(), len, cap);
            if resp.body.truncated && !has_header(&resp.headers, TRUNCATED_HEADER) {
                resp.headers.push((TRUNCATED_HEADER.into(), "true".into()));
            }
            let grown = resp.body.bytes.len() - before;
            ex.timings.first_byte_us.get_or_insert(at_us);
            ex.chunks.push(Chunk {
                at_us,
                offset,
                len: len as u64,
            });
            push_evicted(out, store.grew(grown));
            out.push(StoreEvent::Updated(id));
        }
        CaptureMsg::Finish { id, at_us, failure } => {
            let Some(r) = store.get_mut(id) else { return };
            // The first verdict stands: a late one (a body dropped after
            // shutdown finalised its exchange) must not reopen or flip it.
            if r.exchange.state.is_finished() {
                return;
            }
            finish(&mut r.exchange, at_us, failure);
            out.push(StoreEvent::Finished(id));
        }
        CaptureMsg::FinishOpen { failure } => {
            let now = chrono::Utc::now();
            let open: Vec<ExchangeId> = store
                .iter()
                .filter(|r| !r.exchange.state.is_finished())
                .map(|r| r.exchange.id)
                .collect();
            for id in open {
                if let Some(r) = store.get_mut(id) {
                    let ran = (now - r.exchange.started_at).num_microseconds();
                    let at_us = ran.map_or(0, |us| us.max(0) as u64);
                    finish(&mut r.exchange, at_us, Some(failure.clone()));
                    out.push(StoreEvent::Finished(id));
                }
            }
        }
        CaptureMsg::Flush(done) => {
            let _ = done.send(());
        }
        CaptureMsg::WebSocketMessage { id, message } => {
            if let Some(grown) = super::websocket::message(store, id, message) {
                push_evicted(out, store.grew(grown));
                out.push(StoreEvent::Updated(id));
            }
        }
        CaptureMsg::WebSocketNote { id, note } => super::websocket::note(store, id, note),
        CaptureMsg::Mocked { id, expectation_id } => {
            if let Some(r) = store.get_mut(id) {
                r.exchange.source = crate::exchange::Source::Mock { expectation_id };
            }
        }
        CaptureMsg::Refused(refusal) => {
            store.refusals_mut().note(&refusal);
            out.push(StoreEvent::Refused(refusal.reason));
        }
        CaptureMsg::Clear(ids) => {
            let removed = match ids {
                None => store.retain(|_| false),
                Some(ids) => store.retain(|r| !ids.contains(&r.exchange.id)),
            };
            store.count_cleared(removed);
            out.push(StoreEvent::Cleared);
        }
    }
}

fn finish(ex: &mut Exchange, at_us: u64, failure: Option<Failure>) {
    ex.timings.end_us = Some(at_us);
    ex.state = match failure {
        Some(f) => State::Failed(f),
        None => State::Complete,
    };
    // Growth reserved spare capacity; give it back now the body is final.
    ex.request.body.bytes.shrink_to_fit();
    ex.chunks.shrink_to_fit();
    if let Some(resp) = ex.response.as_mut() {
        resp.body.bytes.shrink_to_fit();
    }
}

fn push_evicted(out: &mut Vec<StoreEvent>, count: u64) {
    if count > 0 {
        out.push(StoreEvent::Evicted { count });
    }
}

fn has_header(headers: &[(String, String)], name: &str) -> bool {
    headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// Streamed responses (SSE, NDJSON) get the streaming cap; others the body cap.
fn response_cap(resp: &Response, limits: &Limits) -> usize {
    let ct = crate::exchange::header(&resp.headers, "content-type");
    if crate::exchange::is_event_stream(ct) {
        limits.max_streaming_capture_bytes
    } else {
        limits.max_body_capture_bytes
    }
}

fn append(body: &mut crate::exchange::Body, data: Option<&[u8]>, len: usize, cap: usize) {
    match data {
        Some(d) => body.append_capped(d, cap),
        None => {
            body.wire_size += len as u64;
            body.truncated = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::*;

    fn start(store: &mut Store, id: ExchangeId) {
        let mut out = vec![];
        let ex = super::super::store::tests_support::sample(id);
        apply(store, CaptureMsg::Start(Box::new(ex)), &mut out);
    }

    #[test]
    fn streaming_cap_marks_truncated_header() {
        let mut store = Store::new(Limits {
            max_streaming_capture_bytes: 4,
            ..Limits::default()
        });
        start(&mut store, 1);
        let mut out = vec![];
        let head = Response {
            status: 200,
            version: "HTTP/1.1".into(),
            headers: vec![("content-type".into(), "text/event-stream".into())],
            body: Body::default(),
        };
        apply(
            &mut store,
            CaptureMsg::ResponseHead {
                id: 1,
                response: Box::new(head),
                at_us: 5,
            },
            &mut out,
        );
        for at in [10, 20] {
            apply(
                &mut store,
                CaptureMsg::ResponseData {
                    id: 1,
                    data: Some(Bytes::from_static(b"abc")),
                    len: 3,
                    at_us: at,
                },
                &mut out,
            );
        }
        let r = store.get(1).map(|r| r.exchange.clone()).expect("stored");
        let resp = r.response.expect("response");
        assert_eq!(resp.body.bytes, b"abca");
        assert_eq!(resp.body.wire_size, 6);
        assert!(resp.body.truncated);
        assert_eq!(header(&resp.headers, TRUNCATED_HEADER), Some("true"));
        assert_eq!(r.chunks.len(), 2);
        assert_eq!(r.chunks[1].offset, 3);
        assert_eq!(r.timings.first_byte_us, Some(10));
    }
}
