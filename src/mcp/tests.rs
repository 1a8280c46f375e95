use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::exchange::{Exchange, ExchangeBuilder};

/// A request to an MCP server; tests that need a response add it.
fn request(
    method: &str,
    path: &str,
    req_headers: Vec<(&str, &str)>,
    body: &str,
) -> ExchangeBuilder {
    Exchange::builder()
        .method(method)
        .host("mcp.example.com")
        .path(path)
        .headers(req_headers)
        .body(body)
}

fn exchange(method: &str, path: &str, req_headers: Vec<(&str, &str)>, body: &str) -> Exchange {
    request(method, path, req_headers, body).build()
}

fn respond(
    request: ExchangeBuilder,
    status: u16,
    headers: Vec<(&str, &str)>,
    body: &str,
) -> Exchange {
    request
        .status(status)
        .response_headers(headers)
        .response_body(body)
        .build()
}

#[test]
fn message_kinds_table() {
    let cases = [
        (
            json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
            "request",
        ),
        (
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
            "notification",
        ),
        (
            json!({"jsonrpc": "2.0", "id": "a", "result": {}}),
            "response",
        ),
        (
            json!({"jsonrpc": "2.0", "id": 2, "error": {"code": -32601, "message": "nope"}}),
            "error",
        ),
        (json!({"jsonrpc": "1.0", "id": 1, "method": "x"}), "invalid"),
        (json!({"jsonrpc": "2.0", "id": 1}), "invalid"),
    ];
    for (v, want) in cases {
        let got = match message(&v) {
            RpcMessage::Request { .. } => "request",
            RpcMessage::Notification { .. } => "notification",
            RpcMessage::Response { .. } => "response",
            RpcMessage::Error { .. } => "error",
            RpcMessage::Invalid { .. } => "invalid",
        };
        assert_eq!(got, want, "{v}");
    }
}

#[test]
fn initialize_gives_server_and_session() {
    let req = request(
        "POST",
        "/mcp",
        vec![("content-type", "application/json")],
        r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#,
    );
    let ex = respond(
        req,
        200,
        vec![
            ("content-type", "application/json"),
            ("mcp-session-id", "s-123"),
        ],
        r#"{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"weather","version":"1.4.0"}}}"#,
    );
    let d = decode(&ex);
    assert!(looks_like_mcp(
        &ex,
        Some(&json!({"jsonrpc": "2.0", "id": 0, "method": "initialize"}))
    ));
    assert_eq!(d.call.method.as_deref(), Some("initialize"));
    assert_eq!(d.call.session_id.as_deref(), Some("s-123"));
    let server = d.call.server.expect("server info");
    assert_eq!(
        (server.name.as_deref(), server.version.as_deref()),
        (Some("weather"), Some("1.4.0"))
    );
    assert_eq!(d.call.protocol_version.as_deref(), Some("2025-06-18"));
    assert_eq!(d.call.transport, Transport::Json);
    assert!(!d.call.is_error);
}

#[test]
fn tools_call_over_sse_pairs_the_response_after_a_notification() {
    let req = request(
        "POST",
        "/mcp",
        vec![
            ("mcp-session-id", "s-1"),
            ("mcp-protocol-version", "2025-06-18"),
        ],
        r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"get_forecast","arguments":{"city":"Oslo"}}}"#,
    );
    let body = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":\"p\",\"progress\":50}}\n\n\
                event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"no such city\"}],\"isError\":true}}\n\n";
    let ex = respond(req, 200, vec![("content-type", "text/event-stream")], body);
    let d = decode(&ex);
    assert_eq!(d.call.transport, Transport::Sse);
    assert_eq!(d.call.tool.as_deref(), Some("get_forecast"));
    assert!(d.call.is_error, "isError in a tool result");
    assert_eq!(d.call.protocol_version.as_deref(), Some("2025-06-18"));
    assert_eq!(d.events.len(), 2);
    assert_eq!(d.events[0].kind, "notifications/progress");
    assert_eq!(d.events[1].summary, "id 7 (isError)");
}

#[test]
fn notification_accepted_and_batches() {
    let req = request(
        "POST",
        "/mcp",
        vec![],
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    );
    let ex = respond(req, 202, vec![], "");
    let d = decode(&ex);
    assert_eq!(d.call.transport, Transport::Accepted);
    assert_eq!(d.call.method.as_deref(), Some("notifications/initialized"));

    let req = request(
        "POST",
        "/mcp",
        vec![],
        r#"[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","id":2,"method":"nope"}]"#,
    );
    let ex = respond(
        req,
        200,
        vec![("content-type", "application/json")],
        r#"[{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"Method not found"}},{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}]"#,
    );
    let d = decode(&ex);
    assert_eq!(d.call.pairs.len(), 2);
    assert!(d.call.pairs[0].result.is_some());
    assert_eq!(d.call.pairs[1].error.as_ref().map(|e| e.code), Some(-32601));
    assert!(d.call.is_error);
}

#[test]
fn legacy_sse_stream_and_http_errors() {
    let req = request("GET", "/sse", vec![("accept", "text/event-stream")], "");
    let body = "event: endpoint\ndata: /messages?sessionId=abc123\n\n\
                event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":0,\"result\":{\"protocolVersion\":\"2024-11-05\",\"serverInfo\":{\"name\":\"files\",\"version\":\"0.3\"}}}\n\n";
    let ex = respond(req, 200, vec![("content-type", "text/event-stream")], body);
    assert!(looks_like_mcp(&ex, None));
    let d = decode(&ex);
    assert_eq!(d.call.transport, Transport::LegacySse);
    assert_eq!(d.call.session_id.as_deref(), Some("abc123"));
    assert_eq!(d.call.server.and_then(|s| s.name).as_deref(), Some("files"));

    let req = request(
        "POST",
        "/mcp",
        vec![("mcp-session-id", "gone")],
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#,
    );
    let ex = respond(
        req,
        404,
        vec![("content-type", "text/plain")],
        "Session not found",
    );
    let d = decode(&ex);
    assert!(d.call.is_error);
    assert_eq!(
        d.call.error.map(|e| e.message).as_deref(),
        Some("HTTP 404: Session not found")
    );
}

#[test]
fn non_mcp_is_not_mcp() {
    let ex = exchange(
        "POST",
        "/v1/messages",
        vec![],
        r#"{"model":"x","messages":[]}"#,
    );
    assert!(!looks_like_mcp(
        &ex,
        Some(&json!({"model": "x", "messages": []}))
    ));
}

proptest! {
    #[test]
    fn arbitrary_bodies_never_panic(
        req in proptest::collection::vec(any::<u8>(), 0..300),
        resp in proptest::collection::vec(any::<u8>(), 0..300),
        sse in any::<bool>(),
        status in 100u16..600,
    ) {
        let ct = if sse { "text/event-stream" } else { "application/json" };
        let ex = request("POST", "/mcp", vec![], "")
            .body(req)
            .status(status)
            .response_header("content-type", ct)
            .response_body(resp)
            .build();
        let _ = decode(&ex);
        let _ = looks_like_mcp(&ex, None);
    }

    #[test]
    fn arbitrary_json_messages_never_panic(v in json_value()) {
        let _ = message(&v);
        let _ = messages(&v);
    }
}

/// Arbitrary JSON, biased toward JSON-RPC-looking objects.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-z/]{0,12}".prop_map(Value::String),
        Just(json!("2.0")),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        let keys = prop_oneof![
            Just("jsonrpc".to_string()),
            Just("id".to_string()),
            Just("method".to_string()),
            Just("params".to_string()),
            Just("result".to_string()),
            Just("error".to_string()),
            Just("code".to_string()),
            "[a-z]{1,6}",
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(keys, inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
