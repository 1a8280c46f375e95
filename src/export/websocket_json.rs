//! The WebSocket messages of an exchange in llmspy's JSON form: times in
//! milliseconds like the rest of it, text as text and other payloads as
//! base64.

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::exchange::{Direction, Payload, WebSocket, WsMessage};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WebSocketJson {
    pub messages: Vec<WsMessageJson>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unlisted_sent: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unlisted_received: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WsMessageJson {
    pub at_ms: f64,
    /// `send` (client to server) or `receive`.
    pub direction: Direction,
    pub opcode: u8,
    /// Payload bytes on the wire.
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub compressed: bool,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

pub fn to_json(ws: &WebSocket) -> WebSocketJson {
    WebSocketJson {
        messages: ws.messages.iter().map(message_json).collect(),
        unlisted_sent: ws.unlisted_sent,
        unlisted_received: ws.unlisted_received,
        note: ws.note.clone(),
    }
}

fn message_json(m: &WsMessage) -> WsMessageJson {
    let (text, base64) = match &m.payload {
        Payload::Text(t) => (Some(t.clone()), None),
        Payload::Binary(b) => (None, Some(B64.encode(b))),
    };
    WsMessageJson {
        at_ms: m.at_us as f64 / 1000.0,
        direction: m.direction,
        opcode: m.opcode,
        size: m.size,
        text,
        base64,
        truncated: m.truncated,
        compressed: m.compressed,
    }
}

pub fn from_json(j: WebSocketJson) -> Result<WebSocket, String> {
    let messages = j
        .messages
        .into_iter()
        .enumerate()
        .map(|(i, m)| message_from(m).map_err(|e| format!("WebSocket message {i}: {e}")))
        .collect::<Result<_, _>>()?;
    Ok(WebSocket {
        messages,
        unlisted_sent: j.unlisted_sent,
        unlisted_received: j.unlisted_received,
        note: j.note,
    })
}

fn message_from(m: WsMessageJson) -> Result<WsMessage, String> {
    let payload = match (m.text, m.base64) {
        (_, Some(b)) => Payload::Binary(B64.decode(b).map_err(|e| format!("base64: {e}"))?),
        (Some(t), None) => Payload::Text(t),
        (None, None) => Payload::Binary(Vec::new()),
    };
    Ok(WsMessage {
        at_us: (m.at_ms * 1000.0).round().max(0.0) as u64,
        direction: m.direction,
        opcode: m.opcode,
        size: m.size,
        payload,
        truncated: m.truncated,
        compressed: m.compressed,
    })
}
