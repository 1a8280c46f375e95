//! Small, forgiving readers over `serde_json::Value`: a missing or
//! mistyped field is `None`, never an error, because provider payloads
//! vary and a capture may be cut anywhere.

use serde_json::Value;

use super::model::{Part, ToolCall};

pub(crate) fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

pub(crate) fn string_at(v: &Value, key: &str) -> Option<String> {
    str_at(v, key).map(str::to_string)
}

/// A string field that is present and not empty (Azure's first stream
/// chunk carries `"id": ""` and `"model": ""`).
pub(crate) fn nonempty_at(v: &Value, key: &str) -> Option<String> {
    str_at(v, key).filter(|s| !s.is_empty()).map(str::to_string)
}

pub(crate) fn u64_at(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(Value::as_u64)
}

pub(crate) fn f64_at(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

pub(crate) fn bool_at(v: &Value, key: &str) -> Option<bool> {
    v.get(key).and_then(Value::as_bool)
}

/// The array at `key`, or an empty slice.
pub(crate) fn array_at<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// First of several spellings of a field (camelCase and snake_case).
pub(crate) fn either<'a>(v: &'a Value, a: &str, b: &str) -> Option<&'a Value> {
    v.get(a).or_else(|| v.get(b))
}

/// A number or string id as text (JSON-RPC and some tool ids allow both).
pub(crate) fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Parse tool-call arguments sent as a JSON string. Invalid JSON (e.g. a
/// stream cut mid-way) is kept as the raw string; the flag says which.
pub(crate) fn parse_arguments(raw: &str) -> (Value, bool) {
    if raw.trim().is_empty() {
        return (Value::Object(serde_json::Map::new()), true);
    }
    match serde_json::from_str(raw) {
        Ok(v) => (v, true),
        Err(_) => (Value::String(raw.to_string()), false),
    }
}

/// Build a tool call from string arguments, noting invalid JSON.
pub(crate) fn tool_call(id: String, name: String, raw_args: &str) -> (ToolCall, bool) {
    let (arguments, ok) = parse_arguments(raw_args);
    (
        ToolCall {
            id,
            name,
            arguments,
        },
        ok,
    )
}

/// Approximate decoded size of base64 text.
pub(crate) fn base64_len(data: &str) -> u64 {
    let padding = data.bytes().rev().take_while(|b| *b == b'=').count() as u64;
    (data.len() as u64 / 4 * 3).saturating_sub(padding)
}

/// An image part from a URL, which may be a `data:` URL with inline bytes.
pub(crate) fn image_from_url(url: &str) -> Part {
    if let Some(rest) = url.strip_prefix("data:") {
        let (head, data) = rest.split_once(',').unwrap_or((rest, ""));
        let media_type = head.split(';').next().filter(|m| !m.is_empty());
        return Part::Image {
            media_type: media_type.map(str::to_string),
            bytes: Some(base64_len(data)),
            url: None,
        };
    }
    Part::Image {
        media_type: None,
        bytes: None,
        url: Some(url.to_string()),
    }
}

/// Text for a one-line summary: newlines shown as `⏎`, cut to `max` chars.
pub(crate) fn clip(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        out.push(if c == '\n' { '⏎' } else { c });
    }
    out
}

/// `"text"` quoted and clipped, for summaries.
pub(crate) fn quoted(text: &str) -> String {
    format!("\"{}\"", clip(text, 48))
}

/// Flatten content that may be a string or an array of text-bearing parts.
pub(crate) fn flatten_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(item_text).collect::<Vec<_>>().join("\n"),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn item_text(item: &Value) -> String {
    if let Some(text) = str_at(item, "text") {
        return text.to_string();
    }
    match str_at(item, "type") {
        Some(kind) => format!("[{kind}]"),
        None => item.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arguments_table() {
        let cases = [
            ("{\"a\":1}", json!({"a": 1}), true),
            ("", json!({}), true),
            ("{\"a\":", json!("{\"a\":"), false),
        ];
        for (raw, want, ok) in cases {
            assert_eq!(parse_arguments(raw), (want, ok), "{raw}");
        }
    }

    #[test]
    fn images_and_sizes() {
        assert_eq!(base64_len("aGVsbG8="), 5);
        assert_eq!(
            image_from_url("data:image/png;base64,aGVsbG8="),
            Part::Image {
                media_type: Some("image/png".into()),
                bytes: Some(5),
                url: None
            }
        );
        let Part::Image { url, .. } = image_from_url("https://x/y.png") else {
            panic!("image");
        };
        assert_eq!(url.as_deref(), Some("https://x/y.png"));
    }

    #[test]
    fn clip_and_flatten() {
        assert_eq!(clip("ab\ncd", 3), "ab⏎…");
        assert_eq!(clip("ab", 3), "ab");
        let v = json!([{"type": "text", "text": "a"}, {"type": "image"}]);
        assert_eq!(flatten_text(&v), "a\n[image]");
        assert_eq!(flatten_text(&json!("s")), "s");
    }
}
