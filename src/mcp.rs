//! MCP (Model Context Protocol) over HTTP: decode the JSON-RPC 2.0 messages
//! of one exchange — requests, notifications, responses, errors, batches —
//! pair each request with its response, and pick out what people look for:
//! method, tool name, error, session id, and the server's name and version
//! from `initialize`.
//!
//! Transports: streamable HTTP (a POST whose reply is one JSON message, an
//! SSE stream of messages ending in the response, or `202 Accepted` for
//! notifications; `Mcp-Session-Id` and `MCP-Protocol-Version` headers; GET
//! for a server stream, DELETE to end a session), and the older HTTP+SSE
//! transport (a GET stream that first sends an `endpoint` event, then
//! `message` events; the client POSTs to that endpoint and gets 202).
//! Responses sent on another exchange's stream are not paired here.
//! Pure code: no IO.

use serde::Serialize;
use serde_json::Value;

use crate::exchange::{Exchange, header};
use crate::note::Note;
use crate::sse;

mod pair;
mod read;

use pair::{http_error, pair, session_id, summarise};
pub use read::message;
use read::{messages, read_reply};

/// One JSON-RPC message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RpcMessage {
    Request {
        id: Value,
        method: String,
        params: Option<Value>,
    },
    Notification {
        method: String,
        params: Option<Value>,
    },
    Response {
        id: Value,
        result: Value,
    },
    Error {
        id: Value,
        error: RpcError,
    },
    /// Not a JSON-RPC 2.0 message; why.
    Invalid {
        reason: String,
    },
}

/// A JSON-RPC error object (or an HTTP error, with the status as code).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

/// A request and, when it came in the same exchange, its answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pair {
    pub method: String,
    pub id: Value,
    pub params: Option<Value>,
    pub result: Option<Value>,
    pub error: Option<RpcError>,
    pub is_error: bool,
    /// Tool name of a `tools/call`.
    pub tool: Option<String>,
}

/// Who the server says it is (from an `initialize` result).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerInfo {
    pub name: Option<String>,
    pub version: Option<String>,
    pub title: Option<String>,
    pub protocol_version: Option<String>,
}

/// How the reply travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// One JSON message (or batch) in the response body.
    Json,
    /// Streamable HTTP with an SSE reply.
    Sse,
    /// The older HTTP+SSE transport's GET stream (`endpoint` event first).
    LegacySse,
    /// `202 Accepted` (or another reply without a body).
    Accepted,
    /// No response yet.
    Pending,
}

/// Everything decoded from one MCP exchange.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct McpCall {
    /// The (first) method the client sent; a notification's method too.
    pub method: Option<String>,
    pub id: Option<Value>,
    pub params: Option<Value>,
    pub result: Option<Value>,
    pub error: Option<RpcError>,
    /// A JSON-RPC error, a tool result with `isError`, or an HTTP error.
    pub is_error: bool,
    pub tool: Option<String>,
    pub session_id: Option<String>,
    pub protocol_version: Option<String>,
    pub server: Option<ServerInfo>,
    pub transport: Transport,
    /// HTTP status of the reply, once it came.
    pub http_status: Option<u16>,
    /// Client → server messages (the request body).
    pub sent: Vec<RpcMessage>,
    /// Server → client messages (the response body).
    pub received: Vec<RpcMessage>,
    pub pairs: Vec<Pair>,
}

/// A decoded response: what [`decode_parts`] needs of it.
#[derive(Debug, Clone, Copy)]
pub struct Reply<'a> {
    pub status: u16,
    /// Lower-cased `Content-Type`.
    pub content_type: &'a str,
    /// The body with content-encoding removed.
    pub body: &'a [u8],
}

/// One message of an SSE reply, for the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WireEvent {
    pub offset: u64,
    pub end: u64,
    pub kind: String,
    pub summary: String,
}

/// [`McpCall`] plus the stream events and notes behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct McpDecoded {
    pub call: McpCall,
    pub events: Vec<WireEvent>,
    pub notes: Vec<Note>,
}

/// True when `ex` is MCP traffic: a JSON-RPC 2.0 body, an MCP session
/// header, or an SSE stream that starts with `endpoint` or carries JSON-RPC.
pub fn looks_like_mcp(ex: &Exchange, request: Option<&Value>) -> bool {
    if request.is_some_and(is_jsonrpc) {
        return true;
    }
    if header(&ex.request.headers, "mcp-session-id").is_some() {
        return true;
    }
    let Some(resp) = &ex.response else {
        return false;
    };
    let is_sse = header(&resp.headers, "content-type")
        .is_some_and(|ct| ct.to_ascii_lowercase().contains("event-stream"));
    if ex.request.method != "GET" || !is_sse {
        return false;
    }
    let head = &resp.body.bytes[..resp.body.bytes.len().min(4096)];
    sse::parse_sse(head)
        .first()
        .is_some_and(|e| e.event == "endpoint" || e.data.contains("\"jsonrpc\""))
}

fn is_jsonrpc(v: &Value) -> bool {
    match v {
        Value::Array(items) => items.first().is_some_and(is_jsonrpc),
        Value::Object(o) => {
            o.get("jsonrpc").and_then(Value::as_str) == Some("2.0")
                && (o.contains_key("method") || o.contains_key("result") || o.contains_key("error"))
        }
        _ => false,
    }
}

/// Decode an exchange, removing content-encoding first.
pub fn decode(ex: &Exchange) -> McpDecoded {
    let req_body = crate::content::decode(
        header(&ex.request.headers, "content-encoding"),
        &ex.request.body.bytes,
    );
    let request: Option<Value> = serde_json::from_slice(&req_body.bytes).ok();
    let resp = ex.response.as_ref().map(|r| {
        let ct = header(&r.headers, "content-type")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let body = crate::content::decode(header(&r.headers, "content-encoding"), &r.body.bytes);
        (r.status, ct, body.bytes.into_owned())
    });
    let reply = resp.as_ref().map(|(status, ct, body)| Reply {
        status: *status,
        content_type: ct,
        body,
    });
    decode_parts(ex, request.as_ref(), reply)
}

/// Decode from an already-parsed request body and a decoded reply.
pub fn decode_parts(ex: &Exchange, request: Option<&Value>, reply: Option<Reply>) -> McpDecoded {
    let mut notes = Vec::new();
    let sent = request.map(messages).unwrap_or_default();
    let mut events = Vec::new();
    let mut endpoint = None;
    let (transport, received) = match reply {
        None => (Transport::Pending, Vec::new()),
        Some(r) => read_reply(r, &mut events, &mut endpoint, &mut notes),
    };
    let pairs = pair(&sent, &received);
    let mut call = summarise(&sent, &received, &pairs, transport);
    call.session_id = session_id(ex, endpoint.as_deref());
    call.http_status = reply.map(|r| r.status);
    call.protocol_version = header(&ex.request.headers, "mcp-protocol-version")
        .map(str::to_string)
        .or_else(|| {
            call.server
                .as_ref()
                .and_then(|s| s.protocol_version.clone())
        });
    if let Some(r) = reply.filter(|r| r.status >= 400) {
        http_error(&mut call, r);
    }
    McpDecoded {
        call,
        events,
        notes,
    }
}

#[cfg(test)]
mod tests;
