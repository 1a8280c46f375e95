//! The control API, served on the proxy's own port under `/llmspy/` and
//! `/mockserver/` (so MockServer's documented curl commands work unchanged).
//!
//! It reads the store, never the engine's internals: the engine hands it
//! every origin-form request through an opaque handler.

mod retrieve;

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde_json::json;

use crate::capture::{CaptureMsg, Recorder, StoreReader};
use crate::engine::{ApiHandler, UpstreamBody, full};
use crate::mock::matcher::RequestMatcher;

/// Largest request body the API accepts (expectation files can be large).
const MAX_API_BODY: usize = 64 * 1024 * 1024;

/// What the API reads and controls.
#[derive(Clone)]
pub struct ApiContext {
    pub store: StoreReader,
    pub recorder: Recorder,
    pub ca_pem: Arc<str>,
    pub listen: SocketAddr,
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
        (Method::PUT, "clear") => clear(ctx, &body),
        (Method::PUT, "reset") => clear(ctx, &Bytes::new()),
        (Method::PUT, "retrieve") => retrieve::retrieve(ctx, &query, &body),
        (_, "ca.pem" | "status" | "clear" | "reset" | "retrieve") => error(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("use PUT for /llmspy/{route} (GET for ca.pem)"),
        ),
        _ => error(
            StatusCode::NOT_FOUND,
            &format!(
                "no control API route /llmspy/{route}; routes: ca.pem, status, clear, reset, retrieve"
            ),
        ),
    }
}

fn status(ctx: &ApiContext) -> Response<UpstreamBody> {
    let store = ctx.store.read();
    json_response(
        StatusCode::OK,
        &json!({
            "ports": [ctx.listen.port()],
            "version": env!("CARGO_PKG_VERSION"),
            "exchanges": store.len(),
            "evicted": store.evicted(),
        }),
    )
}

fn clear(ctx: &ApiContext, body: &Bytes) -> Response<UpstreamBody> {
    let matcher = match parse_matcher(body) {
        Ok(m) => m,
        Err(resp) => return resp,
    };
    let ids = match &matcher {
        None => None,
        Some(m) => Some(retrieve::matching_ids(ctx, m)),
    };
    let count = ids
        .as_ref()
        .map_or_else(|| ctx.store.read().len(), Vec::len);
    ctx.recorder.send(CaptureMsg::Clear(ids));
    json_response(StatusCode::OK, &json!({ "cleared": count }))
}

/// Parse an optional request-matcher body; empty means "everything".
pub(crate) fn parse_matcher(
    body: &Bytes,
) -> Result<Option<RequestMatcher>, Response<UpstreamBody>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            &format!("the request matcher is not JSON: {e}"),
        )
    })?;
    RequestMatcher::from_json(&value)
        .map(Some)
        .map_err(|e| error(StatusCode::BAD_REQUEST, &e.to_string()))
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
