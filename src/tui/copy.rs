//! What `y` copies: bodies as text, the request as a curl command, the URL.
//! Pure builders; the clipboard itself is in `clipboard.rs`.

use crate::content;
use crate::exchange::{Body, Exchange, Headers, header};

use super::secrets;

/// A body, content-decoded, if it is text.
pub fn body_text(headers: &Headers, body: &Body) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    let decoded = content::decode(header(headers, "content-encoding"), &body.bytes);
    String::from_utf8(decoded.bytes.into_owned()).ok()
}

pub fn response_body(ex: &Exchange) -> Option<String> {
    ex.response
        .as_ref()
        .and_then(|r| body_text(&r.headers, &r.body))
}

pub fn request_body(ex: &Exchange) -> Option<String> {
    body_text(&ex.request.headers, &ex.request.body)
}

/// Headers curl computes itself or that would be wrong on replay.
const CURL_SKIP: [&str; 5] = [
    "content-length",
    "host",
    "connection",
    "transfer-encoding",
    "accept-encoding",
];

/// The request as a curl command. Secrets (headers, query parameters,
/// body fields) stay masked unless `reveal`, as the Raw tab shows them, so
/// a pasted command never leaks a key by accident.
pub fn curl(ex: &Exchange, reveal: bool) -> String {
    let shown = secrets::shown_exchange(ex, reveal);
    let r = &ex.request;
    let mut parts = vec!["curl".to_string()];
    if r.method != "GET" || !r.body.is_empty() {
        parts.push(format!("-X {}", r.method));
    }
    parts.push(quote(&secrets::shown_url(ex, reveal)));
    for (name, value) in &r.headers {
        let lower = name.to_ascii_lowercase();
        if CURL_SKIP.contains(&lower.as_str()) || name.starts_with(':') {
            continue;
        }
        let value = secrets::shown_value(name, value, reveal);
        parts.push(format!("-H {}", quote(&format!("{name}: {value}"))));
    }
    if let Some(body) = request_body(&shown) {
        parts.push(format!("--data-raw {}", quote(&body)));
    }
    parts.join(" \\\n  ")
}

/// Quote for a POSIX shell: single quotes, with `'` written as `'\''`.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::*;

    fn post() -> Exchange {
        Exchange::builder()
            .path("/v1/x")
            .version("HTTP/2")
            .header("x-api-key", "sk-123")
            .header("content-length", "9")
            .header("content-type", "application/json")
            .body(&b"{\"a\":\"it's\"}"[..])
            .state(State::InFlight)
            .build()
    }

    #[test]
    fn curl_masks_secrets_and_quotes() {
        let masked = curl(&post(), false);
        assert_eq!(
            masked,
            "curl \\\n  -X POST \\\n  'https://api.example.com/v1/x' \\\n  \
             -H 'x-api-key: ••••••••' \\\n  -H 'content-type: application/json' \\\n  \
             --data-raw '{\"a\":\"it'\\''s\"}'"
        );
        assert!(curl(&post(), true).contains("x-api-key: sk-123"));
    }

    #[test]
    fn curl_masks_query_keys_body_fields_and_aws_tokens_until_revealed() {
        let ex = Exchange::builder()
            .path("/v1/m?key=AIzaSECRET&alt=sse")
            .header("x-amz-security-token", "session-secret")
            .header("content-type", "application/json")
            .body(&b"{\"api_key\":\"BODYSECRET\",\"q\":1}"[..])
            .state(State::InFlight)
            .build();
        let masked = curl(&ex, false);
        for secret in ["AIzaSECRET", "session-secret", "BODYSECRET"] {
            assert!(!masked.contains(secret), "{secret}: {masked}");
        }
        assert!(masked.contains("key=••••••••&alt=sse"), "{masked}");
        let revealed = curl(&ex, true);
        for secret in ["AIzaSECRET", "session-secret", "BODYSECRET"] {
            assert!(revealed.contains(secret), "{secret}: {revealed}");
        }
    }
}
