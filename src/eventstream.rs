//! AWS event-stream (`application/vnd.amazon.eventstream`), the binary
//! framing Amazon Bedrock streams replies in: an incremental decoder that
//! keeps each message's byte offsets (so its arrival time can be looked
//! up like an SSE event's), and an encoder for mocked and replayed replies.
//!
//! A message is a 12-byte prelude — total length, headers length (both
//! big-endian u32) and the CRC32 of those 8 bytes — then the headers, the
//! payload, and the CRC32 of everything before it. A header is a name
//! (1-byte length), a type byte and a value whose size the type decides.
//!
//! The decoder accepts bytes in whatever pieces they arrived and gives the
//! same messages however they were cut (a property test holds it to that).
//! It never panics: a bad message CRC skips that message with an error,
//! and a bad prelude (whose length can then not be trusted) stops it.
//! Pure code: no IO.

use std::fmt;

/// Bytes before the headers: total length, headers length, prelude CRC.
const PRELUDE: usize = 12;
/// The prelude plus the trailing message CRC: the smallest message.
const MIN_MESSAGE: usize = PRELUDE + 4;
/// AWS caps a message at 16 MiB of payload plus 128 KiB of headers.
const MAX_MESSAGE: usize = 16 * 1024 * 1024 + 128 * 1024 + MIN_MESSAGE;

/// A header's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderValue {
    Bool(bool),
    Byte(i8),
    Short(i16),
    Int(i32),
    Long(i64),
    Bytes(Vec<u8>),
    String(String),
    /// Milliseconds since the Unix epoch.
    Timestamp(i64),
    Uuid([u8; 16]),
}

impl HeaderValue {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            HeaderValue::String(s) => Some(s),
            _ => None,
        }
    }
}

/// One decoded message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub headers: Vec<(String, HeaderValue)>,
    pub payload: Vec<u8>,
    /// Offset of the message's first byte in the body.
    pub offset: u64,
    /// Offset one past its last byte.
    pub end: u64,
}

impl Message {
    /// A string header's value (`:event-type`, `:message-type`, …).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_str())
    }
}

/// Why a message could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// The prelude's CRC does not match: the lengths cannot be trusted,
    /// so nothing after this point is decoded.
    PreludeCrc { offset: u64 },
    /// A length outside what the format allows.
    BadLength { offset: u64, total: u64 },
    /// The message CRC does not match: this message is skipped.
    MessageCrc { offset: u64 },
    /// The headers do not parse (unknown type, a value past their end).
    BadHeaders { offset: u64 },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::PreludeCrc { offset } => write!(
                f,
                "event-stream message at byte {offset}: prelude CRC mismatch; the rest of the stream is not decoded"
            ),
            FrameError::BadLength { offset, total } => write!(
                f,
                "event-stream message at byte {offset}: impossible length {total}; the rest of the stream is not decoded"
            ),
            FrameError::MessageCrc { offset } => write!(
                f,
                "event-stream message at byte {offset}: message CRC mismatch; skipped"
            ),
            FrameError::BadHeaders { offset } => write!(
                f,
                "event-stream message at byte {offset}: headers do not parse; skipped"
            ),
        }
    }
}

impl FrameError {
    /// True when the decoder stopped at this error.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            FrameError::PreludeCrc { .. } | FrameError::BadLength { .. }
        )
    }
}

/// A message or the reason one was skipped, in stream order.
pub type Item = Result<Message, FrameError>;

/// Incremental decoder: feed it the body in pieces.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    /// Body offset of `buf[0]`.
    start: u64,
    stopped: bool,
}

impl Decoder {
    pub fn new() -> Self {
        Decoder::default()
    }

    /// Add bytes; returns every message (or error) they completed.
    pub fn push(&mut self, data: &[u8]) -> Vec<Item> {
        if self.stopped {
            return Vec::new();
        }
        self.buf.extend_from_slice(data);
        let mut out = Vec::new();
        let mut used = 0;
        while let Some(step) = next_message(&self.buf[used..], self.start + used as u64) {
            match step {
                Step::Done(item, len) => {
                    out.push(item);
                    used += len;
                }
                Step::Fatal(err) => {
                    out.push(Err(err));
                    self.stopped = true;
                    break;
                }
            }
        }
        self.buf.drain(..used);
        self.start += used as u64;
        out
    }

    /// Bytes held back waiting for the rest of a message (0 when the body
    /// ended on a message boundary, or the decoder stopped).
    pub fn pending(&self) -> usize {
        if self.stopped { 0 } else { self.buf.len() }
    }
}

/// Decode a whole body; the flag is the count of trailing bytes that did
/// not complete a message (a cut stream).
pub fn decode(body: &[u8]) -> (Vec<Item>, usize) {
    let mut d = Decoder::new();
    let items = d.push(body);
    (items, d.pending())
}

enum Step {
    /// A message or a skippable error, and the bytes it used.
    Done(Item, usize),
    Fatal(FrameError),
}

/// The first message in `buf`, if it is all there.
fn next_message(buf: &[u8], offset: u64) -> Option<Step> {
    if buf.len() < PRELUDE {
        return None;
    }
    let total = be_u32(&buf[0..4]) as usize;
    let headers_len = be_u32(&buf[4..8]) as usize;
    if crc32fast::hash(&buf[0..8]) != be_u32(&buf[8..12]) {
        return Some(Step::Fatal(FrameError::PreludeCrc { offset }));
    }
    if !(MIN_MESSAGE..=MAX_MESSAGE).contains(&total) || headers_len > total - MIN_MESSAGE {
        return Some(Step::Fatal(FrameError::BadLength {
            offset,
            total: total as u64,
        }));
    }
    if buf.len() < total {
        return None;
    }
    let frame = &buf[..total];
    if crc32fast::hash(&frame[..total - 4]) != be_u32(&frame[total - 4..]) {
        return Some(Step::Done(Err(FrameError::MessageCrc { offset }), total));
    }
    let item = match headers(&frame[PRELUDE..PRELUDE + headers_len]) {
        Some(headers) => Ok(Message {
            headers,
            payload: frame[PRELUDE + headers_len..total - 4].to_vec(),
            offset,
            end: offset + total as u64,
        }),
        None => Err(FrameError::BadHeaders { offset }),
    };
    Some(Step::Done(item, total))
}

fn be_u32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_be_bytes(a)
}

/// Parse a headers block; `None` when it is malformed.
fn headers(mut b: &[u8]) -> Option<Vec<(String, HeaderValue)>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let name_len = usize::from(*b.first()?);
        let name = String::from_utf8(b.get(1..1 + name_len)?.to_vec()).ok()?;
        let kind = *b.get(1 + name_len)?;
        let (value, used) = header_value(kind, b.get(2 + name_len..)?)?;
        out.push((name, value));
        b = &b[2 + name_len + used..];
    }
    Some(out)
}

/// A value of type `kind` at the start of `b`, and its size.
fn header_value(kind: u8, b: &[u8]) -> Option<(HeaderValue, usize)> {
    let fixed = |n: usize| b.get(..n);
    let int = |n: usize| -> Option<i64> {
        let bytes = fixed(n)?;
        let mut a = [0u8; 8];
        a[8 - n..].copy_from_slice(bytes);
        // Sign-extend from n bytes.
        let shift = 64 - 8 * n as u32;
        Some((i64::from_be_bytes(a) << shift) >> shift)
    };
    Some(match kind {
        0 => (HeaderValue::Bool(true), 0),
        1 => (HeaderValue::Bool(false), 0),
        2 => (HeaderValue::Byte(int(1)? as i8), 1),
        3 => (HeaderValue::Short(int(2)? as i16), 2),
        4 => (HeaderValue::Int(int(4)? as i32), 4),
        5 => (HeaderValue::Long(int(8)?), 8),
        8 => (HeaderValue::Timestamp(int(8)?), 8),
        6 | 7 => {
            let len = usize::from(u16::from_be_bytes([*b.first()?, *b.get(1)?]));
            let bytes = b.get(2..2 + len)?.to_vec();
            let value = if kind == 6 {
                HeaderValue::Bytes(bytes)
            } else {
                HeaderValue::String(String::from_utf8(bytes).ok()?)
            };
            (value, 2 + len)
        }
        9 => {
            let mut id = [0u8; 16];
            id.copy_from_slice(fixed(16)?);
            (HeaderValue::Uuid(id), 16)
        }
        _ => return None,
    })
}

/// Encode one message with string headers (all a Bedrock reply uses).
pub fn encode(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut head = Vec::new();
    for (name, value) in headers {
        // Names and values are short constants and event names; the format
        // caps them at 255 and 65,535 bytes.
        let name = &name.as_bytes()[..name.len().min(255)];
        let value = &value.as_bytes()[..value.len().min(u16::MAX as usize)];
        head.push(name.len() as u8);
        head.extend_from_slice(name);
        head.push(7);
        head.extend_from_slice(&(value.len() as u16).to_be_bytes());
        head.extend_from_slice(value);
    }
    let total = (MIN_MESSAGE + head.len() + payload.len()) as u32;
    let mut out = Vec::with_capacity(total as usize);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&(head.len() as u32).to_be_bytes());
    let prelude_crc = crc32fast::hash(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// Where each message of a body ends: the split points a replay sends
/// the body at, one message per write (trailing bytes in a last piece).
pub fn message_ends(body: &[u8]) -> Vec<usize> {
    let (items, _) = decode(body);
    let mut ends: Vec<usize> = items
        .iter()
        .filter_map(|i| i.as_ref().ok())
        .map(|m| m.end as usize)
        .collect();
    if ends.last() != Some(&body.len()) {
        ends.push(body.len());
    }
    ends
}

#[cfg(test)]
mod tests;
