//! `PUT /llmspy/retrieve`: captured traffic, expectations, conversations
//! and sessions, in native JSON or any export format, narrowed by an
//! optional request matcher (the body) and `filter=` expression.
//!
//! Query parameters: `type=` (REQUESTS, REQUEST_RESPONSES — the default —,
//! ACTIVE_EXPECTATIONS, RECORDED_EXPECTATIONS, CONVERSATION, SESSIONS),
//! `format=` (JSON — the default —, HAR, OPENAPI, POSTMAN, BRUNO), `filter=`,
//! `redact=true|false`, and `id=` for CONVERSATION. The answer carries
//! `x-llmspy-count`: how many exchanges or expectations it holds.

use bytes::Bytes;
use http::{Response, StatusCode, header};

use super::params::{self, RetrieveParams};
use super::render::{self, Rendered, RetrieveError, Snapshot};
use super::select::Selection;
use super::{ApiContext, bytes_response, error, error_chain, param_error, parse_matcher};
use crate::engine::UpstreamBody;
use crate::export::Format;

/// Response header giving the number of items in the answer.
pub const COUNT_HEADER: &str = "x-llmspy-count";

pub async fn retrieve(ctx: &ApiContext, query: &str, body: &Bytes) -> Response<UpstreamBody> {
    let params = match params::retrieve(query) {
        Ok(p) => p,
        Err(e) => return param_error(&e),
    };
    let matcher = match parse_matcher(body) {
        Ok(m) => m,
        Err(e) => return param_error(&e),
    };
    let selection = Selection::new(matcher, params.filter.clone());
    if super::streamed::streams(&params) {
        return super::streamed::answer(ctx, params, selection).await;
    }
    let ctx = ctx.clone();
    let format = params.format;
    // Matching bodies and rendering a large export take a while: keep them
    // off the async workers that relay traffic.
    let answer = tokio::task::spawn_blocking(move || {
        let snapshot = take_snapshot(&ctx, &params, &selection)?;
        render::render(snapshot, &params)
    })
    .await;
    match answer {
        Ok(Ok(rendered)) => ok(format, rendered),
        Ok(Err(e)) => retrieve_error(&e),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("rendering the answer failed: {e}"),
        ),
    }
}

/// Copy the selected records (or expectations) while holding the lock.
fn take_snapshot(
    ctx: &ApiContext,
    params: &RetrieveParams,
    selection: &Selection,
) -> Result<Snapshot, RetrieveError> {
    let active = match (&ctx.expectations, params.kind) {
        (Some(source), params::RetrieveType::ActiveExpectations) => source.active(),
        _ => Vec::new(),
    };
    let store = ctx.store.read();
    render::snapshot(&store, active, params, selection)
}

fn ok(format: Format, rendered: Rendered) -> Response<UpstreamBody> {
    let mut resp = bytes_response(StatusCode::OK, rendered.content_type, rendered.body);
    let headers = resp.headers_mut();
    headers.insert(COUNT_HEADER, header::HeaderValue::from(rendered.count));
    if format == Format::Bruno {
        headers.insert(
            header::CONTENT_DISPOSITION,
            header::HeaderValue::from_static("attachment; filename=\"llmspy.bruno.zip\""),
        );
    }
    resp
}

fn retrieve_error(e: &RetrieveError) -> Response<UpstreamBody> {
    match e {
        RetrieveError::Param(p) => param_error(p),
        RetrieveError::NoExchange(_) | RetrieveError::NotConversation(_) => {
            error(StatusCode::NOT_FOUND, &e.to_string())
        }
        RetrieveError::Export(_) => error(StatusCode::INTERNAL_SERVER_ERROR, &error_chain(e)),
    }
}
