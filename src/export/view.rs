//! What every exporter reads of an exchange: bodies decoded for people, the
//! query string split into pairs, and the headers worth replaying.
//!
//! Captured bodies are the wire bytes (possibly gzip, br, …). Every export
//! format wants the decoded body, so the decoding and the header clean-up
//! that goes with it live here once.

use base64::Engine;

use crate::content;
use crate::exchange::{self, Body, Exchange, Headers};

/// A body decoded for export.
#[derive(Debug, Clone, PartialEq)]
pub struct BodyView {
    /// The body with any content-encoding removed.
    pub bytes: Vec<u8>,
    /// The same bytes when they are UTF-8 text.
    pub text: Option<String>,
    /// The content-encoding that was removed, if any.
    pub decoded_from: Option<String>,
    /// True when the capture cap cut the recorded copy short.
    pub truncated: bool,
    /// Bytes that crossed the wire.
    pub wire_size: u64,
}

impl BodyView {
    /// Decode `body` according to the `Content-Encoding` in `headers`.
    pub fn of(headers: &Headers, body: &Body) -> BodyView {
        let decoded = content::decode(exchange::header(headers, "content-encoding"), &body.bytes);
        let bytes = decoded.bytes.into_owned();
        let text = String::from_utf8(bytes.clone()).ok();
        BodyView {
            bytes,
            text,
            decoded_from: decoded.applied,
            truncated: body.truncated,
            wire_size: body.wire_size,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The body parsed as one JSON document, when it is one.
    pub fn json(&self) -> Option<serde_json::Value> {
        if self.is_empty() {
            return None;
        }
        serde_json::from_slice(&self.bytes).ok()
    }

    pub fn base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.bytes)
    }
}

/// The request path without its query, and the raw query if there is one.
pub fn split_path(path: &str) -> (&str, Option<&str>) {
    match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    }
}

/// `name=value` pairs of a query string, percent-decoded (`+` as space).
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((n, v)) => (percent_decode(n), percent_decode(v)),
            None => (percent_decode(pair), String::new()),
        })
        .collect()
}

/// The query pairs of an exchange's request.
pub fn request_query(ex: &Exchange) -> Vec<(String, String)> {
    split_path(&ex.request.path)
        .1
        .map(query_pairs)
        .unwrap_or_default()
}

/// Decode `%XX` escapes and `+` (a query's space); malformed escapes are
/// kept as written.
pub fn percent_decode(s: &str) -> String {
    decode_escapes(s, true)
}

/// Decode `%XX` escapes only, keeping `+` (values that are not form-encoded,
/// such as `OTEL_EXPORTER_OTLP_HEADERS`, where `+` is often part of a key).
pub fn percent_decode_keep_plus(s: &str) -> String {
    decode_escapes(s, false)
}

fn decode_escapes(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi * 16 + lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Headers a tool should send again when it replays the request or shows
/// the response next to a decoded body: connection-level headers, HTTP/2
/// pseudo-headers and the length/encoding of the wire body are dropped,
/// because the exported body is decoded and the replaying tool frames it.
pub fn replay_headers(headers: &Headers) -> Vec<(&str, &str)> {
    const DROPPED: [&str; 9] = [
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "upgrade",
        "te",
        "trailer",
        "content-length",
        "content-encoding",
    ];
    headers
        .iter()
        .filter(|(n, _)| !n.starts_with(':'))
        .filter(|(n, _)| !DROPPED.iter().any(|d| d.eq_ignore_ascii_case(n)))
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect()
}

/// The media type of a body, without parameters (`application/json`).
pub fn media_type(headers: &Headers) -> Option<String> {
    exchange::header(headers, "content-type").map(|ct| {
        ct.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    })
}

/// True when the response arrived as an event stream (SSE or NDJSON).
pub fn is_streamed(ex: &Exchange) -> bool {
    ex.response
        .as_ref()
        .is_some_and(|r| exchange::is_event_stream(exchange::header(&r.headers, "content-type")))
}

/// The reason phrase for a status code, or `""` when there is none.
pub fn status_text(status: u16) -> &'static str {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

/// `host` or `host:port` as a person would name the server.
pub fn authority(ex: &Exchange) -> String {
    let r = &ex.request;
    let default = matches!((r.scheme.as_str(), r.port), ("https", 443) | ("http", 80));
    let host = if r.host.contains(':') {
        format!("[{}]", r.host)
    } else {
        r.host.clone()
    };
    if default {
        host
    } else {
        format!("{host}:{}", r.port)
    }
}

/// `name=value` pairs of a `Cookie` header.
pub fn cookie_pairs(value: &str) -> Vec<(String, String)> {
    value
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// Encode a query value (everything but RFC 3986 unreserved characters),
/// for clients of the API such as `llmspy export`.
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        let cases = [
            ("a%20b", "a b"),
            ("a+b", "a b"),
            ("100%", "100%"),
            ("%zz", "%zz"),
            ("%41%42", "AB"),
            ("caf%C3%A9", "café"),
        ];
        for (input, want) in cases {
            assert_eq!(percent_decode(input), want, "{input}");
        }
    }

    #[test]
    fn query_pairs_keep_order_and_empty_values() {
        let got = query_pairs("b=2&a&c=x%3Dy");
        assert_eq!(
            got,
            vec![
                ("b".into(), "2".into()),
                ("a".into(), String::new()),
                ("c".into(), "x=y".into())
            ]
        );
    }

    #[test]
    fn replay_headers_drop_framing() {
        let h: Headers = vec![
            ("Content-Length".into(), "3".into()),
            (":authority".into(), "x".into()),
            ("x-api-key".into(), "k".into()),
            ("Content-Encoding".into(), "gzip".into()),
        ];
        assert_eq!(replay_headers(&h), vec![("x-api-key", "k")]);
    }
}
