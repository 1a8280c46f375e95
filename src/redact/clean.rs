//! Telling, without copying anything, that an exchange holds nothing
//! [`super::redact`] would change: no secret header, no secret query
//! parameter, no content-encoded body (which redaction decodes), and no
//! body text in which a secret field name could be spelled.
//!
//! Most exchanges through a busy proxy are of that kind (package
//! downloads, telemetry, the traffic of tools that carry no credentials),
//! and the history, `--save` and exports then write the exchange as it is
//! instead of a masked copy of every header and body. The test is
//! conservative: when it says "clean", redaction leaves the exchange
//! exactly as it was (the tests compare both on generated exchanges); when
//! it cannot tell, the exchange goes through redaction as before.

use super::names::{is_secret_field, is_secret_header, is_secret_query};
use crate::content;
use crate::exchange::{Body, Exchange, Headers};

/// True when redacting `ex` would change nothing.
pub(super) fn has_nothing_to_mask(ex: &Exchange) -> bool {
    let request = &ex.request;
    if !clean_headers(&request.headers)
        || !clean_headers(&request.body.trailers)
        || !clean_path(&request.path)
    {
        return false;
    }
    if let Some(response) = &ex.response
        && (!clean_headers(&response.headers) || !clean_headers(&response.body.trailers))
    {
        return false;
    }
    // Bodies last: the scans read every byte, the checks above only names.
    clean_body(&request.headers, &request.body)
        && ex
            .response
            .as_ref()
            .is_none_or(|r| clean_body(&r.headers, &r.body))
}

fn clean_headers(headers: &Headers) -> bool {
    !headers.iter().any(|(name, _)| is_secret_header(name))
}

/// True when `path` has no secret query parameter to mask. Mirrors
/// `pairs::redact_path`: names are compared percent-decoded.
pub(super) fn clean_path(path: &str) -> bool {
    let Some((_, query)) = path.split_once('?') else {
        return true;
    };
    !query.split('&').any(|pair| {
        pair.split_once('=')
            .is_some_and(|(name, _)| is_secret_query(&crate::urlcodec::percent_decode(name)))
    })
}

fn clean_body(headers: &Headers, body: &Body) -> bool {
    if body.bytes.is_empty() {
        return true;
    }
    // Redaction decodes an encoded body (and drops the header), so such a
    // body is never left as it was; nor is a form whose names may be
    // percent-encoded. Both are rare enough to leave to redaction.
    if content::is_encoded(crate::exchange::header(headers, "content-encoding"))
        || content::media_type_is(headers, "application/x-www-form-urlencoded")
    {
        return false;
    }
    !could_name_a_secret(&body.bytes) && !could_name_a_secret(&body.tail)
}

/// Whether `text` could hold a secret field's name, as a JSON key or a
/// form pair of it.
///
/// A name is secret when, lower-cased and with `_` and `-` dropped, it is
/// one of the secret field names ([`is_secret_field`]): so it is made of
/// ASCII letters, `_` and `-` only, and in the text it is a whole run of
/// those characters (quotes or `=`/`&` around it). Each such run is asked
/// about. A JSON escape can spell those characters too (`\u0061` is `a`):
/// any `\u00` followed by `2`–`7` (the range holding letters, `_` and `-`)
/// counts as a possible name.
fn could_name_a_secret(text: &[u8]) -> bool {
    let mut run_start = 0;
    for (i, &b) in text.iter().enumerate() {
        if b.is_ascii_alphabetic() || b == b'_' || b == b'-' {
            continue;
        }
        if names_a_secret(&text[run_start..i])
            || (b == b'\\' && escapes_a_name_character(&text[i + 1..]))
        {
            return true;
        }
        run_start = i + 1;
    }
    names_a_secret(&text[run_start..])
}

/// A run of letters, `_` and `-` (so ASCII) that is a secret field name.
fn names_a_secret(run: &[u8]) -> bool {
    // The shortest secret name (`apikey`) has six letters.
    run.len() >= 6 && std::str::from_utf8(run).is_ok_and(is_secret_field)
}

/// `rest` follows a backslash: `u00` and a digit from 2 to 7.
fn escapes_a_name_character(rest: &[u8]) -> bool {
    matches!(rest, [b'u', b'0', b'0', b'2'..=b'7', ..])
}

#[cfg(test)]
mod tests;
