//! permessage-deflate (RFC 7692): what the handshake negotiated, and
//! inflating each direction's messages with its shared window.

use flate2::{Decompress, FlushDecompress, Status};

use super::Decoder;
use crate::exchange::Direction;

/// Inflated bytes produced per step, so a small message never reserves
/// more than it needs.
const STEP: usize = 32 * 1024;

/// The extensions a `101` response agreed to, as far as decoding goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Negotiated {
    pub deflate: bool,
    /// Each server message is compressed on its own (no shared window).
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
}

impl Negotiated {
    /// Read the `Sec-WebSocket-Extensions` header of the `101` response.
    pub fn from_header(value: Option<&str>) -> Negotiated {
        let mut out = Negotiated::default();
        // The server accepts one offer; its parameters follow `;`.
        let Some(accepted) = value.and_then(|v| {
            v.split(',')
                .find(|e| e.split(';').next().is_some_and(is_deflate))
        }) else {
            return out;
        };
        out.deflate = true;
        for param in accepted.split(';').skip(1) {
            match param.trim().split('=').next().unwrap_or("").trim() {
                "server_no_context_takeover" => out.server_no_context_takeover = true,
                "client_no_context_takeover" => out.client_no_context_takeover = true,
                _ => {}
            }
        }
        out
    }

    /// A decoder for `direction` keeping at most `budget` payload bytes.
    pub fn decoder(self, direction: Direction, budget: usize) -> Decoder {
        let reset = match direction {
            Direction::Send => self.client_no_context_takeover,
            Direction::Receive => self.server_no_context_takeover,
        };
        let inflater = self.deflate.then(|| Inflater {
            z: Decompress::new(false),
            reset,
        });
        Decoder::with(budget, inflater)
    }
}

fn is_deflate(name: &str) -> bool {
    name.trim().eq_ignore_ascii_case("permessage-deflate")
}

/// One direction's raw-deflate stream.
#[derive(Debug)]
pub(super) struct Inflater {
    z: Decompress,
    /// Start afresh for every message (`*_no_context_takeover`).
    reset: bool,
}

impl Inflater {
    /// Inflate one message's payload, producing at most `limit` bytes;
    /// the flag says the limit cut it.
    pub(super) fn inflate(&mut self, data: &[u8], limit: usize) -> Result<(Vec<u8>, bool), String> {
        if self.reset {
            self.z.reset(false);
        }
        // Senders strip the empty stored block that ends each message
        // (RFC 7692 §7.2.1); put it back so the stream flushes.
        let mut input = Vec::with_capacity(data.len() + 4);
        input.extend_from_slice(data);
        input.extend_from_slice(&[0x00, 0x00, 0xff, 0xff]);
        let mut out = Vec::new();
        let mut at = 0;
        loop {
            if out.len() >= limit {
                // Whether more was to come is unknown without inflating
                // it; a message exactly at the limit counts as cut.
                out.truncate(limit);
                return Ok((out, true));
            }
            out.reserve(STEP.min(limit - out.len()).max(1));
            let before_in = self.z.total_in();
            let before_out = out.len();
            let status = self
                .z
                .decompress_vec(&input[at..], &mut out, FlushDecompress::Sync)
                .map_err(|e| format!("a compressed message did not inflate: {e}"))?;
            at += (self.z.total_in() - before_in) as usize;
            let stalled = out.len() == before_out && at >= input.len();
            if status == Status::StreamEnd || stalled {
                break;
            }
        }
        Ok((out, false))
    }
}
