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
use crate::llm::{Note, NoteKind};
use crate::sse;

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

/// Messages of a body: one message or a batch.
fn messages(v: &Value) -> Vec<RpcMessage> {
    match v {
        Value::Array(items) => items.iter().map(message).collect(),
        single => vec![message(single)],
    }
}

/// Classify one JSON value as a JSON-RPC message.
pub fn message(v: &Value) -> RpcMessage {
    if v.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return RpcMessage::Invalid {
            reason: "missing \"jsonrpc\": \"2.0\"".to_string(),
        };
    }
    let id = v.get("id").cloned();
    let method = v.get("method").and_then(Value::as_str).map(str::to_string);
    let params = v.get("params").cloned();
    match (method, id) {
        (Some(method), Some(id)) => RpcMessage::Request { id, method, params },
        (Some(method), None) => RpcMessage::Notification { method, params },
        (None, id) => response(v, id.unwrap_or(Value::Null)),
    }
}

fn response(v: &Value, id: Value) -> RpcMessage {
    if let Some(e) = v.get("error") {
        return RpcMessage::Error {
            id,
            error: RpcError {
                code: e.get("code").and_then(Value::as_i64).unwrap_or(0),
                message: e
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                data: e.get("data").cloned(),
            },
        };
    }
    match v.get("result") {
        Some(result) => RpcMessage::Response {
            id,
            result: result.clone(),
        },
        None => RpcMessage::Invalid {
            reason: "neither method, result nor error".to_string(),
        },
    }
}

fn read_reply(
    r: Reply,
    events: &mut Vec<WireEvent>,
    endpoint: &mut Option<String>,
    notes: &mut Vec<Note>,
) -> (Transport, Vec<RpcMessage>) {
    let blank = r.body.iter().all(u8::is_ascii_whitespace);
    if blank {
        return (Transport::Accepted, Vec::new());
    }
    if r.content_type.contains("event-stream") {
        return read_stream(r.body, events, endpoint, notes);
    }
    match serde_json::from_slice::<Value>(r.body) {
        Ok(v) if is_jsonrpc(&v) => (Transport::Json, messages(&v)),
        Ok(_) | Err(_) if r.status >= 400 => (Transport::Json, Vec::new()),
        Ok(_) => {
            notes.push(Note::new(
                NoteKind::Malformed,
                "response: not a JSON-RPC 2.0 message",
            ));
            (Transport::Json, Vec::new())
        }
        Err(e) => {
            notes.push(Note::new(
                NoteKind::Malformed,
                format!("response: invalid JSON ({e})"),
            ));
            (Transport::Json, Vec::new())
        }
    }
}

fn read_stream(
    body: &[u8],
    events: &mut Vec<WireEvent>,
    endpoint: &mut Option<String>,
    notes: &mut Vec<Note>,
) -> (Transport, Vec<RpcMessage>) {
    let mut transport = Transport::Sse;
    let mut received = Vec::new();
    for (i, e) in sse::parse_sse(body).into_iter().enumerate() {
        if e.event == "endpoint" {
            transport = Transport::LegacySse;
            *endpoint = Some(e.data.clone());
            events.push(wire(&e, "endpoint", e.data.clone()));
            continue;
        }
        let v = match serde_json::from_str::<Value>(&e.data) {
            Ok(v) => v,
            Err(err) => {
                let kind = if e.complete {
                    NoteKind::Malformed
                } else {
                    NoteKind::Incomplete
                };
                notes.push(Note::new(kind, format!("event {i}: invalid JSON ({err})")));
                continue;
            }
        };
        for m in messages(&v) {
            let (kind, summary) = describe(&m);
            events.push(wire(&e, &kind, summary));
            received.push(m);
        }
    }
    (transport, received)
}

fn wire(e: &sse::SseEvent, kind: &str, summary: String) -> WireEvent {
    WireEvent {
        offset: e.offset,
        end: e.end,
        kind: kind.to_string(),
        summary,
    }
}

/// Timeline kind and one-line summary of a message.
fn describe(m: &RpcMessage) -> (String, String) {
    match m {
        RpcMessage::Request { id, method, .. } => (method.clone(), format!("request {id}")),
        RpcMessage::Notification { method, params } => {
            let progress = params.as_ref().and_then(|p| p.get("progress"));
            let detail = progress
                .map(|p| format!("progress {p}"))
                .unwrap_or_default();
            (method.clone(), detail)
        }
        RpcMessage::Response { id, result } => {
            let flag = if tool_failed(result) {
                " (isError)"
            } else {
                ""
            };
            ("result".to_string(), format!("id {id}{flag}"))
        }
        RpcMessage::Error { id, error } => (
            "error".to_string(),
            format!("id {id}: {} {}", error.code, error.message),
        ),
        RpcMessage::Invalid { reason } => ("invalid".to_string(), reason.clone()),
    }
}

/// A tool result reporting failure (`isError`, or `is_error` from some SDKs).
fn tool_failed(result: &Value) -> bool {
    let flag = result.get("isError").or_else(|| result.get("is_error"));
    flag.and_then(Value::as_bool).unwrap_or(false)
}

/// Pair each sent request with the received answer of the same id.
fn pair(sent: &[RpcMessage], received: &[RpcMessage]) -> Vec<Pair> {
    sent.iter()
        .filter_map(|m| match m {
            RpcMessage::Request { id, method, params } => Some((id, method, params)),
            _ => None,
        })
        .map(|(id, method, params)| {
            let answer = received.iter().find(|r| match r {
                RpcMessage::Response { id: rid, .. } | RpcMessage::Error { id: rid, .. } => {
                    rid == id
                }
                _ => false,
            });
            let (result, error) = match answer {
                Some(RpcMessage::Response { result, .. }) => (Some(result.clone()), None),
                Some(RpcMessage::Error { error, .. }) => (None, Some(error.clone())),
                _ => (None, None),
            };
            let is_error = error.is_some() || result.as_ref().is_some_and(tool_failed);
            Pair {
                tool: tool_name(method, params.as_ref()),
                method: method.clone(),
                id: id.clone(),
                params: params.clone(),
                result,
                error,
                is_error,
            }
        })
        .collect()
}

fn tool_name(method: &str, params: Option<&Value>) -> Option<String> {
    (method == "tools/call")
        .then(|| params?.get("name")?.as_str().map(str::to_string))
        .flatten()
}

/// The headline fields: the first request's pair, else the first
/// notification, plus server info from any `initialize` result.
fn summarise(
    sent: &[RpcMessage],
    received: &[RpcMessage],
    pairs: &[Pair],
    transport: Transport,
) -> McpCall {
    let mut call = McpCall {
        method: None,
        id: None,
        params: None,
        result: None,
        error: None,
        is_error: false,
        tool: None,
        session_id: None,
        protocol_version: None,
        server: received.iter().find_map(server_info),
        transport,
        http_status: None,
        sent: sent.to_vec(),
        received: received.to_vec(),
        pairs: pairs.to_vec(),
    };
    if let Some(p) = pairs.first() {
        call.method = Some(p.method.clone());
        call.id = Some(p.id.clone());
        call.params = p.params.clone();
        call.result = p.result.clone();
        call.error = p.error.clone();
        call.is_error = pairs.iter().any(|p| p.is_error);
        call.tool = p.tool.clone();
    } else if let Some(RpcMessage::Notification { method, params }) = sent.first() {
        call.method = Some(method.clone());
        call.params = params.clone();
    }
    call
}

fn server_info(m: &RpcMessage) -> Option<ServerInfo> {
    let RpcMessage::Response { result, .. } = m else {
        return None;
    };
    let info = result.get("serverInfo")?;
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    Some(ServerInfo {
        name: text(info, "name"),
        version: text(info, "version"),
        title: text(info, "title"),
        protocol_version: text(result, "protocolVersion"),
    })
}

/// The session: `Mcp-Session-Id` (set by the server in the initialize
/// reply, echoed by the client after), or the old transport's `sessionId`.
fn session_id(ex: &Exchange, endpoint: Option<&str>) -> Option<String> {
    let from_response = ex
        .response
        .as_ref()
        .and_then(|r| header(&r.headers, "mcp-session-id"));
    let from_request = header(&ex.request.headers, "mcp-session-id");
    if let Some(id) = from_response.or(from_request) {
        return Some(id.to_string());
    }
    let query = endpoint.unwrap_or(&ex.request.path);
    let (_, query) = query.split_once('?')?;
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        matches!(k, "sessionId" | "session_id").then(|| v.to_string())
    })
}

/// An HTTP error: flag it, and without a JSON-RPC error say what it was.
fn http_error(call: &mut McpCall, r: Reply) {
    call.is_error = true;
    if call.error.is_none() {
        let text = String::from_utf8_lossy(r.body);
        let text: String = text.trim().chars().take(200).collect();
        call.error = Some(RpcError {
            code: i64::from(r.status),
            message: format!("HTTP {}: {text}", r.status),
            data: None,
        });
    }
}

#[cfg(test)]
mod tests;
