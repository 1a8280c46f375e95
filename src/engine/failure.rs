//! Turn transport errors into stored failures that say what happened and
//! what to do about it.

use std::error::Error as StdError;

use crate::exchange::{Failure, FailureKind};

/// The messages of an error and its sources, joined with ": ". The pooled
/// client's own wrapper ("client error (SendRequest)") names its internals,
/// not what happened, so its cause speaks for it: a failure reads the same
/// whichever path sent the request.
pub fn chain(e: &(dyn StdError + 'static)) -> String {
    let e = match (
        e.downcast_ref::<hyper_util::client::legacy::Error>(),
        e.source(),
    ) {
        (Some(_), Some(cause)) => cause,
        _ => e,
    };
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}

/// Classify an error from sending a request upstream to `authority`.
pub fn upstream(authority: &str, e: &(dyn StdError + 'static)) -> Failure {
    if let Some(t) = find::<super::timed_connect::ConnectTimeout>(e) {
        return Failure::new(
            FailureKind::UpstreamTimeout,
            format!(
                "no connection to {authority} within {} (TCP connect and TLS handshake; upstreamConnectTimeoutSeconds)",
                super::guard::seconds(t.0)
            ),
        );
    }
    if let Some(stalled) = find::<super::tee::ClientStalled>(e) {
        return Failure::new(FailureKind::ClientTimeout, stalled.to_string());
    }
    if let Some(broke) = find::<super::tee::ClientBodyBroke>(e) {
        return broke.0.clone();
    }
    let detail = chain(e);
    let kind = upstream_kind(e, &detail);
    let message = match kind {
        FailureKind::UpstreamDns => format!("cannot resolve {authority}: {detail}"),
        FailureKind::UpstreamConnect => format!("cannot connect to {authority}: {detail}"),
        FailureKind::UpstreamTls => match tls_hint(e, &detail) {
            Some(hint) => format!("TLS with {authority} failed: {detail} ({hint})"),
            None => format!("TLS with {authority} failed: {detail}"),
        },
        _ => match find::<hyper::Error>(e) {
            Some(h) if h.is_parse_too_large() => {
                format!("{authority} answered with a response head too large to read: {detail}")
            }
            Some(h) if h.is_parse() => {
                format!("{authority} answered with something that is not HTTP: {detail}")
            }
            Some(h) if h.is_incomplete_message() => {
                format!("{authority} closed the connection before a whole response: {detail}")
            }
            _ => format!("{authority} closed the connection: {detail}"),
        },
    };
    Failure::new(kind, message)
}

/// What to do about a TLS failure, when something can be done: an https://
/// URL aimed at a plain-HTTP port, or a certificate llmspy would not
/// accept (trusting a private CA helps only when the issuer is unknown, not
/// when the certificate names another host or has expired). The
/// certificate's error is read from the message, whose names
/// (`invalid peer certificate: UnknownIssuer`) cover rustls's variants
/// with and without their context.
fn tls_hint(e: &(dyn StdError + 'static), detail: &str) -> Option<&'static str> {
    use rustls::{Error, InvalidMessage};
    if let Some(Error::InvalidMessage(InvalidMessage::InvalidContentType)) = find_rustls(e) {
        return Some("the upstream answered in plain HTTP, not TLS: use http:// for this port");
    }
    let (_, error) = detail.rsplit_once("invalid peer certificate: ")?;
    TLS_HINTS
        .iter()
        .find(|(name, _)| error.contains(name))
        .map(|(_, hint)| *hint)
}

/// rustls's name for a certificate error, and what to do about it.
const TLS_HINTS: [(&str, &str); 5] = [
    (
        "UnknownIssuer",
        "a private CA can be trusted with --upstream-ca FILE (or LLMSPY_UPSTREAM_CA)",
    ),
    (
        "NotValidForName",
        "the upstream's certificate is for another name",
    ),
    (
        "Expired",
        "check the upstream's certificate dates and this machine's clock",
    ),
    (
        "NotValidYet",
        "check the upstream's certificate dates and this machine's clock",
    ),
    (
        "CaUsedAsEndEntity",
        "the upstream presents a CA certificate as its own; it must present one that CA issued",
    ),
];

/// The rustls error in `e`'s source chain, also inside I/O errors. The
/// connector wraps tokio-rustls's I/O error in another one, and an I/O
/// error's `source` skips the error it wraps, so each is opened by hand.
fn find_rustls<'a>(e: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(t) = err.downcast_ref::<rustls::Error>() {
            return Some(t);
        }
        cur = match err.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as &(dyn StdError + 'static)),
            None => err.source(),
        };
    }
    None
}

/// The failure of an upstream that sent no response head in time.
pub fn no_response(host: &str, limit: std::time::Duration) -> Failure {
    Failure::new(
        FailureKind::UpstreamTimeout,
        format!(
            "no response headers from {host} within {} (upstreamResponseTimeoutSeconds)",
            super::guard::seconds(limit)
        ),
    )
}

/// What a proxy answers for a failure: 504 for an upstream that did not
/// answer in time, 408 for a client that stalled, 400 for a client whose
/// request body was malformed or broke off, 502 for the rest.
pub fn status(failure: &Failure) -> http::StatusCode {
    match failure.kind {
        FailureKind::UpstreamTimeout => http::StatusCode::GATEWAY_TIMEOUT,
        FailureKind::ClientTimeout => http::StatusCode::REQUEST_TIMEOUT,
        FailureKind::MalformedRequest | FailureKind::ClientGone => http::StatusCode::BAD_REQUEST,
        _ => http::StatusCode::BAD_GATEWAY,
    }
}

/// The first error of type `T` in `e`'s source chain.
pub fn find<'a, T: StdError + 'static>(e: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(t) = err.downcast_ref::<T>() {
            return Some(t);
        }
        cur = err.source();
    }
    None
}

fn upstream_kind(e: &(dyn StdError + 'static), detail: &str) -> FailureKind {
    if find_rustls(e).is_some() {
        return FailureKind::UpstreamTls;
    }
    let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused
                | std::io::ErrorKind::HostUnreachable
                | std::io::ErrorKind::NetworkUnreachable
                | std::io::ErrorKind::TimedOut
                | std::io::ErrorKind::AddrNotAvailable => return FailureKind::UpstreamConnect,
                _ => {}
            }
        }
        cur = err.source();
    }
    let lower = detail.to_ascii_lowercase();
    if lower.contains("dns error")
        || lower.contains("failed to lookup")
        || lower.contains("name or service not known")
    {
        FailureKind::UpstreamDns
    } else if lower.contains("certificate") || lower.contains("tls") {
        FailureKind::UpstreamTls
    } else if lower.contains("tcp connect error") || lower.contains("connection refused") {
        FailureKind::UpstreamConnect
    } else {
        FailureKind::UpstreamReset
    }
}

/// The failure stored when a client aborts the TLS handshake with llmspy.
pub fn client_tls(host: &str, e: &std::io::Error, ca_path: &str) -> Failure {
    use rustls::AlertDescription as A;
    let alert = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .and_then(|r| match r {
            rustls::Error::AlertReceived(a) => Some(*a),
            _ => None,
        });
    let rejected = match alert {
        Some(A::UnknownCA | A::BadCertificate | A::CertificateUnknown | A::HandshakeFailure) => {
            true
        }
        Some(_) => false,
        // Some clients just hang up after seeing the certificate.
        None => matches!(
            e.kind(),
            std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset
        ),
    };
    if rejected {
        Failure::new(
            FailureKind::ClientRejectedCa,
            ca_rejection_message(host, ca_path, e),
        )
    } else {
        Failure::new(
            FailureKind::ClientTls,
            format!(
                "TLS handshake with the client for {host} failed: {}",
                chain(e)
            ),
        )
    }
}

fn ca_rejection_message(host: &str, ca_path: &str, e: &std::io::Error) -> String {
    format!(
        "the client does not trust the llmspy CA for {host} ({e}). Trust {ca_path}: \
         Node: NODE_EXTRA_CA_CERTS={ca_path}; Python: SSL_CERT_FILE / REQUESTS_CA_BUNDLE \
         (see `llmspy env`); curl: --cacert {ca_path}. `eval \"$(llmspy env)\"` sets them all."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tls_hint_fits_the_certificate_error() {
        let fails = |cert: rustls::CertificateError| {
            let e = std::io::Error::other(rustls::Error::InvalidCertificate(cert));
            let f = upstream("api.test:443", &e);
            assert_eq!(f.kind, FailureKind::UpstreamTls, "{}", f.message);
            f.message
        };
        assert!(fails(rustls::CertificateError::UnknownIssuer).contains("--upstream-ca FILE"));
        let wrong_name = fails(rustls::CertificateError::NotValidForName);
        assert!(wrong_name.contains("for another name"), "{wrong_name}");
        assert!(!wrong_name.contains("--upstream-ca"), "{wrong_name}");
        let expired = fails(rustls::CertificateError::Expired);
        assert!(expired.contains("clock") && !expired.contains("--upstream-ca"));
        let bad = fails(rustls::CertificateError::BadSignature);
        assert!(
            bad.ends_with("invalid peer certificate: BadSignature"),
            "{bad}"
        );
    }

    /// The connector's shape: tokio-rustls's I/O error inside another.
    #[test]
    fn a_rustls_error_inside_nested_io_errors_is_found() {
        let rustls = rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType);
        let inner = std::io::Error::new(std::io::ErrorKind::InvalidData, rustls);
        let e = std::io::Error::other(inner);
        let f = upstream("api.test:443", &e);
        assert_eq!(f.kind, FailureKind::UpstreamTls, "{}", f.message);
        assert!(
            f.message.contains("use http:// for this port"),
            "{}",
            f.message
        );
    }

    #[test]
    fn refused_is_connect() {
        let e = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(upstream("h:1", &e).kind, FailureKind::UpstreamConnect);
    }

    #[test]
    fn unknown_ca_alert_is_a_ca_rejection_naming_the_fix() {
        let inner = rustls::Error::AlertReceived(rustls::AlertDescription::UnknownCA);
        let e = std::io::Error::new(std::io::ErrorKind::InvalidData, inner);
        let f = client_tls("api.anthropic.com", &e, "/ca.pem");
        assert_eq!(f.kind, FailureKind::ClientRejectedCa);
        assert!(f.message.contains("NODE_EXTRA_CA_CERTS=/ca.pem"));
        assert!(f.message.contains("api.anthropic.com"));
    }
}
