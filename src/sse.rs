//! Incremental decoders for the two streaming body formats LLM and MCP servers
//! use — Server-Sent Events and newline-delimited JSON — keeping the byte
//! offset of every event, plus the map from those offsets to arrival times.
//!
//! Both decoders accept bytes in whatever pieces the network delivered them
//! and give the same events however the body was cut (a property test holds
//! them to that). They never fail: malformed input yields fewer or odder
//! events, never an error or a panic. Pure code: no IO.
//!
//! The SSE rules follow the WHATWG HTML "server-sent events" parsing model:
//! lines end in CRLF, LF or CR; one leading UTF-8 BOM is ignored; lines
//! starting with `:` are comments; a blank line dispatches the event if it
//! has data; `data` lines join with `\n`; unknown fields are ignored.

use serde::Serialize;

use crate::exchange::Chunk;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One dispatched server-sent event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SseEvent {
    /// The `event` field, or `message` when the event had none.
    pub event: String,
    /// The `data` lines joined with `\n`.
    pub data: String,
    /// The `id` field set within this event, if any.
    pub id: Option<String>,
    /// The `retry` field (milliseconds) set within this event, if valid.
    pub retry: Option<u64>,
    /// Byte offset (in the decoded body) of the event's first field line.
    pub offset: u64,
    /// Offset one past the byte that completed the event (its blank line).
    pub end: u64,
    /// False for a trailing event the body ended before dispatching.
    pub complete: bool,
}

/// Fields of the event being read, before its blank line.
#[derive(Debug, Default)]
struct PendingEvent {
    event: Option<String>,
    data: String,
    has_data: bool,
    id: Option<String>,
    retry: Option<u64>,
    start: Option<u64>,
}

impl PendingEvent {
    fn take(&mut self, end: u64, complete: bool) -> Option<SseEvent> {
        let pending = std::mem::take(self);
        if !pending.has_data {
            return None;
        }
        let mut data = pending.data;
        if data.ends_with('\n') {
            data.pop();
        }
        Some(SseEvent {
            event: pending.event.unwrap_or_else(|| "message".to_string()),
            data,
            id: pending.id,
            retry: pending.retry,
            offset: pending.start.unwrap_or(end),
            end,
            complete,
        })
    }
}

/// Splits a byte stream into lines ending in CRLF, LF or CR, remembering
/// where each line started. Shared by the SSE and NDJSON decoders.
#[derive(Debug, Default)]
struct LineSplitter {
    line: Vec<u8>,
    line_start: u64,
    /// Offset of the next byte to arrive.
    pos: u64,
    /// The previous byte was a CR, so a following LF belongs to it.
    after_cr: bool,
    /// Treat a lone CR as a line end (SSE does; NDJSON does not).
    cr_ends_line: bool,
}

/// A complete line: its bytes (without terminator), start and end offsets.
struct Line {
    bytes: Vec<u8>,
    start: u64,
    end: u64,
}

impl LineSplitter {
    fn new(cr_ends_line: bool) -> Self {
        LineSplitter {
            cr_ends_line,
            ..LineSplitter::default()
        }
    }

    fn push(&mut self, mut bytes: &[u8], out: &mut Vec<Line>) {
        while !bytes.is_empty() {
            if self.after_cr {
                self.after_cr = false;
                if bytes[0] == b'\n' {
                    self.pos += 1;
                    self.line_start = self.pos;
                    bytes = &bytes[1..];
                    continue;
                }
            }
            let stop = bytes
                .iter()
                .position(|b| *b == b'\n' || (self.cr_ends_line && *b == b'\r'));
            let Some(i) = stop else {
                self.line.extend_from_slice(bytes);
                self.pos += bytes.len() as u64;
                return;
            };
            self.line.extend_from_slice(&bytes[..i]);
            self.pos += i as u64 + 1;
            self.after_cr = bytes[i] == b'\r';
            out.push(Line {
                bytes: std::mem::take(&mut self.line),
                start: self.line_start,
                end: self.pos,
            });
            self.line_start = self.pos;
            bytes = &bytes[i + 1..];
        }
    }

    /// The unterminated last line, if any bytes are left.
    fn finish(self) -> Option<Line> {
        (!self.line.is_empty()).then_some(Line {
            bytes: self.line,
            start: self.line_start,
            end: self.pos,
        })
    }
}

/// Incremental SSE decoder: feed it bytes with [`SseDecoder::push`] as they
/// arrive, then call [`SseDecoder::finish`] at the end of the body.
#[derive(Debug)]
pub struct SseDecoder {
    lines: LineSplitter,
    pending: PendingEvent,
    /// Bytes held back at the very start until we know whether they are a BOM.
    head: Vec<u8>,
    bom_checked: bool,
}

impl Default for SseDecoder {
    fn default() -> Self {
        SseDecoder {
            lines: LineSplitter::new(true),
            pending: PendingEvent::default(),
            head: Vec::new(),
            bom_checked: false,
        }
    }
}

impl SseDecoder {
    pub fn new() -> Self {
        SseDecoder::default()
    }

    /// Feed the next piece of the body; returns the events it completed.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        if !self.bom_checked {
            self.head.extend_from_slice(bytes);
            // Wait while what we have could still be the start of a BOM.
            if self.head.len() < BOM.len() && BOM.starts_with(&self.head) {
                return events;
            }
            self.skip_bom(&mut events);
            return events;
        }
        self.feed(bytes, &mut events);
        events
    }

    /// End of body: returns any event left undispatched, marked incomplete.
    pub fn finish(mut self) -> Option<SseEvent> {
        // Held-back bytes are a strict prefix of a BOM: no line ends in them,
        // so releasing them cannot dispatch anything.
        let mut none = Vec::new();
        if !self.bom_checked {
            self.skip_bom(&mut none);
        }
        let end = self.lines.pos;
        if let Some(line) = self.lines.finish() {
            // A line without terminator is never blank, so never dispatches.
            handle_line(&mut self.pending, &line, &mut none);
        }
        self.pending.take(end, false)
    }

    fn skip_bom(&mut self, events: &mut Vec<SseEvent>) {
        self.bom_checked = true;
        let head = std::mem::take(&mut self.head);
        let rest = match head.strip_prefix(BOM) {
            Some(rest) => {
                self.lines.pos = BOM.len() as u64;
                self.lines.line_start = self.lines.pos;
                rest
            }
            None => &head[..],
        };
        self.feed(rest, events);
    }

    fn feed(&mut self, bytes: &[u8], events: &mut Vec<SseEvent>) {
        let mut lines = Vec::new();
        self.lines.push(bytes, &mut lines);
        for line in &lines {
            handle_line(&mut self.pending, line, events);
        }
    }
}

/// Apply one line to the pending event, dispatching it on a blank line.
fn handle_line(pending: &mut PendingEvent, line: &Line, events: &mut Vec<SseEvent>) {
    if line.bytes.is_empty() {
        events.extend(pending.take(line.end, true));
        return;
    }
    if line.bytes[0] == b':' {
        return; // comment (keep-alive)
    }
    let text = String::from_utf8_lossy(&line.bytes);
    let (field, value) = match text.split_once(':') {
        Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
        None => (&text[..], ""),
    };
    pending.start.get_or_insert(line.start);
    match field {
        "event" => pending.event = Some(value.to_string()),
        "data" => {
            pending.data.push_str(value);
            pending.data.push('\n');
            pending.has_data = true;
        }
        "id" if !value.contains('\0') => pending.id = Some(value.to_string()),
        "retry" => pending.retry = parse_retry(value).or(pending.retry),
        _ => {}
    }
}

fn parse_retry(value: &str) -> Option<u64> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// Decode a whole SSE body. A trailing undispatched event is included with
/// `complete: false`, so a body cut short still yields what it carried.
pub fn parse_sse(body: &[u8]) -> Vec<SseEvent> {
    let mut decoder = SseDecoder::new();
    let mut events = decoder.push(body);
    events.extend(decoder.finish());
    events
}

/// One line of a newline-delimited JSON body (not parsed: callers do that).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NdjsonLine {
    pub text: String,
    /// Offset of the line's first byte.
    pub offset: u64,
    /// Offset one past its terminating newline (or the body's end).
    pub end: u64,
    /// False when the body ended before the line's newline.
    pub complete: bool,
}

/// Incremental NDJSON line decoder. Blank lines are skipped; a CR before
/// the LF is dropped.
#[derive(Debug)]
pub struct NdjsonDecoder {
    lines: LineSplitter,
}

impl Default for NdjsonDecoder {
    fn default() -> Self {
        NdjsonDecoder {
            lines: LineSplitter::new(false),
        }
    }
}

impl NdjsonDecoder {
    pub fn new() -> Self {
        NdjsonDecoder::default()
    }

    /// Feed the next piece of the body; returns the lines it completed.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<NdjsonLine> {
        let mut lines = Vec::new();
        self.lines.push(bytes, &mut lines);
        lines
            .into_iter()
            .filter_map(|l| ndjson_line(l, true))
            .collect()
    }

    /// End of body: the unterminated last line, if it is not blank.
    pub fn finish(self) -> Option<NdjsonLine> {
        self.lines.finish().and_then(|l| ndjson_line(l, false))
    }
}

fn ndjson_line(line: Line, complete: bool) -> Option<NdjsonLine> {
    let text = String::from_utf8_lossy(&line.bytes);
    let text = text.strip_suffix('\r').unwrap_or(&text);
    if text.trim().is_empty() {
        return None;
    }
    Some(NdjsonLine {
        text: text.to_string(),
        offset: line.start,
        end: line.end,
        complete,
    })
}

/// Decode a whole NDJSON body.
pub fn parse_ndjson(body: &[u8]) -> Vec<NdjsonLine> {
    let mut decoder = NdjsonDecoder::new();
    let mut lines = decoder.push(body);
    lines.extend(decoder.finish());
    lines
}

/// Maps body offsets to the arrival time of the chunk that carried them.
///
/// An event's time is the arrival of the chunk holding its last byte: that
/// is when a client could first act on it.
#[derive(Debug, Clone, Copy)]
pub struct Arrivals<'a> {
    chunks: &'a [Chunk],
    /// (decoded length, wire length) when the body was content-encoded, so
    /// decoded offsets must be scaled to wire offsets (an approximation).
    scale: Option<(u64, u64)>,
}

impl<'a> Arrivals<'a> {
    /// Offsets are wire offsets (the body was not content-encoded).
    pub fn new(chunks: &'a [Chunk]) -> Self {
        Arrivals {
            chunks,
            scale: None,
        }
    }

    /// Offsets are into a decoded body of `decoded_len` bytes whose wire
    /// form was `wire_len` bytes; times are then approximate.
    pub fn scaled(chunks: &'a [Chunk], decoded_len: u64, wire_len: u64) -> Self {
        Arrivals {
            chunks,
            scale: (decoded_len > 0).then_some((decoded_len, wire_len)),
        }
    }

    /// True when offsets are scaled, so the times are estimates.
    pub fn is_approximate(&self) -> bool {
        self.scale.is_some()
    }

    /// Arrival (µs since the request started) of the byte before `end`.
    pub fn at_us(&self, end: u64) -> Option<u64> {
        let last = end.checked_sub(1)?;
        let wire = match self.scale {
            Some((decoded, wire)) => {
                let scaled = u128::from(last) * u128::from(wire) / u128::from(decoded);
                u64::try_from(scaled).unwrap_or(u64::MAX)
            }
            None => last,
        };
        let i = self
            .chunks
            .partition_point(|c| c.offset.saturating_add(c.len) <= wire);
        let chunk = self.chunks.get(i)?;
        (chunk.offset <= wire).then_some(chunk.at_us)
    }
}

#[cfg(test)]
mod tests;
