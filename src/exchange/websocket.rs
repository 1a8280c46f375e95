//! The messages of a WebSocket connection, recorded after its `101`.
//!
//! One [`WsMessage`] per message (fragments reassembled, control frames
//! kept as their own messages), with when it arrived, which way it went,
//! its opcode and its size on the wire. Payloads are kept up to the capture
//! cap per direction; past it a message is still listed, without its data.

use serde::{Deserialize, Serialize};

/// Most messages listed per connection; later ones are only counted, so a
/// connection open for days cannot grow its record without bound.
pub const MAX_LISTED: usize = 10_000;

/// Which way a message went, named as Chrome's HAR export names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Client to server.
    Send,
    /// Server to client.
    Receive,
}

impl Direction {
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::Send => "↑",
            Direction::Receive => "↓",
        }
    }
}

/// RFC 6455 opcodes llmspy names.
pub mod opcode {
    pub const CONTINUATION: u8 = 0x0;
    pub const TEXT: u8 = 0x1;
    pub const BINARY: u8 = 0x2;
    pub const CLOSE: u8 = 0x8;
    pub const PING: u8 = 0x9;
    pub const PONG: u8 = 0xA;

    /// `text`, `binary`, `close`, `ping`, `pong`, or `opcode 3` for others.
    pub fn label(op: u8) -> String {
        match op {
            TEXT => "text".into(),
            BINARY => "binary".into(),
            CLOSE => "close".into(),
            PING => "ping".into(),
            PONG => "pong".into(),
            other => format!("opcode {other}"),
        }
    }
}

/// A message's payload: text decoded as UTF-8, anything else as bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Payload {
    Text(String),
    Binary(#[serde(with = "super::body::bytes_as_base64")] Vec<u8>),
}

impl Payload {
    /// Bytes held in memory.
    pub fn len(&self) -> usize {
        match self {
            Payload::Text(t) => t.len(),
            Payload::Binary(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Payload::Text(t) => t.as_bytes(),
            Payload::Binary(b) => b,
        }
    }
}

/// One WebSocket message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WsMessage {
    /// Microseconds since the exchange started, when its last frame arrived.
    pub at_us: u64,
    pub direction: Direction,
    pub opcode: u8,
    /// Payload bytes on the wire (compressed, when the connection
    /// negotiated permessage-deflate).
    pub size: u64,
    #[serde(flatten)]
    pub payload: Payload,
    /// True when the capture cap cut the kept payload short (or left none).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// Sent compressed (permessage-deflate); `payload` is inflated.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub compressed: bool,
}

impl WsMessage {
    /// The payload as text, for text messages.
    pub fn text(&self) -> Option<&str> {
        match &self.payload {
            Payload::Text(t) => Some(t),
            Payload::Binary(_) => None,
        }
    }
}

/// What was recorded of a WebSocket connection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WebSocket {
    pub messages: Vec<WsMessage>,
    /// Messages past [`MAX_LISTED`], each way: counted, not listed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unlisted_sent: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unlisted_received: u64,
    /// Why decoding stopped early (a protocol error), when it did; the
    /// bytes were still relayed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl WebSocket {
    /// Record `message`, or count it once the list is full.
    pub fn push(&mut self, message: WsMessage) {
        if self.messages.len() < MAX_LISTED {
            self.messages.push(message);
        } else if message.direction == Direction::Send {
            self.unlisted_sent += 1;
        } else {
            self.unlisted_received += 1;
        }
    }

    /// Messages each way, listed or not: (sent, received).
    pub fn counts(&self) -> (u64, u64) {
        let sent = self
            .messages
            .iter()
            .filter(|m| m.direction == Direction::Send)
            .count() as u64;
        let received = self.messages.len() as u64 - sent;
        (sent + self.unlisted_sent, received + self.unlisted_received)
    }

    /// Payload bytes held in memory.
    pub fn kept_bytes(&self) -> usize {
        self.messages.iter().map(|m| m.payload.len()).sum()
    }
}

impl super::Exchange {
    /// True for a WebSocket connection: messages were recorded, or the
    /// server switched the connection to `websocket`.
    pub fn is_websocket(&self) -> bool {
        self.websocket.is_some()
            || self.response.as_ref().is_some_and(|r| {
                r.status == 101
                    && super::header(&r.headers, "upgrade")
                        .is_some_and(|u| u.trim().eq_ignore_ascii_case("websocket"))
            })
    }
}
