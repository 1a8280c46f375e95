//! Secret headers masked so their shape survives: an authorization scheme
//! (`Bearer`), cookie names and `Set-Cookie` attributes stay, so a reader
//! still sees what kind of credential went where and a replay still sends
//! the same headers.

use super::{Found, MASK, Part, is_secret_header};
use crate::exchange::Headers;

pub(super) fn redact_headers(headers: &mut Headers, part: Part, found: &mut Found) {
    headers.change_values(|name, value| {
        if !is_secret_header(name) || value.ends_with(MASK) {
            return None;
        }
        remember_credential(name, value, found);
        found.add(part, name.to_ascii_lowercase());
        Some(if name.eq_ignore_ascii_case("cookie") {
            mask_cookies(value)
        } else if name.eq_ignore_ascii_case("set-cookie") {
            mask_set_cookie(value)
        } else if name.to_ascii_lowercase().ends_with("authorization") {
            mask_credentials(value)
        } else {
            MASK.to_string()
        })
    });
}

/// Remember a header's secret part: each cookie's value (only the first
/// pair of a `Set-Cookie`; the rest are attributes), the token after an
/// auth scheme, or the whole value.
fn remember_credential(name: &str, value: &str, found: &mut Found) {
    let pairs: Vec<&str> = if name.eq_ignore_ascii_case("cookie") {
        value.split(';').collect()
    } else if name.eq_ignore_ascii_case("set-cookie") {
        value.split(';').take(1).collect()
    } else {
        found.remember(value);
        if let Some((_, token)) = value.split_once(' ') {
            found.remember(token.trim());
        }
        return;
    };
    for pair in pairs {
        if let Some((_, v)) = pair.split_once('=') {
            found.remember(v.trim());
        }
    }
}

/// `Bearer sk-…` → `Bearer ***REDACTED***`: the scheme is not secret and
/// tells a reader (and the OpenAPI export) what kind of credential it was.
fn mask_credentials(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, _))
            if !scheme.is_empty()
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            format!("{scheme} {MASK}")
        }
        _ => MASK.to_string(),
    }
}

/// `a=1; b=2` → `a=***; b=***`: cookie names stay, so a reader still sees
/// which cookies were sent.
fn mask_cookies(value: &str) -> String {
    value
        .split(';')
        .map(|c| match c.trim().split_once('=') {
            Some((n, _)) => format!("{n}={MASK}"),
            None => MASK.to_string(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `sid=abc; Path=/; HttpOnly` → `sid=***; Path=/; HttpOnly`.
fn mask_set_cookie(value: &str) -> String {
    let (first, attrs) = match value.split_once(';') {
        Some((f, a)) => (f, Some(a)),
        None => (value, None),
    };
    let masked = match first.split_once('=') {
        Some((n, _)) => format!("{}={MASK}", n.trim()),
        None => MASK.to_string(),
    };
    match attrs {
        Some(a) => format!("{masked};{a}"),
        None => masked,
    }
}
