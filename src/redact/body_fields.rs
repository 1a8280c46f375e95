//! Secret fields inside bodies: one JSON document, form fields, or a
//! stream of JSON lines (`data: {…}` SSE events, NDJSON).

use serde_json::Value;

use super::{Found, MASK, Part, is_secret_field, redact_pairs};

/// The body text with secret fields masked, or `None` when it held none
/// (the caller then keeps the original bytes untouched).
pub(super) fn redact_text(
    text: &str,
    media: &str,
    part: Part,
    found: &mut Found,
) -> Option<String> {
    if media == "application/x-www-form-urlencoded" {
        return redact_pairs(text.trim_end(), part, found, is_secret_field);
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
