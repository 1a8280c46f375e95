//! WebSocket messages in HAR, the way Chrome's DevTools export writes them:
//! the entry's `_resourceType` is `websocket` and `_webSocketMessages`
//! lists `{type: send|receive, time, opcode, data}`, `time` in seconds since
//! the epoch and binary data in base64. Read back by the HAR import.

use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::exchange::{Direction, Exchange, Payload, WebSocket, WsMessage, opcode};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The two HAR fields of a WebSocket exchange; `None` for other exchanges.
pub fn fields(ex: &Exchange) -> Option<(Value, Value)> {
    let ws = ex.websocket.as_deref()?;
    let start = ex.started_at.timestamp_micros() as f64 / 1e6;
    let messages: Vec<Value> = ws
        .messages
        .iter()
        .map(|m| {
            let data = match &m.payload {
                Payload::Text(t) => t.clone(),
                Payload::Binary(b) => B64.encode(b),
            };
            json!({
                "type": m.direction,
                "time": round6(start + m.at_us as f64 / 1e6),
                "opcode": m.opcode,
                "data": data,
            })
        })
        .collect();
    Some((json!("websocket"), Value::Array(messages)))
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// The messages of a HAR entry that has `_webSocketMessages`.
pub fn from_entry(entry: &Value, started_at: DateTime<Utc>) -> Option<WebSocket> {
    let list = entry.get("_webSocketMessages")?.as_array()?;
    let start = started_at.timestamp_micros() as f64 / 1e6;
    let mut ws = WebSocket::default();
    for m in list {
        let direction = match m.get("type").and_then(Value::as_str) {
            Some("send") => Direction::Send,
            _ => Direction::Receive,
        };
        let op = m.get("opcode").and_then(Value::as_u64).unwrap_or(1) as u8;
        let data = m.get("data").and_then(Value::as_str).unwrap_or("");
        let payload = if op == opcode::TEXT {
            Payload::Text(data.to_string())
        } else {
            Payload::Binary(
                B64.decode(data)
                    .unwrap_or_else(|_| data.as_bytes().to_vec()),
            )
        };
        let time = m.get("time").and_then(Value::as_f64).unwrap_or(start);
        ws.push(WsMessage {
            at_us: ((time - start) * 1e6).round().max(0.0) as u64,
            direction,
            opcode: op,
            size: payload.len() as u64,
            payload,
            truncated: false,
            compressed: false,
        });
    }
    Some(ws)
}
