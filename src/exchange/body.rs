//! A captured body: its bytes up to the cap, its trailers, and the kept
//! end of a stream cut at the cap.

use serde::{Deserialize, Serialize};

use super::Headers;

/// A captured body: the bytes exactly as they crossed the wire (still
/// content-encoded if they were), up to the capture cap, and the trailer
/// fields sent after them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Body {
    #[serde(with = "bytes_as_base64")]
    pub bytes: Vec<u8>,
    /// Bytes that crossed the wire, including any not kept past the cap.
    pub wire_size: u64,
    /// True when the capture cap cut the recorded copy short.
    pub truncated: bool,
    /// Fields that followed the body (HTTP/2 trailers, a chunked body's
    /// trailer section): where gRPC puts a call's status. Kept whole,
    /// whatever the cap.
    #[serde(default, skip_serializing_if = "Headers::is_empty")]
    pub trailers: Headers,
    /// The last bytes of a stream of events (SSE, NDJSON) cut at the cap,
    /// as they crossed the wire: a stream says its usage and why it
    /// stopped at its end, which the cap would otherwise lose. Between
    /// [`TAIL_BYTES`] and twice that; it may begin mid-event.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "bytes_as_base64"
    )]
    pub tail: Vec<u8>,
}

/// How much of a cut stream's end is kept, at least: a few final events
/// (Anthropic's `message_delta`, OpenAI's usage chunk, Ollama's `done`
/// line) with room to spare.
pub const TAIL_BYTES: usize = 64 * 1024;

impl Body {
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        let bytes = bytes.into();
        Body {
            wire_size: bytes.len() as u64,
            bytes,
            truncated: false,
            trailers: Headers::default(),
            tail: Vec::new(),
        }
    }

    /// Append a frame, keeping at most `cap` bytes in total.
    pub fn append_capped(&mut self, data: &[u8], cap: usize) {
        self.wire_size += data.len() as u64;
        let room = cap.saturating_sub(self.bytes.len());
        if data.len() > room {
            self.truncated = true;
        }
        self.bytes.extend_from_slice(&data[..data.len().min(room)]);
    }

    /// Append a frame of a stream of events: at most `cap` bytes in
    /// order, and what passes the cap in [`Body::tail`].
    pub fn append_keeping_tail(&mut self, data: &[u8], cap: usize) {
        let room = cap.saturating_sub(self.bytes.len());
        self.append_capped(data, cap);
        if data.len() > room {
            self.tail.extend_from_slice(&data[room..]);
            // Trimmed only once twice the size: a memmove per frame of a
            // token stream would copy the tail for every few bytes.
            if self.tail.len() > 2 * TAIL_BYTES {
                let from = self.tail.len() - TAIL_BYTES;
                self.tail.drain(..from);
            }
        }
    }

    /// The bytes kept in memory: the body and its tail.
    pub fn kept_len(&self) -> usize {
        self.bytes.len() + self.tail.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

pub(super) mod bytes_as_base64 {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_capped_marks_truncation_and_counts_wire_bytes() {
        let mut b = Body::default();
        b.append_capped(b"hello", 8);
        assert!(!b.truncated);
        b.append_capped(b"world", 8);
        assert!(b.truncated);
        assert_eq!(b.bytes, b"hellowor");
        assert_eq!(b.wire_size, 10);
        assert!(
            b.tail.is_empty(),
            "a body that is not a stream keeps no tail"
        );
    }

    #[test]
    fn a_cut_stream_keeps_its_last_bytes() {
        let mut b = Body::default();
        b.append_keeping_tail(b"data: 1\n\n", 8);
        assert_eq!(
            (b.bytes.as_slice(), b.tail.as_slice()),
            (&b"data: 1\n"[..], &b"\n"[..])
        );
        let frame = vec![b'x'; TAIL_BYTES];
        for _ in 0..3 {
            b.append_keeping_tail(&frame, 8);
        }
        b.append_keeping_tail(b"END", 8);
        assert!(b.truncated);
        assert!(
            (TAIL_BYTES..=2 * TAIL_BYTES).contains(&b.tail.len()),
            "{}",
            b.tail.len()
        );
        assert!(b.tail.ends_with(b"xEND"));
        assert_eq!(b.wire_size, 9 + 3 * TAIL_BYTES as u64 + 3);
        assert_eq!(b.kept_len(), 8 + b.tail.len());
    }
}
