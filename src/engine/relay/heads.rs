//! Heads between hyper and the exchange model: what a proxy must strip
//! before passing a head on, and how a head is written down for capture.

use http::header::{self, HeaderMap};
use http::{Request, Version};

use crate::capture::{CaptureMsg, Recorder};
use crate::engine::tee::elapsed_us;
use crate::exchange::{Body, Headers, Response as RespHead};

/// Record a response head (from the upstream or a mock) for capture; the
/// capture cap its body gets, which depends on the head (streams get more).
pub fn record_response_head(
    recorder: &Recorder,
    id: u64,
    started: std::time::Instant,
    status: u16,
    version: String,
    headers: Headers,
) -> usize {
    let head = RespHead {
        status,
        version,
        headers,
        body: Body::default(),
    };
    let cap = recorder.limits().response_cap(&head.headers);
    recorder.send(CaptureMsg::ResponseHead {
        id,
        response: Box::new(head),
        at_us: elapsed_us(started),
    });
    cap
}

/// Hop-by-hop headers (RFC 9110 §7.6.1) that a proxy must not forward.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "proxy-connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

pub fn headers_of(map: &HeaderMap) -> Headers {
    map.iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

pub fn version_label(v: Version) -> String {
    match v {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2",
        Version::HTTP_3 => "HTTP/3",
        _ => "HTTP/1.1",
    }
    .to_string()
}

/// What a `101` agreed to, when it switched to WebSocket.
pub fn websocket_of(headers: &HeaderMap) -> Option<crate::websocket::Negotiated> {
    let upgrade = headers.get(header::UPGRADE)?.to_str().ok()?;
    upgrade.trim().eq_ignore_ascii_case("websocket").then(|| {
        let extensions = headers
            .get(header::SEC_WEBSOCKET_EXTENSIONS)
            .and_then(|v| v.to_str().ok());
        crate::websocket::Negotiated::from_header(extensions)
    })
}

/// One of [`HOP_BY_HOP`]. A `Connection` header is one, so a head with
/// none of these names lists no others to strip either.
fn is_hop_by_hop(name: &header::HeaderName) -> bool {
    HOP_BY_HOP.contains(&name.as_str())
}

pub fn is_upgrade<B>(req: &Request<B>) -> bool {
    req.version() <= Version::HTTP_11 && req.headers().contains_key(header::UPGRADE)
}

/// Remove hop-by-hop headers, and any named in `Connection`. For an upgrade
/// the `Connection: upgrade` / `Upgrade` pair must reach the upstream.
pub fn strip_hop_by_hop(headers: &mut HeaderMap, keep_upgrade: bool) {
    // Runs twice per exchange, and most heads carry no hop-by-hop header: one
    // pass comparing the names already parsed, before any lookup by string
    // (each of which parses and hashes the name).
    if !headers.keys().any(is_hop_by_hop) {
        return;
    }
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    let kept = |name: &str| keep_upgrade && (name == "connection" || name == "upgrade");
    for name in HOP_BY_HOP.iter().copied() {
        if !kept(name) {
            headers.remove(name);
        }
    }
    for name in &named {
        if !kept(name) {
            headers.remove(name.as_str());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::HeaderValue;

    #[test]
    fn strips_hop_by_hop_and_connection_named_headers() {
        let mut h = HeaderMap::new();
        h.insert(
            "connection",
            HeaderValue::from_static("keep-alive, x-secret-hop"),
        );
        h.insert("x-secret-hop", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("x-api-key", HeaderValue::from_static("k"));
        strip_hop_by_hop(&mut h, false);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("x-api-key"));
    }

    #[test]
    fn each_hop_by_hop_name_alone_is_stripped_and_others_kept() {
        for name in HOP_BY_HOP {
            let mut h = HeaderMap::new();
            h.insert(*name, HeaderValue::from_static("x"));
            h.insert("content-type", HeaderValue::from_static("text/plain"));
            strip_hop_by_hop(&mut h, false);
            assert!(!h.contains_key(*name), "{name} kept");
            assert!(h.contains_key("content-type"));
        }
        // An upgrade keeps its pair and still loses the rest.
        let mut h = HeaderMap::new();
        h.insert("connection", HeaderValue::from_static("Upgrade"));
        h.insert("upgrade", HeaderValue::from_static("websocket"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        strip_hop_by_hop(&mut h, true);
        assert_eq!(h.len(), 2);
        assert!(h.contains_key("connection") && h.contains_key("upgrade"));
    }
}
