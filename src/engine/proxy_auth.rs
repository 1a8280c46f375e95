//! `--proxy-auth USER:PASS`: proxy clients (absolute-form requests and
//! `CONNECT`) must send `Proxy-Authorization: Basic …`, and are answered
//! `407 Proxy Authentication Required` otherwise, as any proxy does. (SOCKS5
//! clients authenticate in the handshake, see `socks5`.)

use std::net::SocketAddr;

use base64::Engine as _;
use http::{HeaderMap, Response, StatusCode, header};

use super::relay::error_response;
use super::upstream::UpstreamBody;
use super::{ProxyCredentials, Shared};
use crate::capture::{CaptureMsg, Refusal, RefusalRule};

/// Do these headers carry the credentials?
pub fn presented(headers: &HeaderMap, creds: &ProxyCredentials) -> bool {
    let Some(value) = headers
        .get(header::PROXY_AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, encoded)) = value.trim().split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    matches(&decoded, creds)
}

/// `user:password` bytes against the credentials, in constant time.
pub fn matches(pair: &[u8], creds: &ProxyCredentials) -> bool {
    let expected = format!("{}:{}", creds.user, creds.password);
    pair.len() == expected.len()
        && pair
            .iter()
            .zip(expected.as_bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// `None` when the request may pass; else the 407 to answer with (the
/// refusal is reported to the capture task).
pub fn check(
    shared: &Shared,
    headers: &HeaderMap,
    peer: SocketAddr,
    target: &str,
) -> Option<Response<UpstreamBody>> {
    let creds = shared.proxy_auth.as_ref()?;
    if presented(headers, creds) {
        return None;
    }
    let said = if headers.contains_key(header::PROXY_AUTHORIZATION) {
        "wrong"
    } else {
        "no"
    };
    refuse(
        shared,
        format!(
            "refused proxy client {peer} ({target}): {said} proxy credentials (--proxy-auth is set)"
        ),
    );
    let mut resp = error_response(
        StatusCode::PROXY_AUTHENTICATION_REQUIRED,
        "proxy_auth_required",
        "llmspy: this proxy needs credentials: use http://USER:PASS@HOST:PORT as the proxy URL\n"
            .into(),
    );
    resp.headers_mut().insert(
        header::PROXY_AUTHENTICATE,
        header::HeaderValue::from_static("Basic realm=\"llmspy\""),
    );
    Some(resp)
}

/// Report a refused proxy client: counted, logged and shown in the UI.
pub fn refuse(shared: &Shared, reason: String) {
    tracing::warn!("{reason}");
    shared.recorder.send(CaptureMsg::Refused(Refusal {
        rule: RefusalRule::ProxyAuth,
        reason,
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials() {
        let creds = ProxyCredentials {
            user: "me".into(),
            password: "pw:x".into(),
        };
        let mut h = HeaderMap::new();
        assert!(!presented(&h, &creds));
        // base64("me:pw:x")
        h.insert(
            header::PROXY_AUTHORIZATION,
            "Basic bWU6cHc6eA==".parse().unwrap(),
        );
        assert!(presented(&h, &creds));
        h.insert(
            header::PROXY_AUTHORIZATION,
            "Basic bWU6cHc=".parse().unwrap(),
        );
        assert!(!presented(&h, &creds));
        h.insert(
            header::PROXY_AUTHORIZATION,
            "Bearer bWU6cHc6eA==".parse().unwrap(),
        );
        assert!(!presented(&h, &creds));
    }
}
