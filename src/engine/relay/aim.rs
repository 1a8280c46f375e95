//! A request head made ready for the upstream.

use http::Version;
use http::header;
use http::uri::{PathAndQuery, Scheme};

use super::Target;
use super::heads::strip_hop_by_hop;
use crate::exchange::{self, Failure};

/// Point the request head at `target` as an HTTP/1.1 request a proxy may
/// pass on: an absolute URI for the pooled client (its pool key), the path
/// alone for a pinned connection; no hop-by-hop headers (bar an upgrade's
/// pair); the target's `Host` for an `http1` upstream and none otherwise (an
/// HTTP/2 upstream is told the authority in the URI). The URI is put
/// together from parsed parts, the path (unless `path` rewrites it) shared
/// with the client's: nothing formatted or parsed again per request.
pub(super) fn aim(
    parts: &mut http::request::Parts,
    target: &Target,
    path: Option<&str>,
    (upgrade, http1): (bool, bool),
    absolute: bool,
) -> Result<(), Failure> {
    let invalid = |path: &str| {
        Failure::new(
            exchange::FailureKind::MalformedRequest,
            format!(
                "invalid target URL {}://{}{path}",
                target.scheme,
                target.authority()
            ),
        )
    };
    let path_and_query = match path {
        Some(p) => PathAndQuery::try_from(p).map_err(|_| invalid(p))?,
        None => parts
            .uri
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/")),
    };
    let Some(authority) = target.uri_authority.clone() else {
        return Err(invalid(path_and_query.as_str()));
    };
    parts.uri = if absolute {
        let mut uri = http::uri::Parts::default();
        uri.scheme = Some(match target.scheme {
            "https" => Scheme::HTTPS,
            _ => Scheme::HTTP,
        });
        uri.authority = Some(authority);
        uri.path_and_query = Some(path_and_query);
        // A scheme, an authority and a path: nothing from_parts can refuse.
        http::Uri::from_parts(uri).map_err(|_| invalid("/"))?
    } else {
        http::Uri::from(path_and_query)
    };
    parts.version = Version::HTTP_11;
    strip_hop_by_hop(&mut parts.headers, upgrade);
    match (&target.host_header, http1) {
        (Some(host), true) => parts.headers.insert(header::HOST, host.clone()),
        _ => parts.headers.remove(header::HOST),
    };
    Ok(())
}
