//! The control API, served on the proxy's own port under `/llmspy/` and
//! `/mockserver/` (so MockServer's documented curl commands work unchanged).
//!
//! It reads the store, never the engine's internals: the engine hands it
//! every origin-form request through an opaque handler.
//!
//! Routes: `GET ca.pem`, `PUT status`, `PUT retrieve` ([`retrieve`]),
//! `PUT clear` and `PUT reset` (a request matcher body, `filter=`, and
//! `type=ALL|LOG|EXPECTATIONS`), `GET events` ([`events`]).

pub mod active;
mod events;
pub mod expectations;
pub mod files;
pub mod fixtures;
pub mod guard;
pub mod mcp_server;
pub mod mcp_tools;
pub mod params;
pub mod render;
pub mod retrieve;
pub mod select;
pub mod sessions;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde_json::json;
use tokio::sync::broadcast;

use crate::capture::{CaptureMsg, Recorder, StoreEvent, StoreReader};
use crate::engine::{ApiHandler, UpstreamBody, full};
use crate::mock::matcher::RequestMatcher;

pub use active::ActiveExpectations;
use params::{ClearType, ParamError};
use select::Selection;

/// Largest request body the API accepts (expectation files can be large).
const MAX_API_BODY: usize = 64 * 1024 * 1024;

/// How long `clear` waits for the capture task to apply it.
const CLEAR_WAIT: Duration = Duration::from_secs(5);

/// What the API reads and controls.
#[derive(Clone)]
pub struct ApiContext {
    pub store: StoreReader,
    pub recorder: Recorder,
    /// The store's event channel, for `events` subscribers.
    pub events: broadcast::Sender<StoreEvent>,
    /// The mock expectations, once something keeps them; `None` lists none.
    pub expectations: Option<Arc<dyn ActiveExpectations>>,
    pub ca_pem: Arc<str>,
    pub listen: SocketAddr,
    /// The OpenTelemetry exporter's state, when one runs.
    pub exporter: Option<Arc<crate::otel::ExporterStatus>>,
    /// The history writer's state, when history is on.
    pub history: Option<Arc<crate::history::HistoryStatus>>,
}

/// The handler the engine calls for requests addressed to llmspy.
pub fn handler(ctx: ApiContext) -> ApiHandler {
    let ctx = Arc::new(ctx);
    Arc::new(move |req| {
        let ctx = ctx.clone();
        Box::pin(async move { handle(&ctx, req).await })
    })
}

async fn handle(ctx: &ApiContext, req: Request<Incoming>) -> Response<UpstreamBody> {
    let path = req.uri().path().to_string();
    let Some(route) = path
        .strip_prefix("/llmspy/")
        .or_else(|| path.strip_prefix("/mockserver/"))
    else {
        return not_proxied(ctx, &path);
    };
    let route = route.trim_end_matches('/').to_string();
    let method = req.method().clone();
    let query = req.uri().query().unwrap_or("").to_string();
    let body = match Limited::new(req.into_body(), MAX_API_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("could not read the request body: {e}"),
            );
        }
    };
    match (method, route.as_str()) {
        (Method::GET, "ca.pem") => text(
            StatusCode::OK,
            "application/x-pem-file",
            ctx.ca_pem.to_string(),
        ),
        (Method::PUT | Method::GET, "status") => status(ctx),
        (Method::PUT, "clear" | "reset") => clear(ctx, &query, &body).await,
        (Method::PUT | Method::GET, "retrieve") => retrieve::retrieve(ctx, &query, &body).await,
        (Method::GET, "events") => events::events(ctx, &query),
        (_, "ca.pem" | "status" | "clear" | "reset" | "retrieve" | "events") => error(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("use PUT for /llmspy/{route} (GET for ca.pem and events)"),
        ),
        _ => error(
            StatusCode::NOT_FOUND,
            &format!(
                "no control API route /llmspy/{route}; routes: ca.pem, status, clear, reset, retrieve, events"
            ),
        ),
    }
}

fn status(ctx: &ApiContext) -> Response<UpstreamBody> {
    let store = ctx.store.read();
    // recorded = kept + evicted + cleared; kept = complete + failed + open.
    let counts = store.counts();
    json_response(
        StatusCode::OK,
        &json!({
            "ports": [ctx.listen.port()],
            "version": env!("CARGO_PKG_VERSION"),
            "exchanges": store.count(),
            "evicted": store.evicted(),
            "refused": store.refusals().to_json(),
            "recorded": counts.recorded,
            "kept": counts.kept,
            "cleared": counts.cleared,
            "complete": counts.complete,
            "failed": counts.failed,
            "open": counts.open,
            "otlp": ctx.exporter.as_ref().map(|e| e.to_json()),
            "history": ctx.history.as_ref().map(|h| h.to_json()),
        }),
    )
}

/// `clear` and `reset`: remove the captured exchanges and/or expectations
/// the matcher and filter select (everything when neither is given).
async fn clear(ctx: &ApiContext, query: &str, body: &Bytes) -> Response<UpstreamBody> {
    let params = match params::clear(query) {
        Ok(p) => p,
        Err(e) => return param_error(&e),
    };
    let selection = match parse_matcher(body) {
        Ok(m) => Selection::new(m, params.filter),
        Err(e) => return param_error(&e),
    };
    let traffic = match params.kind {
        ClearType::Expectations => 0,
        ClearType::All | ClearType::Log => clear_traffic(ctx, &selection).await,
    };
    let expectations = match (params.kind, &ctx.expectations) {
        (ClearType::All | ClearType::Expectations, Some(source)) => {
            let at = chrono::Utc::now();
            source.remove_where(&|e| {
                selection.is_everything()
                    || selection.matches_exchange(&crate::export::described::exchange(e, 0, at))
            })
        }
        _ => 0,
    };
    json_response(
        StatusCode::OK,
        &json!({ "cleared": traffic, "expectationsCleared": expectations }),
    )
}

/// Remove the selected exchanges and wait until the store has, so a
/// retrieve right after the answer no longer sees them.
async fn clear_traffic(ctx: &ApiContext, selection: &Selection) -> usize {
    let ids = {
        let store = ctx.store.read();
        if selection.is_everything() {
            None
        } else {
            Some(
                store
                    .query(&|r| selection.matches_record(r))
                    .map(|r| r.exchange.id)
                    .collect::<Vec<_>>(),
            )
        }
    };
    let count = ids
        .as_ref()
        .map_or_else(|| ctx.store.read().count(), Vec::len);
    ctx.recorder.send(CaptureMsg::Clear(ids));
    let (done, applied) = tokio::sync::oneshot::channel();
    ctx.recorder.send(CaptureMsg::Flush(done));
    if tokio::time::timeout(CLEAR_WAIT, applied).await.is_err() {
        tracing::warn!("clear: the capture task did not confirm within {CLEAR_WAIT:?}");
    }
    count
}

/// Parse an optional request-matcher body; empty means "everything". A
/// bad body is answered like a bad parameter: 400 naming what was wrong.
pub(crate) fn parse_matcher(body: &Bytes) -> Result<Option<RequestMatcher>, ParamError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let problem = |text: String| {
        ParamError {
        parameter: "body".into(),
        value: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        problem: text,
        accepted: vec![
            "a MockServer request matcher: {\"method\", \"path\", \"queryStringParameters\", \"headers\", \"body\"}, or nothing".into(),
        ],
    }
    };
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| problem(format!("is not a JSON request matcher ({e})")))?;
    RequestMatcher::from_json(&value)
        .map(Some)
        .map_err(|e| problem(format!("is not a request matcher ({e})")))
}

/// A request in origin form that isn't for the API: someone pointed a client
/// straight at llmspy instead of using it as a proxy.
fn not_proxied(ctx: &ApiContext, path: &str) -> Response<UpstreamBody> {
    error(
        StatusCode::NOT_FOUND,
        &format!(
            "{path} is not a control API route. llmspy is a proxy: set HTTPS_PROXY=http://{0} \
             (or run `eval \"$(llmspy env)\"`); the API lives under http://{0}/llmspy/",
            ctx.listen
        ),
    )
}

pub(crate) fn json_response(
    status: StatusCode,
    value: &serde_json::Value,
) -> Response<UpstreamBody> {
    let body = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes_response(status, "application/json", body)
}

pub(crate) fn text(status: StatusCode, content_type: &str, body: String) -> Response<UpstreamBody> {
    bytes_response(status, content_type, body.into_bytes())
}

pub(crate) fn bytes_response(
    status: StatusCode,
    content_type: &str,
    body: Vec<u8>,
) -> Response<UpstreamBody> {
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    if let Ok(v) = header::HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    resp
}

pub(crate) fn error(status: StatusCode, message: &str) -> Response<UpstreamBody> {
    json_response(status, &json!({ "error": message }))
}

/// 400 naming the parameter and the values it accepts, for people and
/// for scripts.
pub(crate) fn param_error(e: &ParamError) -> Response<UpstreamBody> {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({
            "error": e.to_string(),
            "parameter": e.parameter,
            "accepted": e.accepted,
        }),
    )
}

/// An error and its sources, `outer: inner: innermost`.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
