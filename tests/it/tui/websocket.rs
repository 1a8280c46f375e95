//! WebSocket connections in the UI: message counts in the list row, the WS
//! Messages tab, and a Realtime session decoded as a conversation.

use llmspy::exchange::{Direction, Exchange, Payload, WebSocket, WsMessage, opcode};

use super::support::*;

fn message(at_ms: u64, direction: Direction, op: u8, payload: Payload) -> WsMessage {
    WsMessage {
        at_us: at_ms * 1000,
        direction,
        opcode: op,
        size: payload.len() as u64,
        payload,
        truncated: false,
        compressed: false,
    }
}

fn echo_session() -> Exchange {
    let mut resp = response(101, "", b"");
    resp.headers =
        llmspy::exchange::Headers::from([("upgrade", "websocket"), ("connection", "Upgrade")]);
    let mut ex = exchange(2, request("GET", "https", "echo.test", "/ws"), Some(resp));
    let text = |s: &str| Payload::Text(s.into());
    let mut big = message(40, Direction::Receive, opcode::TEXT, text(&"y".repeat(20)));
    big.size = 1_048_576;
    big.truncated = true;
    ex.websocket = Some(Box::new(WebSocket {
        messages: vec![
            message(2, Direction::Receive, opcode::TEXT, text("hello")),
            message(10, Direction::Send, opcode::TEXT, text("héllo wörld")),
            message(
                11,
                Direction::Send,
                opcode::BINARY,
                Payload::Binary(vec![0, 1, 2, 255]),
            ),
            message(12, Direction::Receive, opcode::TEXT, text("héllo wörld")),
            message(
                20,
                Direction::Send,
                opcode::PING,
                Payload::Binary(b"?".to_vec()),
            ),
            message(
                21,
                Direction::Receive,
                opcode::PONG,
                Payload::Binary(b"?".to_vec()),
            ),
            big,
            message(
                50,
                Direction::Send,
                opcode::CLOSE,
                Payload::Binary(vec![3, 232, b'b', b'y', b'e']),
            ),
        ],
        ..WebSocket::default()
    }));
    ex
}

fn realtime_session() -> Exchange {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/openai_realtime/session_tool_then_text.json"
    );
    let text = std::fs::read_to_string(path).expect("fixture");
    let value = serde_json::from_str(&text).expect("JSON");
    let mut ex = llmspy::export::native::parse_exchange(value).expect("native exchange");
    ex.id = 3;
    ex.started_at = at(30);
    ex
}

fn sample() -> Vec<Exchange> {
    let get = exchange(
        1,
        request("GET", "https", "example.com", "/"),
        Some(response(200, "text/html", b"<html>hi</html>")),
    );
    vec![get, echo_session(), realtime_session()]
}

#[test]
fn list_rows_count_messages_each_way() {
    snap_sample("ws_list", sample, "g");
}

#[test]
fn messages_tab_lists_every_message() {
    snap_sample("ws_messages", sample, "gj<enter>");
}

#[test]
fn realtime_events_are_listed_by_type() {
    snap_sample("ws_realtime_messages", sample, "gjj<enter>");
}

#[test]
fn realtime_session_reads_as_a_conversation() {
    snap_sample("ws_realtime_conversation", sample, "gjj<enter>3");
}

#[test]
fn the_ws_filter_keeps_websocket_rows() {
    snap_sample("ws_filtered", sample, "f~ws<enter>");
}
