//! JSON laid out for reading, independent of how serde_json stores maps:
//! bodies are re-indented from their text (keys stay in the order they were
//! sent, and a 1 MB body costs one pass, no value tree), and parsed values
//! are printed with sorted keys so the display never depends on a feature
//! flag.

use serde_json::{Map, Value};

const INDENT: &str = "  ";

/// `text` re-indented two spaces per level, when it is valid JSON.
///
/// Works on bytes: outside strings valid JSON is ASCII, and a string is
/// copied whole (no UTF-8 continuation byte is a quote or a backslash).
pub fn reindent(text: &str) -> Option<String> {
    serde_json::from_str::<serde::de::IgnoredAny>(text).ok()?;
    let bytes = text.trim().as_bytes();
    let mut out = Vec::with_capacity(text.len() + text.len() / 2);
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&c) = bytes.get(i) {
        i += 1;
        match c {
            b'"' => {
                let end = string_end(bytes, i);
                out.extend_from_slice(&bytes[i - 1..end]);
                i = end;
            }
            b'{' | b'[' => {
                out.push(c);
                let close = if c == b'{' { b'}' } else { b']' };
                while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
                    i += 1;
                }
                if bytes.get(i) == Some(&close) {
                    // Keep `{}` and `[]` on one line.
                    out.push(close);
                    i += 1;
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            b',' => {
                out.push(b',');
                newline(&mut out, depth);
            }
            b':' => out.extend_from_slice(b": "),
            c if c.is_ascii_whitespace() => {}
            c => out.push(c),
        }
    }
    String::from_utf8(out).ok()
}

fn newline(out: &mut Vec<u8>, depth: usize) {
    out.push(b'\n');
    for _ in 0..depth {
        out.extend_from_slice(INDENT.as_bytes());
    }
}

/// Where the string literal whose contents start at `from` ends (after its
/// closing quote), escapes skipped.
fn string_end(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    let special = |rest: &[u8]| rest.iter().position(|&b| b == b'"' || b == b'\\');
    while let Some(n) = bytes.get(i..).and_then(special) {
        i += n;
        if bytes[i] == b'"' {
            return i + 1;
        }
        i += 2;
    }
    bytes.len()
}

/// A value printed with sorted keys, two spaces per level.
pub fn pretty_sorted(value: &Value) -> String {
    serde_json::to_string_pretty(&sorted(value)).unwrap_or_default()
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let mut out = Map::new();
            for (k, v) in entries {
                out.insert(k.clone(), sorted(v));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reindent_keeps_key_order_strings_and_empty_containers() {
        let text = r#"{"z":1, "a":{"s":"x, {y}: \"q\"","e":[],"o":{}},"l":[1,2]}"#;
        let want = "{\n  \"z\": 1,\n  \"a\": {\n    \"s\": \"x, {y}: \\\"q\\\"\",\n    \
                    \"e\": [],\n    \"o\": {}\n  },\n  \"l\": [\n    1,\n    2\n  ]\n}";
        assert_eq!(reindent(text).as_deref(), Some(want));
        assert_eq!(reindent("{not json"), None);
    }

    #[test]
    fn values_print_with_sorted_keys() {
        let v: Value = serde_json::from_str(r#"{"b":1,"a":{"d":2,"c":3}}"#).unwrap();
        assert_eq!(
            pretty_sorted(&v),
            "{\n  \"a\": {\n    \"c\": 3,\n    \"d\": 2\n  },\n  \"b\": 1\n}"
        );
    }
}
