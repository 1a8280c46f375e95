//! Answers from llmspy itself rather than an upstream: the error responses
//! a client gets when a request cannot be relayed, and the small bodies
//! they (and the control API) are made of.

use std::time::Instant;

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Full};

use super::heads::headers_of;
use crate::capture::CaptureMsg;
use crate::engine::Shared;
use crate::engine::tee::elapsed_us;
use crate::engine::upstream::UpstreamBody;
use crate::exchange::{Body, Failure, Response as RespHead};

/// Record the failure and answer the client with a body naming it.
pub fn fail(
    shared: &Shared,
    id: u64,
    started: Instant,
    status: StatusCode,
    failure: Failure,
) -> Response<UpstreamBody> {
    let body = format!("llmspy: {}: {}\n", failure.kind.label(), failure.message);
    let kind = serde_json::to_value(failure.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let resp = error_response(status, &kind, body.clone());
    let head = RespHead {
        status: status.as_u16(),
        version: "HTTP/1.1".into(),
        headers: headers_of(resp.headers()),
        body: Body::from_bytes(body.into_bytes()),
    };
    let at_us = elapsed_us(started);
    shared.recorder.send(CaptureMsg::ResponseHead {
        id,
        response: Box::new(head),
        at_us,
    });
    shared.recorder.send(CaptureMsg::Finish {
        id,
        at_us,
        failure: Some(failure),
    });
    resp
}

/// A plain-text error response from llmspy itself.
pub fn error_response(status: StatusCode, kind: &str, body: String) -> Response<UpstreamBody> {
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(kind) {
        h.insert(HeaderName::from_static("x-llmspy-error"), v);
    }
    resp
}

/// Whether a response with this status carries no content whatever it
/// says (RFC 9110 §6.4.1: informational, 204, 304).
pub fn bodiless(status: StatusCode) -> bool {
    status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
}

pub fn full(body: impl Into<Bytes>) -> UpstreamBody {
    Full::new(body.into()).map_err(|e| match e {}).boxed()
}

pub fn empty() -> UpstreamBody {
    full(Bytes::new())
}
