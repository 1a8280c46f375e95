//! llmspy as an MCP server over streamable HTTP at `/llmspy/mcp`
//! (protocol 2025-06-18): `initialize` hands out an `Mcp-Session-Id`,
//! notifications get `202 Accepted`, `tools/list` and `tools/call` answer
//! with plain JSON (the transport allows JSON instead of an SSE stream).
//! The tools themselves live in [`super::mcp_tools`].
//!
//! Also `POST /llmspy/mcp-stdio/ingest`, where `llmspy mcp-stdio` sends
//! each JSON-RPC exchange of a wrapped stdio server, so it shows up as MCP
//! traffic like any other.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode};
use serde_json::{Value, json};

use super::call::Call;
use super::context::ApiContext;
use super::reply::{bytes_response, error, json_response};
use crate::capture::CaptureMsg;
use crate::engine::UpstreamBody;
use crate::exchange::{Body, Exchange, Headers, Response as Resp, Timings, Via};

/// The protocol revision llmspy speaks.
pub const PROTOCOL_VERSION: &str = "2025-06-18";
const SESSION_HEADER: &str = "mcp-session-id";

/// Session ids handed out by `initialize`.
#[derive(Debug, Default)]
pub struct Sessions {
    next: AtomicU64,
}

impl Sessions {
    fn mint(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        format!("llmspy-mcp-{}-{n}", std::process::id())
    }
}

/// One request of the streamable HTTP transport.
pub fn serve(ctx: &ApiContext, call: &Call) -> Response<UpstreamBody> {
    match call.method {
        Method::POST => post(ctx, &call.body),
        // Sessions hold no state worth tearing down.
        Method::DELETE => bytes_response(StatusCode::OK, "application/json", Vec::new()),
        _ => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "POST JSON-RPC messages to /llmspy/mcp; llmspy sends no server-initiated stream",
        ),
    }
}

fn post(ctx: &ApiContext, body: &Bytes) -> Response<UpstreamBody> {
    let msg: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return rpc_response(&rpc_error(
                Value::Null,
                -32700,
                &format!("parse error: {e}"),
            ));
        }
    };
    let Some(id) = msg.get("id").cloned() else {
        // A notification or a response from the client: nothing to answer.
        return bytes_response(StatusCode::ACCEPTED, "application/json", Vec::new());
    };
    let method = msg
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let params = msg.get("params").cloned().unwrap_or(Value::Null);
    let reply = match method {
        "initialize" => return initialize(ctx, id, &params),
        "ping" => rpc_result(id, json!({})),
        "tools/list" => rpc_result(id, json!({ "tools": super::mcp_tools::list() })),
        "tools/call" => rpc_result(id, super::mcp_tools::call(ctx, &params)),
        other => rpc_error(id, -32601, &format!("method not found: {other}")),
    };
    rpc_response(&reply)
}

fn initialize(ctx: &ApiContext, id: Value, params: &Value) -> Response<UpstreamBody> {
    let asked = params.get("protocolVersion").and_then(Value::as_str);
    let version = match asked {
        Some(v @ ("2025-06-18" | "2025-03-26")) => v,
        _ => PROTOCOL_VERSION,
    };
    let result = json!({
        "protocolVersion": version,
        "capabilities": { "tools": { "listChanged": false } },
        "serverInfo": { "name": "llmspy", "version": env!("CARGO_PKG_VERSION") },
        "instructions": "Inspect the LLM and MCP traffic llmspy captured, and record or load mock fixtures.",
    });
    let mut resp = rpc_response(&rpc_result(id, result));
    if let Ok(v) = HeaderValue::from_str(&ctx.mcp_sessions.mint()) {
        resp.headers_mut().insert(SESSION_HEADER, v);
    }
    resp
}

fn rpc_result(id: Value, result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

fn rpc_error(id: Value, code: i64, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
}

fn rpc_response(v: &Value) -> Response<UpstreamBody> {
    json_response(StatusCode::OK, v)
}

/// `POST mcp-stdio/ingest`: `{"command": "…", "request": {…},
/// "response": {…}|null, "durationUs": n}` becomes one captured exchange.
pub fn ingest(ctx: &ApiContext, call: &Call) -> Response<UpstreamBody> {
    let doc: Value = match serde_json::from_slice(&call.body) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, &format!("not JSON: {e}")),
    };
    let Some(request) = doc.get("request").filter(|r| r.is_object()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected {\"request\": <JSON-RPC message>, …}",
        );
    };
    let id = ctx.recorder.next_id();
    let ex = stdio_exchange(id, &doc, request);
    ctx.recorder.send(CaptureMsg::Insert(Box::new(ex)));
    json_response(StatusCode::OK, &json!({ "id": id }))
}

/// A synthetic HTTP exchange carrying one stdio JSON-RPC round trip, so
/// the MCP decoder and every view read it as they read HTTP MCP traffic.
fn stdio_exchange(id: u64, doc: &Value, request: &Value) -> Exchange {
    let command = doc
        .get("command")
        .and_then(Value::as_str)
        .unwrap_or("mcp-server");
    let duration = doc.get("durationUs").and_then(Value::as_u64).unwrap_or(0);
    let response = doc.get("response").filter(|r| r.is_object()).map(|r| Resp {
        status: 200,
        version: "stdio".into(),
        headers: Headers::from([("content-type", "application/json")]),
        body: Body::from_bytes(r.to_string()),
    });
    let accepted = Resp {
        status: 202,
        version: "stdio".into(),
        headers: Headers::new(),
        body: Body::default(),
    };
    Exchange::builder()
        .id(id)
        .started_at(chrono::Utc::now())
        .via(Via::Other)
        .method("POST")
        .scheme("stdio")
        .host(command)
        .port(0)
        .path("/")
        .version("stdio")
        .header("content-type", "application/json")
        .body(request.to_string())
        .response(response.unwrap_or(accepted))
        .timings(Timings {
            end_us: Some(duration),
            ..Timings::default()
        })
        .build()
}
