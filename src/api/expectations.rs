//! The mock routes of the control API — `PUT expectation`,
//! `PUT fixtures/record`, the MCP endpoint `mcp` and the stdio bridge's
//! `mcp-stdio/ingest` — layered in front of the rest of the API, so the
//! mock module's state stays out of the shared [`super::ApiContext`].
//!
//! `PUT reset` also drops every expectation before the API's own reset runs.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde_json::{Value, json};

use super::files::{FileError, FilesRoot};
use super::{error, json_response};
use crate::capture::{CaptureMsg, Recorder, Refusal, RefusalRule, StoreReader};
use crate::engine::{ApiFuture, ApiHandler, UpstreamBody};
use crate::mock::Expectations;

/// Largest body the mock routes read (expectation files can be large).
const MAX_BODY: usize = 64 * 1024 * 1024;

/// What the mock routes work on.
#[derive(Clone)]
pub struct MockContext {
    pub mock: Expectations,
    pub store: StoreReader,
    pub recorder: Recorder,
    /// MCP sessions handed out by `initialize`.
    pub mcp_sessions: Arc<super::mcp_server::Sessions>,
    /// Where the routes and tools may write and read files.
    pub files: Arc<FilesRoot>,
}

impl MockContext {
    pub fn new(
        mock: Expectations,
        store: StoreReader,
        recorder: Recorder,
        files: FilesRoot,
    ) -> Self {
        MockContext {
            mock,
            store,
            recorder,
            mcp_sessions: Arc::default(),
            files: Arc::new(files),
        }
    }

    /// Write a file inside the files root; a path that escapes it is
    /// reported as a refusal (counted, logged, shown in the UI).
    pub fn write_file(
        &self,
        path: &str,
        bytes: &[u8],
        overwrite: bool,
    ) -> Result<std::path::PathBuf, FileError> {
        self.files
            .write(path, bytes, overwrite)
            .inspect_err(|e| self.report(e))
    }

    /// Where `path` lands inside the files root, for reading.
    pub fn resolve_file(&self, path: &str) -> Result<std::path::PathBuf, FileError> {
        self.files.resolve(path).inspect_err(|e| self.report(e))
    }

    /// A regular file's text inside the files root, size-capped.
    pub fn read_file(&self, path: &std::path::Path) -> Result<String, FileError> {
        let text = path.to_string_lossy();
        let (_, bytes) = self.files.read(&text).inspect_err(|e| self.report(e))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    fn report(&self, e: &FileError) {
        if e.is_refusal() {
            let reason = format!("refused a control request: {e}");
            tracing::warn!("{reason}");
            self.recorder.send(CaptureMsg::Refused(Refusal {
                rule: RefusalRule::Path,
                reason,
            }));
        }
    }
}

/// A request to one of the mock routes, body read.
pub struct Call {
    pub method: Method,
    pub route: String,
    pub query: String,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

/// Serve the mock routes and hand everything else to `inner`.
pub fn with_mock_routes(ctx: MockContext, inner: ApiHandler) -> ApiHandler {
    let ctx = Arc::new(ctx);
    Arc::new(move |req: Request<Incoming>| -> ApiFuture {
        let Some(route) = mock_route(req.uri().path()) else {
            return inner(req);
        };
        if route == "reset" {
            ctx.mock.clear();
            return inner(req);
        }
        let ctx = ctx.clone();
        Box::pin(async move { serve(&ctx, route, req).await })
    })
}

/// The route under `/llmspy/` or `/mockserver/` if it is one of ours.
fn mock_route(path: &str) -> Option<String> {
    let route = path
        .strip_prefix("/llmspy/")
        .or_else(|| path.strip_prefix("/mockserver/"))?
        .trim_end_matches('/');
    matches!(
        route,
        "expectation" | "fixtures/record" | "mcp" | "mcp-stdio/ingest" | "reset"
    )
    .then(|| route.to_string())
}

async fn serve(ctx: &MockContext, route: String, req: Request<Incoming>) -> Response<UpstreamBody> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("could not read the body: {e}"),
            );
        }
    };
    let call = Call {
        method: parts.method,
        route,
        query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts.headers,
        body,
    };
    match (&call.method, call.route.as_str()) {
        (&Method::PUT, "expectation") => put_expectation(ctx, &call.body),
        (&Method::PUT, "fixtures/record") => super::fixtures::record(ctx, &call),
        (_, "mcp") => super::mcp_server::serve(ctx, &call),
        (&Method::POST, "mcp-stdio/ingest") => super::mcp_server::ingest(ctx, &call.body),
        _ => error(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!(
                "use PUT for /llmspy/{} (POST for mcp and mcp-stdio/ingest)",
                call.route
            ),
        ),
    }
}

/// `PUT expectation`: one expectation or an array (or a fixture file's
/// content); answers 201 with them as stored, or 400 naming the JSON path.
pub fn put_expectation(ctx: &MockContext, body: &Bytes) -> Response<UpstreamBody> {
    let doc: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("the expectation is not JSON: {e}"),
            );
        }
    };
    match ctx.mock.upsert_json(&doc) {
        Ok(stored) => json_response(StatusCode::CREATED, &Value::Array(stored)),
        Err(e) => json_response(
            StatusCode::BAD_REQUEST,
            &json!({ "error": format!("incorrect expectation: {e}") }),
        ),
    }
}

impl super::active::ActiveExpectations for Expectations {
    fn active(&self) -> Vec<Value> {
        self.list()
    }

    fn remove_where(&self, remove: &dyn Fn(&Value) -> bool) -> usize {
        Expectations::remove_where(self, remove)
    }
}
