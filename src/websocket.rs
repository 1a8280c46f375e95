//! WebSocket framing (RFC 6455), decoded from the bytes each side sent after
//! a `101 Switching Protocols`. Pure: no IO, no async, never a panic.
//!
//! The engine feeds a [`Decoder`] per direction with whatever it relayed,
//! split however the socket read it; the decoder reassembles fragmented
//! messages, unmasks client frames, inflates permessage-deflate payloads and
//! keeps at most its byte budget of payload. It stops (with a note) at the
//! first protocol error rather than guess: the relay passes the bytes on
//! regardless.

mod deflate;
mod frames;
#[cfg(test)]
mod tests;

pub use deflate::Negotiated;
pub use frames::{Decoded, Decoder, encode};

use crate::exchange::{Direction, Payload, WsMessage, opcode};

impl Decoded {
    /// The recorded form of this message: text decoded as UTF-8 (a text
    /// payload cut at the cap keeps its whole characters).
    pub fn into_message(self, at_us: u64, direction: Direction) -> WsMessage {
        let payload = if self.opcode == opcode::TEXT {
            Payload::Text(text_of(self.data, self.truncated))
        } else {
            Payload::Binary(self.data)
        };
        WsMessage {
            at_us,
            direction,
            opcode: self.opcode,
            size: self.size,
            payload,
            truncated: self.truncated,
            compressed: self.compressed,
        }
    }
}

fn text_of(data: Vec<u8>, truncated: bool) -> String {
    match String::from_utf8(data) {
        Ok(text) => text,
        Err(e) => {
            let error = e.utf8_error();
            let mut bytes = e.into_bytes();
            // The cap split the last character: drop its first bytes
            // rather than show a replacement character for them.
            if truncated && error.error_len().is_none() {
                bytes.truncate(error.valid_up_to());
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
    }
}
