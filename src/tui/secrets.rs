//! Which headers (and query parameters) carry secrets, and how they are
//! shown until revealed.

use super::strings;

/// Whether a header's value is masked in the UI and in copied curl
/// commands until the user reveals it: the same headers exports, the
/// history and `--save` mask (`crate::redact`).
pub fn is_secret(name: &str) -> bool {
    crate::redact::is_secret_header(name)
}

/// `ex` as the UI shows it: itself when revealed (or when it holds
/// nothing to mask), else with secret body fields, query parameters and
/// echoes masked as exports mask them. Headers are masked where they are
/// drawn ([`shown_value`]), which keeps an authorization's scheme.
pub fn shown_exchange(
    ex: &crate::exchange::Exchange,
    reveal: bool,
) -> std::borrow::Cow<'_, crate::exchange::Exchange> {
    match reveal {
        true => std::borrow::Cow::Borrowed(ex),
        false => crate::redact::masked(ex),
    }
}

/// The value to display: masked for secret headers unless `reveal`. An
/// authorization scheme (`Bearer`, `Basic`) stays visible: it is not secret
/// and tells the reader what kind of credential was sent.
pub fn shown_value(name: &str, value: &str, reveal: bool) -> String {
    if reveal || !is_secret(name) {
        return value.to_string();
    }
    let lower = name.to_ascii_lowercase();
    match value.split_once(' ') {
        Some((scheme, _)) if lower.ends_with("authorization") => {
            format!("{scheme} {}", strings::SECRET_MASK)
        }
        _ => strings::SECRET_MASK.to_string(),
    }
}

/// A request's path as shown: the values of secret query parameters
/// (`?key=`, as Gemini's API takes it) masked unless `reveal`, as secret
/// headers are.
pub fn shown_path(path: &str, reveal: bool) -> std::borrow::Cow<'_, str> {
    match reveal {
        true => path.into(),
        false => crate::redact::masked_path(path, strings::SECRET_MASK),
    }
}

/// A request's URL as shown: [`shown_path`] after the scheme and host.
pub fn shown_url(ex: &crate::exchange::Exchange, reveal: bool) -> String {
    match reveal {
        true => ex.url(),
        false => crate::redact::masked_url(ex, strings::SECRET_MASK),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_query_values_are_masked_until_revealed() {
        let path = "/v1beta/models/m:generateContent?alt=sse&key=AIza-1&api%5Fkey=x";
        let mask = strings::SECRET_MASK;
        assert_eq!(
            shown_path(path, false),
            format!("/v1beta/models/m:generateContent?alt=sse&key={mask}&api%5Fkey={mask}")
        );
        assert_eq!(shown_path(path, true), path);
        assert!(matches!(
            shown_path("/a?b=1", false),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn masks_secret_values_and_keeps_schemes() {
        assert_eq!(
            shown_value("Authorization", "Bearer sk-1", false),
            "Bearer ••••••••"
        );
        assert_eq!(shown_value("x-api-key", "sk-1", false), "••••••••");
        assert_eq!(shown_value("x-api-key", "sk-1", true), "sk-1");
        assert_eq!(shown_value("content-type", "a/b", false), "a/b");
        assert!(is_secret("Set-Cookie"));
    }
}
