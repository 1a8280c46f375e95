//! Copies of a secret outside the field that held it: an upstream echoing
//! the URL, an error message quoting the key. Found by value, after every
//! named secret has been masked and remembered.

use super::body_fields::set_content_length;
use super::{Found, MASK, Part};
use crate::exchange::{Body, Exchange, Headers};

/// Values shorter than this are not hunted for elsewhere: masking every
/// `1` or `abc` would garble bodies, and such values guard nothing.
const MIN_ECHO_LEN: usize = 8;

/// Whether a secret of the request's head (a header's key, a `?key=`) is
/// quoted in either body, as text: a prompt pasting the key. Cheap enough
/// to ask before drawing (the head is copied, not the bodies).
pub(super) fn quotes_a_secret(ex: &Exchange) -> bool {
    let mut found = Found::new(ex.id);
    let mut headers = ex.request.headers.clone();
    super::headers::redact_headers(&mut headers, Part::RequestHeader, &mut found);
    let _ = super::pairs::redact_path(&ex.request.path, &mut found);
    let bodies = [
        Some(ex.request.body.bytes.as_slice()),
        ex.response.as_ref().map(|r| r.body.bytes.as_slice()),
    ];
    found
        .values
        .iter()
        .filter(|v| v.len() >= MIN_ECHO_LEN && *v != MASK)
        .any(|v| {
            bodies
                .iter()
                .flatten()
                .any(|b| memchr::memmem::find(b, v.as_bytes()).is_some())
        })
}

/// The secrets worth looking for elsewhere: long enough to mean
/// something, not already a mask, each once, longest first (so a secret
/// containing another is masked whole).
pub(super) fn worth_hunting(mut values: Vec<String>) -> Vec<String> {
    values.retain(|v| v.len() >= MIN_ECHO_LEN && v != MASK);
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    values.dedup();
    values
}

/// Mask verbatim copies of the secrets already found wherever else they
/// appear as text: response headers and trailers (a `grpc-message`
/// quoting a rejected key), and both bodies.
pub(super) fn mask_echoes(copy: &mut Exchange, found: &mut Found) {
    let values = worth_hunting(std::mem::take(&mut found.values));
    if values.is_empty() {
        return;
    }
    let scrub = |text: &str, place: &str, found: &mut Found| -> Option<String> {
        let hits: Vec<&String> = values
            .iter()
            .filter(|v| text.contains(v.as_str()))
            .collect();
        if hits.is_empty() {
            return None;
        }
        found.add(Part::Echo, place);
        Some(
            hits.iter()
                .fold(text.to_string(), |t, v| t.replace(v.as_str(), MASK)),
        )
    };
    if let Some(text) = std::str::from_utf8(&copy.request.body.bytes)
        .ok()
        .and_then(|t| scrub(t, "request body", found))
    {
        replace_body(&mut copy.request.headers, &mut copy.request.body, text);
    }
    if let Some(resp) = copy.response.as_mut() {
        resp.headers.change_values(|name, value| {
            scrub(
                value,
                &format!("response header {}", name.to_ascii_lowercase()),
                found,
            )
        });
        resp.body.trailers.change_values(|name, value| {
            scrub(
                value,
                &format!("response trailer {}", name.to_ascii_lowercase()),
                found,
            )
        });
        if let Some(text) = std::str::from_utf8(&resp.body.bytes)
            .ok()
            .and_then(|t| scrub(t, "response body", found))
        {
            replace_body(&mut resp.headers, &mut resp.body, text);
        }
        if let Some(text) = std::str::from_utf8(&resp.body.tail)
            .ok()
            .and_then(|t| scrub(t, "response body", found))
        {
            resp.body.tail = text.into_bytes();
        }
    }
}

fn replace_body(headers: &mut Headers, body: &mut Body, text: String) {
    body.bytes = text.into_bytes();
    if !body.truncated {
        body.wire_size = body.bytes.len() as u64;
        set_content_length(headers, body.bytes.len());
    }
}
