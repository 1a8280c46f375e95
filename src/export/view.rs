//! What every exporter reads of an exchange: bodies decoded for people, the
//! query string split into pairs, and the headers worth replaying.
//!
//! Captured bodies are the wire bytes (possibly gzip, br, …). Every export
//! format wants the decoded body, so the decoding and the header clean-up
//! that goes with it live here once.

use base64::Engine;

use crate::content;
pub use crate::content::media_type;
use crate::exchange::{self, Body, Exchange, Headers};
pub use crate::urlcodec::{percent_decode, percent_decode_keep_plus, percent_encode};

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

/// `name=value` pairs of a query string (the one parser, in `urlcodec`).
pub use crate::urlcodec::query_pairs;

/// The query pairs of an exchange's request.
pub fn request_query(ex: &Exchange) -> Vec<(String, String)> {
    split_path(&ex.request.path)
        .1
        .map(query_pairs)
        .unwrap_or_default()
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
        .collect()
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
    let default = matches!((r.scheme.as_ref(), r.port), ("https", 443) | ("http", 80));
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
        let h = Headers::from([
            ("Content-Length", "3"),
            (":authority", "x"),
            ("x-api-key", "k"),
            ("Content-Encoding", "gzip"),
        ]);
        assert_eq!(replay_headers(&h), vec![("x-api-key", "k")]);
    }
}
