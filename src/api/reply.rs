//! How the control API answers: JSON, text and bytes responses, and the
//! error shapes every route shares. A leaf: routes import it, it imports
//! no route.

use http::{Response, StatusCode, header};
use serde_json::json;

use super::params::ParamError;
use crate::engine::{UpstreamBody, full};

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
