//! Percent-encoding for query strings and header-style lists: one decoder
//! (with or without `+` as a space) and one encoder, for every module that
//! reads or writes them.

/// Decode `%XX` escapes and `+` (a query's space); malformed escapes are
/// kept as written.
pub fn percent_decode(s: &str) -> String {
    decode_escapes(s, true)
}

/// Decode `%XX` escapes only, keeping `+` (values that are not form-encoded,
/// such as `OTEL_EXPORTER_OTLP_HEADERS`, where `+` is often part of a key).
pub fn percent_decode_keep_plus(s: &str) -> String {
    decode_escapes(s, false)
}

/// `name=value` pairs of a query string in order, percent-decoded (`+` as
/// space); a name without `=` has an empty value.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn decode_escapes(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi * 16 + lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Encode a query value (everything but RFC 3986 unreserved characters),
/// for clients of the API such as `llmspy export`.
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
