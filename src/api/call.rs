//! A request to the control API with its body read: the one body reader
//! and the one limit every route shares.

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;

use super::reply::error;
use crate::engine::UpstreamBody;

/// Largest request body the API accepts (expectation files can be large).
pub const MAX_API_BODY: usize = 64 * 1024 * 1024;

/// One control request, routed and read.
#[derive(Clone)]
pub struct Call {
    pub method: Method,
    /// The path under `/llmspy/` or `/mockserver/`, without trailing `/`.
    pub route: String,
    /// The raw query string (empty when there is none).
    pub query: String,
    pub body: Bytes,
}

impl Call {
    /// Read `req`'s body (up to [`MAX_API_BODY`]); a body that cannot be
    /// read is answered with 400.
    pub async fn read(
        route: String,
        req: Request<Incoming>,
    ) -> Result<Call, Response<UpstreamBody>> {
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, MAX_API_BODY).collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    &format!("could not read the request body: {e}"),
                ));
            }
        };
        Ok(Call {
            method: parts.method,
            route,
            query: parts.uri.query().unwrap_or("").to_string(),
            body,
        })
    }
}
