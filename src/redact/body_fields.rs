//! Secret fields inside bodies: one JSON document, form fields, or a
//! stream of JSON lines (`data: {…}` SSE events, NDJSON).

use serde_json::Value;

use super::pairs::redact_pairs;
use super::{Found, MASK, Part, is_secret_field};
use crate::content;
use crate::exchange::{self, Body, Headers};

/// Mask the secret fields of a body, decoding it first when it is
/// content-encoded (the copy then loses its `Content-Encoding`, since its
/// body is now plain). A plain body without secrets keeps its bytes.
pub(super) fn redact_body(headers: &mut Headers, body: &mut Body, part: Part, found: &mut Found) {
    if body.bytes.is_empty() {
        return;
    }
    let decoded = content::decode(exchange::header(headers, "content-encoding"), &body.bytes);
    let was_encoded = decoded.applied.is_some();
    let plain = decoded.bytes.into_owned();
    let media = crate::content::media_type(headers).unwrap_or_default();
    let rewritten = std::str::from_utf8(&plain)
        .ok()
        .and_then(|text| redact_text(text, &media, part, found));
    if !was_encoded && rewritten.is_none() {
        return;
    }
    if was_encoded {
        headers.retain(|n, _| !n.eq_ignore_ascii_case("content-encoding"));
    }
    body.bytes = rewritten.map(String::into_bytes).unwrap_or(plain);
    if !body.truncated {
        body.wire_size = body.bytes.len() as u64;
        set_content_length(headers, body.bytes.len());
    }
}

/// Mask the secret fields of a cut stream's tail, line by line as its
/// body's. Its first line, cut at its start, is dropped (its newline
/// kept, so the events after it still read as events): a field there
/// could not be recognised.
pub(super) fn redact_tail(body: &mut Body, part: Part, found: &mut Found) {
    if body.tail.is_empty() {
        return;
    }
    let start = body
        .tail
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(body.tail.len());
    let text = String::from_utf8_lossy(&body.tail[start..]).into_owned();
    body.tail = redact_lines(&text, part, found)
        .unwrap_or(text)
        .into_bytes();
}

/// Keep a `Content-Length` header true to the rewritten body, so a replay
/// of the copy is framed correctly.
pub(super) fn set_content_length(headers: &mut Headers, len: usize) {
    headers.change_values(|name, _| {
        name.eq_ignore_ascii_case("content-length")
            .then(|| len.to_string())
    });
}

/// The body text with secret fields masked, or `None` when it held none
/// (the caller then keeps the original bytes untouched).
fn redact_text(text: &str, media: &str, part: Part, found: &mut Found) -> Option<String> {
    // A form is a query in a body: its secret names are a query's
    // (`token=` of an OAuth revocation, `key=`), which a JSON field named
    // `token` is not (a log-probability's token is text).
    if media == "application/x-www-form-urlencoded" {
        return redact_pairs(text.trim_end(), part, found, super::is_secret_query, MASK);
    }
    if let Ok(mut doc) = serde_json::from_str::<Value>(text) {
        if !redact_value(&mut doc, "", part, found) {
            return None;
        }
        // Keep the reader's layout choice: pretty stays pretty.
        let out = if text.contains('\n') {
            serde_json::to_string_pretty(&doc)
        } else {
            serde_json::to_string(&doc)
        };
        return out.ok();
    }
    redact_lines(text, part, found)
}

/// Line-wise: each `data: JSON` or bare JSON line is redacted on its own,
/// so events of a recorded stream keep their framing.
fn redact_lines(text: &str, part: Part, found: &mut Found) -> Option<String> {
    let mut changed = false;
    let mut out = String::with_capacity(text.len());
    for raw in text.split_inclusive('\n') {
        let body = raw.trim_end_matches(['\r', '\n']);
        let ending = &raw[body.len()..];
        let (prefix, json) = match body.strip_prefix("data:") {
            Some(rest) => {
                let trimmed = rest.trim_start();
                (&body[..body.len() - trimmed.len()], trimmed)
            }
            None => ("", body),
        };
        match redact_json_line(json, part, found) {
            Some(line) => {
                changed = true;
                out.push_str(prefix);
                out.push_str(&line);
            }
            None => out.push_str(body),
        }
        out.push_str(ending);
    }
    changed.then_some(out)
}

fn redact_json_line(line: &str, part: Part, found: &mut Found) -> Option<String> {
    if !line.starts_with('{') && !line.starts_with('[') {
        return None;
    }
    let mut doc: Value = serde_json::from_str(line).ok()?;
    if !redact_value(&mut doc, "", part, found) {
        return None;
    }
    serde_json::to_string(&doc).ok()
}

/// Mask secret scalar fields at any depth; true when something changed.
/// A secret-named field holding an object or array is searched, not
/// masked: a tool schema with a `password` property is not a password.
fn redact_value(value: &mut Value, path: &str, part: Part, found: &mut Found) -> bool {
    match value {
        Value::Object(map) => {
            let mut changed = false;
            for (key, v) in map.iter_mut() {
                let here = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                let scalar = matches!(v, Value::String(_) | Value::Number(_));
                if scalar && is_secret_field(key) && v.as_str() != Some(MASK) {
                    let old = std::mem::replace(v, Value::String(MASK.to_string()));
                    found.remember(old.as_str().map_or_else(|| old.to_string(), str::to_string));
                    found.add(part, here);
                    changed = true;
                } else {
                    changed |= redact_value(v, &here, part, found);
                }
            }
            changed
        }
        Value::Array(items) => {
            let mut changed = false;
            for (i, v) in items.iter_mut().enumerate() {
                changed |= redact_value(v, &format!("{path}[{i}]"), part, found);
            }
            changed
        }
        _ => false,
    }
}
