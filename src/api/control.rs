//! The capture routes that are not retrieval: `ca.pem`, `status`, `clear`
//! and `reset`.

use std::time::Duration;

use bytes::Bytes;
use http::{Response, StatusCode};
use serde_json::json;

use super::call::Call;
use super::context::ApiContext;
use super::params::{self, ClearType, ParamError};
use super::reply::{json_response, param_error, text};
use super::select::Selection;
use crate::capture::CaptureMsg;
use crate::capture::Records as _;
use crate::engine::UpstreamBody;
use crate::mock::matcher::RequestMatcher;

/// How long `clear` waits for the capture task to apply it.
const CLEAR_WAIT: Duration = Duration::from_secs(5);

/// `GET ca.pem`: the certificate clients must trust.
pub fn ca_pem(ctx: &ApiContext, _: &Call) -> Response<UpstreamBody> {
    text(
        StatusCode::OK,
        "application/x-pem-file",
        ctx.ca_pem.to_string(),
    )
}

/// `status`: where llmspy listens and what the store holds.
pub fn status(ctx: &ApiContext, _: &Call) -> Response<UpstreamBody> {
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
            "history": ctx.history.as_ref().filter(|h| h.is_open()).map(|h| h.to_json()),
        }),
    )
}

/// `reset`: every mock expectation goes, whatever the type asks, then
/// what `clear` removes.
pub async fn reset(ctx: &ApiContext, call: &Call) -> Response<UpstreamBody> {
    if let Some(mock) = &ctx.mock {
        mock.clear();
    }
    clear(ctx, call).await
}

/// `clear`: remove the captured exchanges and/or expectations the matcher
/// and filter select (everything when neither is given).
pub async fn clear(ctx: &ApiContext, call: &Call) -> Response<UpstreamBody> {
    let params = match params::clear(&call.query) {
        Ok(p) => p,
        Err(e) => return param_error(&e),
    };
    let selection = match parse_matcher(&call.body) {
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
                    .all()
                    .filter(|r| selection.matches_record(r))
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
