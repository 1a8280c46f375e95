//! `name=value` pairs: a URL's query and a form body. Only the values of
//! secret names change; a query or body with none keeps its exact bytes.

use super::{Found, MASK, Part, is_secret_query};

pub(super) fn redact_path(path: &str, found: &mut Found) -> String {
    let Some((base, query)) = path.split_once('?') else {
        return path.to_string();
    };
    match redact_pairs(query, Part::Query, found, is_secret_query) {
        Some(q) => format!("{base}?{q}"),
        None => path.to_string(),
    }
}

/// Mask the values of secret `name=value` pairs in a query or form body;
/// `None` when nothing was secret, so the original bytes are kept.
pub(super) fn redact_pairs(
    text: &str,
    part: Part,
    found: &mut Found,
    secret: fn(&str) -> bool,
) -> Option<String> {
    let mut changed = false;
    let pairs: Vec<String> = text
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((n, v)) if v != MASK && secret(&crate::urlcodec::percent_decode(n)) => {
                changed = true;
                found.remember(v);
                found.remember(crate::urlcodec::percent_decode(v));
                found.add(part, crate::urlcodec::percent_decode(n));
                format!("{n}={MASK}")
            }
            _ => pair.to_string(),
        })
        .collect();
    changed.then(|| pairs.join("&"))
}
