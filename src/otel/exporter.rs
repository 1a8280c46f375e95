//! The exporter: a capture sink on its own thread and runtime, so a
//! collector that is down, slow or refusing never touches the relay.
//!
//! Finished exchanges arrive without loss; their spans wait in a bounded
//! queue ([`BoundedQueue`]) and go out in batches through the OTLP span
//! exporter of the opentelemetry-otlp crate (HTTP/protobuf or gRPC). A
//! failed batch goes back to the front and the next attempt waits longer
//! (1 s doubling to 30 s); beyond the cap the oldest spans are dropped and
//! counted. Token and duration histograms go through the SDK's meter
//! provider and its periodic reader on the same runtime.
//!
//! Building the exporters that reach the collector is `collector`; the
//! histograms are `metrics`. This file runs the thread, the queue and the
//! retries, and turns finished exchanges into spans.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::trace::{SpanData, SpanExporter as _};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::collector::{EXPORT_TIMEOUT, metric_exporter, resource, span_exporter};
use super::metrics::Metrics;
use super::queue::BoundedQueue;
use super::settings::OtlpSettings;
use super::span;
use super::status::ExporterStatus;
use super::traces::Traces;
use crate::capture::{Record, Sink, SinkMsg};
use crate::llm::{Analysis, Kind, Part};

/// Spans held while the collector does not take them.
const QUEUE_CAP: usize = 4096;
/// Spans per export request.
const BATCH: usize = 512;
/// How long the first spans wait for company before going out.
const BATCH_DELAY: Duration = Duration::from_millis(200);
const BACKOFF_FIRST: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// What a flush (at shutdown) may spend sending what is queued.
const FLUSH_BUDGET: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum OtelError {
    #[error("cannot set up the OTLP exporter for {endpoint}: {message}")]
    Build { endpoint: String, message: String },
    #[error("cannot start the OTLP exporter's thread")]
    Thread(#[source] std::io::Error),
}

/// A running exporter: the sink capture feeds, and its status.
pub struct Exporter {
    pub sink: Sink,
    pub status: Arc<ExporterStatus>,
}

/// Start the exporter's thread. Building the exporters happens on it; a
/// bad configuration is reported here, before llmspy says it is ready.
pub fn spawn(settings: OtlpSettings) -> Result<Exporter, OtelError> {
    let status = Arc::new(ExporterStatus::new(settings.traces_endpoint.clone()));
    let (tx, rx) = mpsc::unbounded_channel();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let thread_status = status.clone();
    std::thread::Builder::new()
        .name("llmspy-otlp".into())
        .spawn(move || {
            // Its runtime's worker inherits the lower priority.
            crate::background::lower_this_thread();
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("llmspy-otlp-io")
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(build_error(&settings, e.to_string())));
                    return;
                }
            };
            runtime.block_on(async move {
                match Pipeline::new(&settings, thread_status) {
                    Ok(pipeline) => {
                        let _ = ready_tx.send(Ok(()));
                        pipeline.run(rx).await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
        })
        .map_err(OtelError::Thread)?;
    match ready_rx.recv() {
        Ok(Ok(())) => Ok(Exporter {
            sink: Sink::new(tx),
            status,
        }),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(OtelError::Thread(std::io::Error::other(
            "the exporter thread ended while starting",
        ))),
    }
}

pub(super) fn build_error(settings: &OtlpSettings, message: String) -> OtelError {
    OtelError::Build {
        endpoint: settings.traces_endpoint.clone(),
        message,
    }
}

struct Pipeline {
    spans: opentelemetry_otlp::SpanExporter,
    /// None when no endpoint for metrics could be told (module settings).
    metrics: Option<Metrics>,
    traces: Traces,
    content: bool,
    status: Arc<ExporterStatus>,
}

impl Pipeline {
    fn new(settings: &OtlpSettings, status: Arc<ExporterStatus>) -> Result<Self, OtelError> {
        let resource = resource(settings);
        let mut spans = span_exporter(settings)?;
        spans.set_resource(&resource);
        let metrics = match settings.metrics_endpoint {
            Some(_) => Some(Metrics::new(metric_exporter(settings)?, resource)),
            None => None,
        };
        Ok(Pipeline {
            spans,
            metrics,
            traces: Traces::new(),
            content: settings.content,
            status,
        })
    }

    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<SinkMsg>) {
        let mut queue = BoundedQueue::new(QUEUE_CAP);
        let mut next_attempt: Option<Instant> = None;
        let mut backoff = BACKOFF_FIRST;
        loop {
            let wake = next_attempt.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                msg = rx.recv() => match msg {
                    Some(SinkMsg::Finished(record)) => {
                        for s in self.spans_of(&record) {
                            let dropped = queue.push(s);
                            self.status.note_dropped(dropped);
                        }
                        self.status.note_queued(queue.len());
                        if !queue.is_empty() && next_attempt.is_none() {
                            next_attempt = Some(Instant::now() + BATCH_DELAY);
                        }
                    }
                    Some(SinkMsg::Flush(done)) => {
                        self.flush(&mut queue).await;
                        let _ = done.send(());
                    }
                    None => break,
                },
                _ = tokio::time::sleep_until(wake), if next_attempt.is_some() => {
                    let ok = self.send_batch(&mut queue).await;
                    next_attempt = match (ok, queue.is_empty()) {
                        (true, true) => None,
                        (true, false) => Some(Instant::now()),
                        (false, _) => Some(Instant::now() + backoff),
                    };
                    backoff = if ok { BACKOFF_FIRST } else { (backoff * 2).min(BACKOFF_MAX) };
                }
            }
        }
        self.flush(&mut queue).await;
        if let Some(metrics) = &self.metrics {
            let meters = metrics.provider.clone();
            // The reader's shutdown waits on its task: not on this thread.
            let _ = tokio::task::spawn_blocking(move || meters.shutdown()).await;
        }
    }

    /// Send one batch; on failure it goes back to the front of the queue.
    async fn send_batch(&mut self, queue: &mut BoundedQueue<SpanData>) -> bool {
        let batch = queue.take(BATCH);
        let count = batch.len();
        let result = tokio::time::timeout(EXPORT_TIMEOUT, self.spans.export(batch.clone())).await;
        let error = match result {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some(format!("no answer within {} s", EXPORT_TIMEOUT.as_secs())),
        };
        match error {
            None => self.status.note_sent(count),
            Some(e) => {
                tracing::warn!("OTLP export to {} failed: {e}", self.status.endpoint);
                self.status.note_error(e);
                let dropped = queue.requeue(batch);
                self.status.note_dropped(dropped);
            }
        }
        self.status.note_queued(queue.len());
        self.status.last_error().is_none()
    }

    /// Send what is queued, giving up after [`FLUSH_BUDGET`] or a failure.
    async fn flush(&mut self, queue: &mut BoundedQueue<SpanData>) {
        let deadline = Instant::now() + FLUSH_BUDGET;
        while !queue.is_empty() && Instant::now() < deadline {
            let sent = tokio::time::timeout_at(deadline, self.send_batch(queue)).await;
            if !matches!(sent, Ok(true)) {
                break;
            }
        }
        if let Some(metrics) = &self.metrics {
            let _ = metrics.provider.force_flush();
        }
    }

    /// The spans of one finished exchange (none for other traffic), and its
    /// measurements.
    fn spans_of(&mut self, record: &Record) -> Vec<SpanData> {
        let ex = &record.exchange;
        let Some(analysis) = crate::llm::analyse(ex) else {
            return Vec::new();
        };
        if analysis.kind == Kind::Mcp {
            let tool = analysis.mcp.as_ref().and_then(|c| c.tool.as_deref());
            let place = self.traces.mcp(tool);
            return vec![span::mcp_span(ex, &analysis, place)];
        }
        let thread = record.thread.as_ref().map(|t| t.thread_id);
        let place = self.traces.turn(thread, &tools_called(&analysis));
        let conversation = thread.map(|t| self.traces.conversation_id(t));
        let masked = self
            .content
            .then(|| crate::llm::analyse(&crate::redact::masked(ex)))
            .flatten();
        let model = request_model(ex);
        if let Some(metrics) = &self.metrics {
            metrics.measure(ex, &analysis, model.as_deref());
        }
        vec![span::llm_span(
            ex,
            &analysis,
            model.as_deref(),
            conversation.as_deref(),
            place,
            masked.as_ref(),
        )]
    }
}

/// The tools the reply asked to run.
fn tools_called(analysis: &Analysis) -> Vec<String> {
    analysis
        .reply
        .iter()
        .flat_map(|r| &r.parts)
        .filter_map(|p| match p {
            Part::ToolCall(c) => Some(c.name.clone()),
            _ => None,
        })
        .collect()
}

/// The model the request asked for (`gen_ai.request.model`).
fn request_model(ex: &crate::exchange::Exchange) -> Option<String> {
    let body: serde_json::Value = serde_json::from_slice(&ex.request.body.bytes).ok()?;
    body.get("model")?.as_str().map(str::to_string)
}
