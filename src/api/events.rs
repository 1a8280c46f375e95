//! `GET /llmspy/events`: a server-sent event stream with one `exchange`
//! event per finished exchange (the same JSON as `retrieve`, `llm` object
//! included), for other tools to tail. `filter=` narrows it; `redact=true`
//! masks secrets.
//!
//! Events come from the store's broadcast channel. A reader that falls
//! behind gets a `lagged` event saying how many it missed rather than a
//! silently broken feed; a clear sends `cleared`.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Response, StatusCode, header};
use http_body::Frame;
use http_body_util::BodyExt;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc};

use super::context::ApiContext;
use super::params::{self, EventsParams};
use super::reply::param_error;
use super::select::Selection;
use crate::capture::{StoreEvent, StoreReader};
use crate::engine::{BoxError, UpstreamBody};

/// A comment line this often keeps idle connections (and proxies) open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Frames buffered per reader before the pump waits for the client.
const BUFFERED_FRAMES: usize = 64;

pub fn events(ctx: &ApiContext, query: &str) -> Response<UpstreamBody> {
    let params = match params::events(query) {
        Ok(p) => p,
        Err(e) => return param_error(&e),
    };
    // Subscribe before answering: once the client has the response head,
    // every exchange that finishes afterwards is in its stream.
    let rx = ctx.events.subscribe();
    let (tx, frames) = mpsc::channel(BUFFERED_FRAMES);
    tokio::spawn(pump(ctx.store.clone(), rx, tx, params));
    let mut resp = Response::new(Feed(frames).boxed());
    *resp.status_mut() = StatusCode::OK;
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache"),
    );
    resp
}

/// Move store events to one client until it goes away or the store stops.
async fn pump(
    store: StoreReader,
    mut rx: broadcast::Receiver<StoreEvent>,
    tx: mpsc::Sender<Bytes>,
    params: EventsParams,
) {
    let selection = Selection::new(None, params.filter.clone());
    let mut keep_alive =
        tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE);
    if tx
        .send(Bytes::from_static(b": llmspy events\n\n"))
        .await
        .is_err()
    {
        return;
    }
    loop {
        let frame = tokio::select! {
            _ = tx.closed() => return,
            _ = keep_alive.tick() => Some(Bytes::from_static(b": keep-alive\n\n")),
            event = rx.recv() => match event {
                Ok(StoreEvent::Finished(id)) => exchange_event(&store, id, &selection, params.redact),
                Ok(StoreEvent::Cleared) => Some(Bytes::from_static(b"event: cleared\ndata: {}\n\n")),
                Ok(_) => None,
                Err(RecvError::Lagged(n)) => Some(Bytes::from(format!(
                    "event: lagged\ndata: {{\"skipped\":{n}}}\n\n"
                ))),
                Err(RecvError::Closed) => return,
            },
        };
        if let Some(frame) = frame
            && tx.send(frame).await.is_err()
        {
            return;
        }
    }
}

/// `id: N / event: exchange / data: {…}` for a finished exchange the
/// filter selects.
fn exchange_event(
    store: &StoreReader,
    id: u64,
    selection: &Selection,
    redact: bool,
) -> Option<Bytes> {
    // Clone out and let go of the lock before serialising.
    let mut record = store.read().get(id).cloned()?;
    if !selection.matches_record(&record) {
        return None;
    }
    if redact {
        crate::redact::mask(&mut record.exchange);
    }
    // Compact JSON has no newlines, so one `data:` line carries it.
    let data = serde_json::to_string(&super::render::exchange_json(&record)).ok()?;
    Some(Bytes::from(format!(
        "id: {id}\nevent: exchange\ndata: {data}\n\n"
    )))
}

/// The response body: whatever the pump sends, as it comes.
struct Feed(mpsc::Receiver<Bytes>);

impl http_body::Body for Feed {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.0.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b))))
    }
}
