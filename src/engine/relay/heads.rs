//! Heads between hyper and the exchange model: what a proxy must strip
//! before passing a head on, and how a head is written down for capture.

use http::header::{self, HeaderMap, HeaderName};
use http::{Method, Request, Version};

use crate::capture::{CaptureMsg, Recorder};
use crate::engine::tee::elapsed_us;
use crate::exchange::{Body, Headers, Response as RespHead, Text};

/// Record a response head (from the upstream or a mock) for capture; the
/// capture cap its body gets, which depends on the head (streams get more).
pub fn record_response_head(
    recorder: &Recorder,
    id: u64,
    started: std::time::Instant,
    status: u16,
    version: Text,
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
/// `Trailer` is not one (RFC 9110 §6.6.2: it names the fields that follow
/// the body, end to end), and an HTTP/1.1 server sends only the trailer
/// fields it names: dropping it dropped every trailer on the way to an
/// HTTP/1.1 client.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "proxy-connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "transfer-encoding",
    "upgrade",
];

/// A head written down for capture: one string for every name and value
/// (sized by a first pass), not two per header.
pub fn headers_of(map: &HeaderMap) -> Headers {
    let bytes = map.iter().map(|(n, v)| n.as_str().len() + v.len()).sum();
    let mut out = Headers::with_capacity(map.len(), bytes);
    for (name, value) in map {
        // Almost always visible ASCII, which `to_str` checks in a tighter
        // loop than UTF-8 validation.
        match value.to_str() {
            Ok(text) => out.push(name.as_str(), text),
            Err(_) => out.push_lossy(name.as_str(), value.as_bytes()),
        }
    }
    out
}

/// A client's address as the exchange records it (`127.0.0.1:51234`),
/// once per exchange: IPv4 digits written directly, as `Display` for a
/// socket address costs more than the rest of the exchange's head.
pub fn addr_text(addr: std::net::SocketAddr) -> String {
    let std::net::SocketAddr::V4(v4) = addr else {
        return addr.to_string();
    };
    let mut out = String::with_capacity(21);
    for (i, octet) in v4.ip().octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        crate::digits::push(&mut out, u64::from(octet));
    }
    out.push(':');
    crate::digits::push(&mut out, u64::from(v4.port()));
    out
}

pub fn version_label(v: Version) -> Text {
    Text::Borrowed(match v {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2",
        Version::HTTP_3 => "HTTP/3",
        _ => "HTTP/1.1",
    })
}

/// A request method as the exchange records it: the standard ones borrowed.
pub fn method_text(method: &Method) -> Text {
    const STANDARD: [&str; 9] = [
        "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE",
    ];
    let text = method.as_str();
    match STANDARD.iter().find(|s| **s == text) {
        Some(standard) => Text::Borrowed(standard),
        None => Text::Owned(text.to_owned()),
    }
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
fn is_hop_by_hop(name: &HeaderName) -> bool {
    HOP_BY_HOP.contains(&name.as_str())
}

pub fn is_upgrade<B>(req: &Request<B>) -> bool {
    req.version() <= Version::HTTP_11 && req.headers().contains_key(header::UPGRADE)
}

/// Remove hop-by-hop headers, and any named in `Connection`. For an upgrade
/// the `Connection: upgrade` / `Upgrade` pair must reach the upstream.
pub fn strip_hop_by_hop(headers: &mut HeaderMap, keep_upgrade: bool) {
    // Runs twice per exchange. One pass compares the names hyper already
    // parsed; a name is looked up (hashed) only to remove what is there or
    // what `Connection` lists, and nothing is allocated for a head with no
    // hop-by-hop header.
    let kept =
        |name: &HeaderName| keep_upgrade && (name == header::CONNECTION || name == header::UPGRADE);
    let mut doomed: Vec<HeaderName> = Vec::new();
    let mut listing = false;
    for (name, value) in headers.iter() {
        listing |= name == header::CONNECTION;
        let te_trailers = name == header::TE && only_trailers(value);
        if is_hop_by_hop(name) && !kept(name) && !te_trailers && !doomed.contains(name) {
            doomed.push(name.clone());
        }
    }
    if listing {
        // `Connection: TE` with `TE: trailers` is how HTTP/1.1 says it.
        let trailers = headers.get_all(header::TE).iter().all(only_trailers);
        add_listed(headers, &mut doomed, |name| {
            kept(name) || (trailers && name == header::TE)
        });
    }
    for name in &doomed {
        headers.remove(name);
    }
}

/// `TE: trailers` says the client takes trailers, which the relay passes
/// on: gRPC servers look for it, and it is the one `TE` HTTP/2 allows
/// (RFC 9113 §8.2.2), so it is kept where other `TE`s are not.
fn only_trailers(value: &header::HeaderValue) -> bool {
    value
        .as_bytes()
        .trim_ascii()
        .eq_ignore_ascii_case(b"trailers")
}

/// Add to `doomed` the headers present that `Connection` names.
fn add_listed(
    headers: &HeaderMap,
    doomed: &mut Vec<HeaderName>,
    kept: impl Fn(&HeaderName) -> bool,
) {
    let tokens = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|token| !token.is_empty());
    for token in tokens {
        // Most tokens (`keep-alive`, `close`) name no header present. A
        // lookup by `&str` lowercases on the stack, where making a
        // `HeaderName` of a name http does not know allocates.
        if !headers.contains_key(token) {
            continue;
        }
        let Ok(name) = HeaderName::from_bytes(token.as_bytes()) else {
            continue;
        };
        if !kept(&name) && !doomed.contains(&name) {
            doomed.push(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::HeaderValue;

    #[test]
    fn header_values_are_kept_as_text_whatever_their_bytes() {
        let mut h = HeaderMap::new();
        h.insert("x-ascii", HeaderValue::from_static("plain value\t1"));
        h.insert(
            "x-utf8",
            HeaderValue::from_bytes("héllo".as_bytes()).unwrap(),
        );
        h.insert("x-latin1", HeaderValue::from_bytes(b"caf\xe9").unwrap());
        let headers = headers_of(&h);
        let kept: std::collections::HashMap<_, _> = headers.iter().collect();
        assert_eq!(kept["x-ascii"], "plain value\t1");
        assert_eq!(kept["x-utf8"], "héllo");
        assert_eq!(kept["x-latin1"], "caf\u{fffd}");
    }

    #[test]
    fn addresses_read_as_display_writes_them() {
        for addr in [
            "0.0.0.0:0",
            "127.0.0.1:51234",
            "255.255.255.255:65535",
            "10.0.20.3:80",
            "[::1]:8443",
            "[fe80::1%2]:9",
        ] {
            let addr: std::net::SocketAddr = addr.parse().unwrap();
            assert_eq!(addr_text(addr), addr.to_string());
        }
    }

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
    fn te_trailers_is_kept_and_other_te_values_are_not() {
        for (te, connection, kept) in [
            ("trailers", None, true),
            (" Trailers ", Some("TE"), true),
            ("gzip", None, false),
            ("trailers, gzip", Some("te"), false),
        ] {
            let mut h = HeaderMap::new();
            h.insert("te", HeaderValue::from_static(te));
            if let Some(c) = connection {
                h.insert("connection", HeaderValue::from_static(c));
            }
            strip_hop_by_hop(&mut h, false);
            assert_eq!(
                h.contains_key("te"),
                kept,
                "TE: {te}, Connection: {connection:?}"
            );
            assert!(!h.contains_key("connection"));
        }
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
        // Names `Connection` lists, in any case, go too; the pair stays.
        let mut h = HeaderMap::new();
        h.insert("connection", HeaderValue::from_static("Upgrade, X-Hop ,,"));
        h.insert("upgrade", HeaderValue::from_static("websocket"));
        h.insert("x-hop", HeaderValue::from_static("1"));
        h.insert("x-end", HeaderValue::from_static("2"));
        strip_hop_by_hop(&mut h, true);
        assert_eq!(h.len(), 3);
        assert!(!h.contains_key("x-hop") && h.contains_key("x-end"));
        strip_hop_by_hop(&mut h, false);
        assert_eq!(h.keys().collect::<Vec<_>>(), ["x-end"]);
    }
}
