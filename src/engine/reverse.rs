//! Base-URL (reverse) mode, for clients that ignore proxies, pin
//! certificates, or are configured by a base URL: an origin-form request
//! to `/via/{scheme}/{host[:port]}/…`, or to `/{name}/…` for a
//! `--route NAME=URL`, is relayed to that upstream (over TLS for https)
//! and captured under the real URL. Pure: paths in, targets out.

use super::relay::Target;

/// Path prefixes that belong to llmspy itself, never to a route.
const RESERVED: [&str; 3] = ["llmspy", "mockserver", "via"];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RouteError {
    #[error("--route {0}: expected NAME=URL, e.g. anthropic=https://api.anthropic.com")]
    Shape(String),
    #[error("--route {0}: the name may hold letters, digits, '-' and '_' only")]
    Name(String),
    #[error("--route {0}: '{1}' is llmspy's own path; choose another name")]
    Reserved(String, String),
    #[error("--route {0}: the URL must be http:// or https:// with a host")]
    Url(String),
}

/// One named upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub name: String,
    pub target: Target,
    /// Path prefix of the upstream URL, without a trailing '/'.
    pub base: String,
}

/// The named upstreams of `--route`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routes(Vec<Route>);

impl Routes {
    pub fn parse(specs: &[String]) -> Result<Routes, RouteError> {
        specs
            .iter()
            .map(|s| parse_route(s))
            .collect::<Result<_, _>>()
            .map(Routes)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|r| r.name.as_str())
    }
}

fn parse_route(spec: &str) -> Result<Route, RouteError> {
    let (name, url) = spec
        .split_once('=')
        .ok_or_else(|| RouteError::Shape(spec.into()))?;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(RouteError::Name(spec.into()));
    }
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return Err(RouteError::Reserved(spec.into(), name.into()));
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| RouteError::Url(spec.into()))?;
    let (authority, base) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let target = target(scheme, authority).ok_or_else(|| RouteError::Url(spec.into()))?;
    Ok(Route {
        name: name.into(),
        target,
        base: base.trim_end_matches('/').to_string(),
    })
}

/// Where an origin-form request goes, and the path to send there; `None`
/// when the path is not a base-URL path (it is then llmspy's own).
pub fn resolve(path_and_query: &str, routes: &Routes) -> Option<(Target, String)> {
    let rest = path_and_query.strip_prefix('/')?;
    let (first, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    if first == "via" {
        let tail = tail.strip_prefix('/')?;
        let (scheme, tail) = tail.split_once('/')?;
        let end = tail.find(['/', '?']).unwrap_or(tail.len());
        let (authority, path) = tail.split_at(end);
        return Some((target(scheme, authority)?, origin_path("", path)));
    }
    let route = routes.0.iter().find(|r| r.name == first)?;
    Some((route.target.clone(), origin_path(&route.base, tail)))
}

/// `base` + `tail`, always starting with '/'.
fn origin_path(base: &str, tail: &str) -> String {
    match (base, tail) {
        ("", "") => "/".into(),
        ("", t) if t.starts_with('?') => format!("/{t}"),
        (b, t) if t.is_empty() || t.starts_with('?') => format!("{b}{t}"),
        (b, t) => format!("{b}{t}"),
    }
}

fn target(scheme: &str, authority: &str) -> Option<Target> {
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "https" => "https",
        "http" => "http",
        _ => return None,
    };
    let a: http::uri::Authority = authority.parse().ok()?;
    if a.host().is_empty() || authority.contains('@') {
        return None;
    }
    let port = a
        .port_u16()
        .unwrap_or(if scheme == "https" { 443 } else { 80 });
    let host = a.host().trim_start_matches('[').trim_end_matches(']');
    Some(Target::new(scheme, host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(scheme: &'static str, host: &str, port: u16) -> Target {
        Target::new(scheme, host.into(), port)
    }

    #[test]
    fn via_paths_name_scheme_host_and_port() {
        let none = Routes::default();
        assert_eq!(
            resolve("/via/https/api.anthropic.com/v1/messages?beta=true", &none),
            Some((
                t("https", "api.anthropic.com", 443),
                "/v1/messages?beta=true".into()
            ))
        );
        assert_eq!(
            resolve("/via/http/127.0.0.1:11434/api/chat", &none),
            Some((t("http", "127.0.0.1", 11434), "/api/chat".into()))
        );
        assert_eq!(
            resolve("/via/https/[::1]:8443", &none),
            Some((t("https", "::1", 8443), "/".into()))
        );
        assert_eq!(
            resolve("/via/https/h?x=1", &none),
            Some((t("https", "h", 443), "/?x=1".into()))
        );
        for bad in [
            "/via/ftp/h/x",
            "/via/https/",
            "/via/https/u@h/x",
            "/via",
            "/llmspy/status",
            "/v1/messages",
        ] {
            assert_eq!(resolve(bad, &none), None, "{bad}");
        }
    }

    #[test]
    fn named_routes_keep_their_base_path() {
        let routes = Routes::parse(&[
            "anthropic=https://api.anthropic.com".into(),
            "openai=https://api.openai.com/v1/".into(),
        ])
        .unwrap();
        assert_eq!(
            resolve("/anthropic/v1/messages", &routes),
            Some((t("https", "api.anthropic.com", 443), "/v1/messages".into()))
        );
        assert_eq!(
            resolve("/openai/chat/completions?x=1", &routes),
            Some((
                t("https", "api.openai.com", 443),
                "/v1/chat/completions?x=1".into()
            ))
        );
        assert_eq!(
            resolve("/openai", &routes),
            Some((t("https", "api.openai.com", 443), "/v1".into()))
        );
        assert_eq!(resolve("/anthropicx/v1", &routes), None);
        assert_eq!(routes.names().collect::<Vec<_>>(), ["anthropic", "openai"]);
    }

    #[test]
    fn bad_routes_say_why() {
        let err = |s: &str| Routes::parse(&[s.to_string()]).unwrap_err();
        assert!(matches!(err("anthropic"), RouteError::Shape(_)));
        assert!(matches!(err("a/b=https://x"), RouteError::Name(_)));
        assert!(matches!(err("llmspy=https://x"), RouteError::Reserved(..)));
        assert!(matches!(err("x=ftp://h"), RouteError::Url(_)));
        assert!(matches!(err("x=https://"), RouteError::Url(_)));
    }
}
