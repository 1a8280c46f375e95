//! `name=value` pairs: a URL's query and a form body. Only the values of
//! secret names change; a query or body with none keeps its exact bytes.

use std::borrow::Cow;

use super::{Found, MASK, Part, is_secret_query};

pub(super) fn redact_path(path: &str, found: &mut Found) -> String {
    masked_path(path, MASK, found).into_owned()
}

/// `path` with each secret query parameter's value replaced by `mask`;
/// `path` itself when none is secret.
pub(super) fn masked_path<'a>(path: &'a str, mask: &str, found: &mut Found) -> Cow<'a, str> {
    let Some((base, query)) = path.split_once('?') else {
        return path.into();
    };
    match redact_pairs(query, Part::Query, found, is_secret_query, mask) {
        Some(q) => format!("{base}?{q}").into(),
        None => path.into(),
    }
}

/// Replace with `mask` the values of secret `name=value` pairs in a query
/// or form body; `None` when nothing was secret, so the original bytes are
/// kept.
pub(super) fn redact_pairs(
    text: &str,
    part: Part,
    found: &mut Found,
    secret: fn(&str) -> bool,
    mask: &str,
) -> Option<String> {
    let mut changed = false;
    let pairs: Vec<String> = text
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((n, v)) if v != mask && secret(&crate::urlcodec::percent_decode(n)) => {
                changed = true;
                found.remember(v);
                found.remember(crate::urlcodec::percent_decode(v));
                found.add(part, crate::urlcodec::percent_decode(n));
                format!("{n}={mask}")
            }
            _ => pair.to_string(),
        })
        .collect();
    changed.then(|| pairs.join("&"))
}
