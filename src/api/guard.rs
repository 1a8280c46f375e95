//! The gate in front of the control API: who may drive llmspy.
//!
//! The control API reads every captured API key, answers agents with mock
//! responses and writes files, so a request reaching it must come from the
//! user, not from a web page the user has open or another account:
//!
//! - **Host** must name this machine (a loopback name or address, the
//!   address the client connected to, or a name given with `--allow-host`):
//!   a page on a rebinding domain (`evil.example` → 127.0.0.1) sends its own
//!   name and is refused (DNS rebinding).
//! - **Origin** must not be sent, and `Sec-Fetch-Site` must be `none` when
//!   sent: a request a web page makes (CSRF), even a page base-URL mode
//!   relayed under llmspy's own origin, is refused.
//! - A **body** must be JSON: a page can POST `text/plain` or a form without
//!   a CORS preflight, but not `application/json`.
//! - Beyond loopback, or whenever `--control-token` is set, the caller must
//!   prove who it is: a loopback peer, or the bearer token.
//!
//! The checks are a pure function of the request head and the connection
//! ([`ControlPolicy::check`]); [`guarded`] wraps the API handler with them
//! and reports every refusal to the capture task, which counts it and tells
//! the UI and the log.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use http::{HeaderMap, Method, Request, Response, StatusCode, header};
use http_body::Body;
use hyper::body::Incoming;

use super::error;
use crate::capture::{CaptureMsg, Recorder, Refusal, RefusalRule};
use crate::engine::{ApiFuture, ApiHandler, ConnInfo, UpstreamBody};

/// What the control API accepts, from the command line.
#[derive(Debug, Clone, Default)]
pub struct ControlPolicy {
    /// Host names allowed besides loopback (`--allow-host`), lower case.
    pub allowed_hosts: Vec<String>,
    /// `--control-token`: when set, every control request must carry
    /// `Authorization: Bearer TOKEN`.
    pub token: Option<String>,
}

/// A request the gate turned away, and how to answer it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    pub status: StatusCode,
    pub rule: RefusalRule,
    /// One line: what was refused and why.
    pub reason: String,
}

/// The facts about one request the checks need.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    /// The authority the request named (URI authority, else `Host`).
    pub host: Option<&'a str>,
    pub headers: &'a HeaderMap,
    /// Whether a body follows the head.
    pub has_body: bool,
    /// The connection it came on, when the engine said.
    pub conn: Option<ConnInfo>,
}

impl ControlPolicy {
    pub fn new(allowed_hosts: &[String], token: Option<String>) -> Self {
        ControlPolicy {
            allowed_hosts: allowed_hosts
                .iter()
                .map(|h| normal_host(h).to_ascii_lowercase())
                .collect(),
            token: token.filter(|t| !t.is_empty()),
        }
    }

    /// Check one control request; `Err` says how to refuse it.
    pub fn check(&self, req: &RequestFacts<'_>) -> Result<(), Denied> {
        self.check_host(req)?;
        check_origin(req)?;
        self.check_caller(req)?;
        check_body_type(req)
    }

    fn check_host(&self, req: &RequestFacts<'_>) -> Result<(), Denied> {
        // HTTP/1.0 clients may omit Host; browsers never do.
        let Some(authority) = req.host else {
            return Ok(());
        };
        let host = normal_host(authority);
        let local = req.conn.map(|c| c.local.ip());
        if is_local_name(host, local)
            || self
                .allowed_hosts
                .iter()
                .any(|h| h.eq_ignore_ascii_case(host))
        {
            return Ok(());
        }
        Err(Denied {
            status: StatusCode::MISDIRECTED_REQUEST,
            rule: RefusalRule::Host,
            reason: format!(
                "refused a control request for Host {authority}: only loopback names and addresses \
                 reach llmspy's control API (allow a name with --allow-host {host})"
            ),
        })
    }

    fn check_caller(&self, req: &RequestFacts<'_>) -> Result<(), Denied> {
        // The CA certificate is public: clients on other machines need it
        // to trust llmspy in the first place.
        if req.method == Method::GET && req.path == "ca.pem" {
            return Ok(());
        }
        let peer = req.conn.map(|c| c.peer);
        match &self.token {
            Some(token) => {
                let given = bearer(req.headers);
                if given.is_some_and(|g| constant_time_eq(g.as_bytes(), token.as_bytes())) {
                    return Ok(());
                }
                Err(Denied {
                    status: StatusCode::UNAUTHORIZED,
                    rule: RefusalRule::Token,
                    reason: format!(
                        "refused a control request from {}: {} (send Authorization: Bearer with the --control-token value)",
                        describe_peer(peer),
                        if given.is_some() {
                            "wrong control token"
                        } else {
                            "no control token"
                        }
                    ),
                })
            }
            None if peer.is_some_and(|p| p.ip().to_canonical().is_loopback()) => Ok(()),
            None => Err(Denied {
                status: StatusCode::FORBIDDEN,
                rule: RefusalRule::Peer,
                reason: format!(
                    "refused a control request from {}: without --control-token the control API \
                     answers only this machine (loopback)",
                    describe_peer(peer)
                ),
            }),
        }
    }
}

fn check_origin(req: &RequestFacts<'_>) -> Result<(), Denied> {
    let refuse = |why: String| Denied {
        status: StatusCode::FORBIDDEN,
        rule: RefusalRule::Origin,
        reason: why,
    };
    // llmspy serves no page of its own, so no page may call it, not even
    // one on llmspy's own origin: base-URL mode (`/via/…`, routes) relays
    // any site's HTML under that origin, and a script there would be
    // same-origin with the control API. Browsers send `Origin` on every
    // request but a same-origin GET, which `Sec-Fetch-Site` then names.
    if let Some(origin) = req.headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("(not text)");
        return Err(refuse(format!(
            "refused a control request from Origin {origin}: web pages may not drive llmspy"
        )));
    }
    // `none` is the user's own doing: a typed URL, a bookmark. Every copy
    // of the header is read (browsers send one; a second must not hide it).
    for site in req.headers.get_all("sec-fetch-site") {
        let site = site.to_str().unwrap_or("(not text)");
        if !site.eq_ignore_ascii_case("none") {
            return Err(refuse(format!(
                "refused a control request sent by a web page (Sec-Fetch-Site: {site})"
            )));
        }
    }
    Ok(())
}

fn check_body_type(req: &RequestFacts<'_>) -> Result<(), Denied> {
    if !req.has_body {
        return Ok(());
    }
    let content_type = req
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
    {
        return Ok(());
    }
    let sent = if content_type.is_empty() {
        "no Content-Type".to_string()
    } else {
        format!("Content-Type {content_type}")
    };
    Err(Denied {
        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        rule: RefusalRule::ContentType,
        reason: format!(
            "refused a control request body with {sent}: send JSON with Content-Type: application/json \
             (curl: -H 'Content-Type: application/json')"
        ),
    })
}

/// Host without port or brackets, lower case, no trailing dot.
fn normal_host(authority: &str) -> &str {
    let host = if let Some(rest) = authority.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else if authority.matches(':').count() == 1 {
        authority.split(':').next().unwrap_or(authority)
    } else {
        authority
    };
    host.trim_end_matches('.')
}

/// A name or address that can only mean this machine.
fn is_local_name(host: &str, local: Option<IpAddr>) -> bool {
    let lower = host.to_ascii_lowercase();
    if lower == "localhost" || lower.ends_with(".localhost") {
        return true;
    }
    // An address literal cannot be rebound: a page on another name sends
    // that name, not an address.
    match host.parse::<IpAddr>() {
        Ok(ip) => {
            let ip = ip.to_canonical();
            ip.is_loopback() || local.is_some_and(|l| l.to_canonical() == ip)
        }
        Err(_) => false,
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Equal bytes, in time that depends only on the lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn describe_peer(peer: Option<SocketAddr>) -> String {
    peer.map_or_else(|| "an unknown peer".to_string(), |p| p.to_string())
}

/// Wrap the API handler with the gate. Refused requests never reach it;
/// each refusal is answered with its status and one-line reason, and
/// reported to the capture task (counted, logged, shown in the UI).
pub fn guarded(policy: ControlPolicy, recorder: Recorder, inner: ApiHandler) -> ApiHandler {
    let policy = Arc::new(policy);
    Arc::new(move |req: Request<Incoming>| -> ApiFuture {
        let facts = RequestFacts {
            method: req.method(),
            path: super::routes::route_of(req.uri().path()).unwrap_or(""),
            host: req.uri().authority().map(|a| a.as_str()).or_else(|| {
                req.headers()
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
            }),
            headers: req.headers(),
            has_body: !req.body().is_end_stream(),
            conn: req.extensions().get::<ConnInfo>().copied(),
        };
        match policy.check(&facts) {
            Ok(()) => inner(req),
            Err(denied) => {
                tracing::warn!("{}", denied.reason);
                recorder.send(CaptureMsg::Refused(Refusal {
                    rule: denied.rule,
                    reason: denied.reason.clone(),
                }));
                Box::pin(async move { refusal_response(&denied) })
            }
        }
    })
}

fn refusal_response(denied: &Denied) -> Response<UpstreamBody> {
    let mut resp = error(denied.status, &denied.reason);
    if denied.status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer realm=\"llmspy\""),
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(peer: &str, local: &str) -> Option<ConnInfo> {
        Some(ConnInfo {
            peer: peer.parse().unwrap(),
            local: local.parse().unwrap(),
        })
    }

    fn facts<'a>(host: Option<&'a str>, headers: &'a HeaderMap, body: bool) -> RequestFacts<'a> {
        RequestFacts {
            method: &Method::PUT,
            path: "retrieve",
            host,
            headers,
            has_body: body,
            conn: conn("127.0.0.1:5000", "127.0.0.1:1080"),
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, header::HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn loopback_hosts_pass_and_foreign_names_are_refused() {
        let p = ControlPolicy::default();
        let h = HeaderMap::new();
        for host in [
            "127.0.0.1:1080",
            "localhost:1080",
            "LOCALHOST",
            "app.localhost:1080",
            "[::1]:1080",
            "127.0.0.2",
            "localhost.:1080",
        ] {
            assert_eq!(p.check(&facts(Some(host), &h, false)), Ok(()), "{host}");
        }
        for host in [
            "evil.example:1080",
            "evil.example",
            "10.0.0.5:1080",
            "localhost.evil.example",
        ] {
            let denied = p.check(&facts(Some(host), &h, false)).unwrap_err();
            assert_eq!(denied.rule, RefusalRule::Host, "{host}");
            assert_eq!(denied.status, StatusCode::MISDIRECTED_REQUEST);
        }
    }

    #[test]
    fn allowed_names_and_the_listen_address_pass() {
        let p = ControlPolicy::new(&["MyBox.LAN".into()], None);
        let h = HeaderMap::new();
        assert_eq!(p.check(&facts(Some("mybox.lan:1080"), &h, false)), Ok(()));
        let mut f = facts(Some("192.168.1.9:1080"), &h, false);
        f.conn = conn("127.0.0.1:5000", "192.168.1.9:1080");
        assert_eq!(p.check(&f), Ok(()));
    }

    #[test]
    fn every_origin_and_every_fetch_from_a_page_is_refused() {
        let p = ControlPolicy::default();
        for h in [
            // llmspy's own origin: a page relayed by base-URL mode.
            headers(&[("origin", "http://127.0.0.1:1080")]),
            headers(&[("sec-fetch-site", "same-origin")]),
            headers(&[("origin", "http://evil.example")]),
            headers(&[("origin", "null")]),
            headers(&[("origin", "http://localhost:3000")]),
            headers(&[("sec-fetch-site", "cross-site")]),
            headers(&[("sec-fetch-site", "same-site")]),
        ] {
            let denied = p
                .check(&facts(Some("127.0.0.1:1080"), &h, false))
                .unwrap_err();
            assert_eq!(
                (denied.status, denied.rule),
                (StatusCode::FORBIDDEN, RefusalRule::Origin)
            );
        }
        let twice = headers(&[("sec-fetch-site", "none"), ("sec-fetch-site", "cross-site")]);
        assert!(
            p.check(&facts(Some("127.0.0.1:1080"), &twice, false))
                .is_err()
        );
        let typed = headers(&[("sec-fetch-site", "none")]);
        assert_eq!(
            p.check(&facts(Some("127.0.0.1:1080"), &typed, false)),
            Ok(())
        );
    }

    #[test]
    fn bodies_must_be_json() {
        let p = ControlPolicy::default();
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "application/merge-patch+json",
        ] {
            let h = headers(&[("content-type", ok)]);
            assert_eq!(p.check(&facts(Some("localhost"), &h, true)), Ok(()), "{ok}");
        }
        for bad in [
            headers(&[("content-type", "text/plain")]),
            headers(&[("content-type", "application/x-www-form-urlencoded")]),
            HeaderMap::new(),
        ] {
            let denied = p.check(&facts(Some("localhost"), &bad, true)).unwrap_err();
            assert_eq!(denied.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
            assert!(
                denied.reason.contains("application/json"),
                "{}",
                denied.reason
            );
        }
        // No body, no type needed.
        assert_eq!(
            p.check(&facts(Some("localhost"), &HeaderMap::new(), false)),
            Ok(())
        );
    }

    #[test]
    fn remote_peers_need_the_token() {
        let h = HeaderMap::new();
        let mut remote = facts(Some("192.168.1.9:1080"), &h, false);
        remote.conn = conn("192.168.1.20:40000", "192.168.1.9:1080");
        let open = ControlPolicy::default();
        assert_eq!(open.check(&remote).unwrap_err().rule, RefusalRule::Peer);

        let locked = ControlPolicy::new(&[], Some("s3cret".into()));
        assert_eq!(
            locked.check(&remote).unwrap_err().status,
            StatusCode::UNAUTHORIZED
        );
        let good = headers(&[("authorization", "Bearer s3cret")]);
        let mut with = facts(Some("192.168.1.9:1080"), &good, false);
        with.conn = remote.conn;
        assert_eq!(locked.check(&with), Ok(()));
        let bad = headers(&[("authorization", "Bearer s3creT")]);
        with.headers = &bad;
        assert!(
            locked
                .check(&with)
                .unwrap_err()
                .reason
                .contains("wrong control token")
        );
        // The token binds loopback callers too: other accounts share loopback.
        assert_eq!(
            locked
                .check(&facts(Some("localhost"), &h, false))
                .unwrap_err()
                .rule,
            RefusalRule::Token
        );
        // The CA certificate stays public.
        let mut ca = remote;
        ca.method = &Method::GET;
        ca.path = "ca.pem";
        assert_eq!(open.check(&ca), Ok(()));
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
