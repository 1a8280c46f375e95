//! Pairing requests with their answers and picking the headline facts of
//! an MCP exchange: method, tool, error, session, server.

use serde_json::Value;

use super::read::tool_failed;
use super::{McpCall, Pair, Reply, RpcError, RpcMessage, ServerInfo, Transport};
use crate::exchange::{Exchange, header};

/// Pair each sent request with the received answer of the same id.
pub(super) fn pair(sent: &[RpcMessage], received: &[RpcMessage]) -> Vec<Pair> {
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
pub(super) fn summarise(
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
pub(super) fn session_id(ex: &Exchange, endpoint: Option<&str>) -> Option<String> {
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
pub(super) fn http_error(call: &mut McpCall, r: Reply) {
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
