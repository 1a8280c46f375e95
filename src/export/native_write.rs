//! The native form written straight from an exchange, without building an
//! [`ExchangeJson`](super::native::ExchangeJson) first. The history writes
//! one per exchange, and through serde that cost 40% of its CPU: every one
//! of the form's forty-odd keys escaped by a call of its own, each string
//! copied into the form and then scanned byte by byte. Here keys are
//! literals, strings are copied from the exchange once, and runs of text
//! that need no escape are copied sixteen bytes at a time.
//!
//! The bytes are exactly what serializing the form gives (the tests check
//! it on generated exchanges), so readers keep using serde.

use base64::Engine;

use super::native::{BodyContent, body_parts};
use crate::exchange::{Body, Exchange, Headers, Source, Via};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Append `ex` in the native form to `out`.
pub fn write(ex: &Exchange, out: &mut Vec<u8>) {
    write_after(b"", ex, out);
}

/// [`write`], with `lead` (members of the object, each followed by a comma,
/// such as `"llmspyFormat":1,`) before the exchange's own members.
pub fn write_after(lead: &[u8], ex: &Exchange, out: &mut Vec<u8>) {
    out.push(b'{');
    out.extend_from_slice(lead);
    out.extend_from_slice(b"\"id\":");
    number(out, ex.id);
    out.extend_from_slice(b",\"startedAt\":\"");
    // As chrono serializes it (it needs no escape).
    super::rfc3339::write(&ex.started_at, super::rfc3339::Offset::Z, out);
    out.extend_from_slice(b"\",\"state\":");
    string(out, ex.state.label());
    if let Some(failure) = ex.state.failure() {
        out.extend_from_slice(b",\"failure\":");
        serde(out, failure);
    }
    out.extend_from_slice(b",\"source\":");
    match &ex.source {
        Source::Upstream => out.extend_from_slice(b"{\"source\":\"upstream\"}"),
        mock => serde(out, mock),
    }
    out.extend_from_slice(b",\"via\":");
    string(out, via_label(ex.via));
    optional(out, b",\"clientAddr\":", ex.client_addr.as_deref());
    optional(out, b",\"clientApp\":", ex.client_app.as_deref());
    out.extend_from_slice(b",\"url\":");
    string(out, &ex.url());
    timings(out, ex);
    request(out, ex);
    if let Some(resp) = &ex.response {
        out.extend_from_slice(b",\"response\":{\"status\":");
        number(out, resp.status);
        out.extend_from_slice(b",\"httpVersion\":");
        string(out, &resp.version);
        headers(out, &resp.headers);
        body(out, &resp.headers, &resp.body);
        out.push(b'}');
    }
    out.extend_from_slice(b",\"chunks\":[");
    for (i, c) in ex.chunks.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"atMs\":");
        millis(out, c.at_us);
        out.extend_from_slice(b",\"offset\":");
        number(out, c.offset);
        out.extend_from_slice(b",\"size\":");
        number(out, c.len);
        out.push(b'}');
    }
    out.push(b']');
    if let Some(ws) = &ex.websocket {
        out.extend_from_slice(b",\"websocket\":");
        serde(out, &super::websocket_json::to_json(ws));
    }
    out.push(b'}');
}

fn timings(out: &mut Vec<u8>, ex: &Exchange) {
    out.extend_from_slice(b",\"timings\":{");
    let t = &ex.timings;
    let mut first = true;
    for (key, us) in [
        ("requestDoneMs", t.request_done_us),
        ("responseHeadMs", t.response_head_us),
        ("firstByteMs", t.first_byte_us),
        ("durationMs", t.end_us),
        ("resentMs", t.resent_us),
    ] {
        let Some(us) = us else { continue };
        if !first {
            out.push(b',');
        }
        first = false;
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
        millis(out, us);
    }
    out.push(b'}');
}

fn request(out: &mut Vec<u8>, ex: &Exchange) {
    let r = &ex.request;
    out.extend_from_slice(b",\"request\":{\"method\":");
    string(out, &r.method);
    out.extend_from_slice(b",\"scheme\":");
    string(out, &r.scheme);
    out.extend_from_slice(b",\"host\":");
    string(out, &r.host);
    out.extend_from_slice(b",\"port\":");
    number(out, r.port);
    out.extend_from_slice(b",\"path\":");
    string(out, &r.path);
    out.extend_from_slice(b",\"httpVersion\":");
    string(out, &r.version);
    headers(out, &r.headers);
    body(out, &r.headers, &r.body);
    out.push(b'}');
}

fn headers(out: &mut Vec<u8>, headers: &Headers) {
    out.extend_from_slice(b",\"headers\":[");
    for (i, (name, value)) in headers.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"name\":");
        string(out, name);
        out.extend_from_slice(b",\"value\":");
        string(out, value);
        out.push(b'}');
    }
    out.push(b']');
}

fn body(out: &mut Vec<u8>, headers: &Headers, body: &Body) {
    let parts = body_parts(headers, body);
    out.extend_from_slice(b",\"body\":{\"size\":");
    number(out, body.wire_size);
    out.extend_from_slice(b",\"truncated\":");
    out.extend_from_slice(if body.truncated { b"true" } else { b"false" });
    optional(out, b",\"decodedFrom\":", parts.decoded_from.as_deref());
    match &parts.content {
        Some(BodyContent::Text(text)) => {
            out.extend_from_slice(b",\"text\":");
            string(out, text);
        }
        Some(BodyContent::Binary(bytes)) => {
            out.extend_from_slice(b",\"base64\":");
            base64(out, bytes);
        }
        None => {}
    }
    if let Some(wire) = parts.wire {
        out.extend_from_slice(b",\"wireBase64\":");
        base64(out, wire);
    }
    if !body.tail.is_empty() {
        out.extend_from_slice(b",\"tailBase64\":");
        base64(out, &body.tail);
    }
    out.push(b'}');
}

fn optional(out: &mut Vec<u8>, key: &[u8], value: Option<&str>) {
    if let Some(value) = value {
        out.extend_from_slice(key);
        string(out, value);
    }
}

fn via_label(via: Via) -> &'static str {
    match via {
        Via::HttpProxy => "http_proxy",
        Via::Connect => "connect",
        Via::Socks5 => "socks5",
        Via::BaseUrl => "base_url",
        Via::Other => "other",
    }
}

fn base64(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    let start = out.len();
    out.resize(
        start + base64::encoded_len(bytes.len(), true).unwrap_or(0),
        0,
    );
    let written = B64.encode_slice(bytes, &mut out[start..]).unwrap_or(0);
    out.truncate(start + written);
    out.push(b'"');
}

/// A number as serde_json writes it (integers and the shortest round-trip
/// form of a float).
fn number(out: &mut Vec<u8>, n: impl serde::Serialize) {
    serde(out, &n);
}

/// Microseconds as the form's fractional milliseconds, as serde_json
/// writes `us as f64 / 1000.0`. Below 10^15 µs (31 years) that float is
/// the nearest to the decimal `us / 1000`, and the shortest digits that
/// read back as it are that decimal's, trailing zeros cut (`1.5`, `2.0`):
/// written from the integer, without a float formatter.
fn millis(out: &mut Vec<u8>, us: u64) {
    if us >= 1_000_000_000_000_000 {
        number(out, us as f64 / 1000.0);
        return;
    }
    number(out, us / 1000);
    out.push(b'.');
    let mut frac = us % 1000;
    if frac == 0 {
        out.push(b'0');
        return;
    }
    // Up to three digits, trailing zeros cut.
    for _ in 0..3 {
        out.push(b'0' + (frac / 100) as u8);
        frac = frac % 100 * 10;
        if frac == 0 {
            break;
        }
    }
}

/// What this writer does not spell out itself (failures, mock sources,
/// WebSocket messages: rare, and small).
fn serde(out: &mut Vec<u8>, value: &impl serde::Serialize) {
    // Writing to a Vec fails only on a map with non-string keys, which
    // none of these have.
    let _ = serde_json::to_writer(&mut *out, value);
}

/// A JSON string, escaped as serde_json escapes (`\"`, `\\`, the short
/// escapes for `\b \f \n \r \t`, `\u00XX` for other control characters,
/// everything else as is).
fn string(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // Most strings (header names and values, methods, hosts) are short
    // and plain: checked at once, copied at once.
    if bytes.len() < 16 && short_is_plain(bytes) {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    // Runs that need no escape are copied whole; the scan skips sixteen
    // plain bytes at a time.
    let (mut run, mut i) = (0, 0);
    while i < bytes.len() {
        if let Some(chunk) = bytes.get(i..i + 16).and_then(|c| c.try_into().ok())
            && !any_escape(chunk)
        {
            i += 16;
            continue;
        }
        let b = bytes[i];
        i += 1;
        if needs_escape(b) {
            out.extend_from_slice(&bytes[run..i - 1]);
            escape(out, b);
            run = i;
        }
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

/// Whether no byte of `bytes` (shorter than sixteen) needs an escape,
/// read as two overlapping words from where the bytes lie. (Copying them
/// into a padded sixteen-byte buffer first stalled the vector load that
/// read it back on the bytes just stored: half the time of this function.)
fn short_is_plain(bytes: &[u8]) -> bool {
    let n = bytes.len();
    if n >= 8 {
        let head = u64::from_le_bytes(bytes[..8].try_into().unwrap_or_default());
        let tail = u64::from_le_bytes(bytes[n - 8..].try_into().unwrap_or_default());
        !word_needs_escape(head) && !word_needs_escape(tail)
    } else if n >= 4 {
        // The upper half padded with plain bytes ('a').
        const PAD: u64 = 0x6161_6161 << 32;
        let head = u32::from_le_bytes(bytes[..4].try_into().unwrap_or_default());
        let tail = u32::from_le_bytes(bytes[n - 4..].try_into().unwrap_or_default());
        !word_needs_escape(u64::from(head) | PAD) && !word_needs_escape(u64::from(tail) | PAD)
    } else {
        !bytes.iter().any(|&b| needs_escape(b))
    }
}

/// Whether any of the eight bytes of `word` is below 0x20, a quote or a
/// backslash: the bit tricks that find a byte below `n` and a zero byte
/// (after XOR with the byte sought) without looking at each. A borrow can
/// only mark bytes above one that really matches, so the answer for the
/// word as a whole is exact.
fn word_needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    let control = below(word, 0x20);
    let quote = below(word ^ (ONES * u64::from(b'"')), 1);
    let backslash = below(word ^ (ONES * u64::from(b'\\')), 1);
    control | quote | backslash != 0
}

/// Whether any byte of `chunk` needs an escape. Of a fixed sixteen bytes,
/// inlined and without an early exit, this is a few vector compares (a
/// slice of any length was a call and a loop).
#[inline(always)]
fn any_escape(chunk: &[u8; 16]) -> bool {
    chunk.iter().fold(false, |any, &b| any | needs_escape(b))
}

fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

fn escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        _ => {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        }
    }
}

#[cfg(test)]
mod tests;
