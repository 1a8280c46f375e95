use std::io::Write;

use super::*;
use crate::exchange::{self, ExchangeBuilder};

mod elsewhere;

fn request(path: &str, req_headers: &[(&str, &str)], req_body: &str) -> ExchangeBuilder {
    Exchange::builder()
        .path(path)
        .headers(req_headers.iter().copied())
        .body(req_body)
}

fn exchange(path: &str, req_headers: &[(&str, &str)], req_body: &str) -> Exchange {
    request(path, req_headers, req_body).build()
}

fn with_response(request: ExchangeBuilder, headers: &[(&str, &str)], body: &[u8]) -> Exchange {
    request
        .response_headers(headers.iter().copied())
        .response_body(body)
        .build()
}

/// Bodies compared as JSON: key order depends on serde_json's features.
fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap()
}

#[test]
fn secret_headers_are_masked_and_kept_present() {
    let cases: [(&str, &str, &str); 14] = [
        ("Authorization", "Bearer sk-1", "Bearer ***REDACTED***"),
        // Gateways' and clouds' own key headers.
        ("x-portkey-api-key", "pk-1", MASK),
        ("Ocp-Apim-Subscription-Key", "azure-apim", MASK),
        ("x-auth-token", "t-1", MASK),
        ("x-litellm-apikey", "sk-lite", MASK),
        // Not a credential, though it ends in a word that could be.
        ("x-request-id", "req-1", "req-1"),
        ("authorization", "sk-no-scheme", MASK),
        ("x-api-key", "sk-ant-1", MASK),
        ("api-key", "azure", MASK),
        ("x-goog-api-key", "AIza", MASK),
        ("Proxy-Authorization", "Basic eA==", "Basic ***REDACTED***"),
        (
            "Cookie",
            "sid=1; theme=dark",
            "sid=***REDACTED***; theme=***REDACTED***",
        ),
        ("user-agent", "sdk/1.0", "sdk/1.0"),
        ("content-type", "application/json", "application/json"),
    ];
    for (name, value, want) in cases {
        let r = redact(&exchange("/", &[(name, value)], ""));
        let got = r.exchange.request.headers.get(0).expect("kept");
        assert_eq!(got, (name, want), "{name}");
        let expected = usize::from(want != value);
        assert_eq!(r.redactions.len(), expected, "{name}");
    }
}

#[test]
fn set_cookie_keeps_name_and_attributes() {
    let ex = with_response(
        request("/", &[], ""),
        &[("Set-Cookie", "sid=abc; Path=/; HttpOnly")],
        b"",
    );
    let r = redact(&ex);
    let resp = r.exchange.response.unwrap();
    assert_eq!(
        resp.headers.get(0).expect("kept").1,
        "sid=***REDACTED***; Path=/; HttpOnly"
    );
    assert_eq!(r.redactions[0].label(), "response header set-cookie");
}

#[test]
fn query_parameters() {
    let cases = [
        (
            "/v1/models/m:generateContent?key=AIza&alt=sse",
            "/v1/models/m:generateContent?key=***REDACTED***&alt=sse",
            1,
        ),
        (
            "/x?access_token=t&api%5Fkey=k",
            "/x?access_token=***REDACTED***&api%5Fkey=***REDACTED***",
            2,
        ),
        (
            "/blob?sv=2024&sig=abc%3D&page=1&token=t1",
            "/blob?sv=2024&sig=***REDACTED***&page=1&token=***REDACTED***",
            2,
        ),
        (
            "/x?keys=1&monkey=2&tokens=5",
            "/x?keys=1&monkey=2&tokens=5",
            0,
        ),
        ("/x", "/x", 0),
    ];
    for (path, want, n) in cases {
        let r = redact(&exchange(path, &[], ""));
        assert_eq!(r.exchange.request.path, want);
        assert_eq!(r.redactions.len(), n, "{path}");
        assert!(r.redactions.iter().all(|x| x.part == Part::Query));
    }
}

#[test]
fn json_body_fields_at_any_depth() {
    let cases = [
        (
            r#"{"api_key":"k","model":"m"}"#,
            r#"{"api_key":"***REDACTED***","model":"m"}"#,
            vec!["api_key"],
        ),
        (
            r#"{"auth":{"clientSecret":"s","refresh_token":"r"},"list":[{"password":"p"}]}"#,
            r#"{"auth":{"clientSecret":"***REDACTED***","refresh_token":"***REDACTED***"},"list":[{"password":"***REDACTED***"}]}"#,
            vec![
                "auth.clientSecret",
                "auth.refresh_token",
                "list[0].password",
            ],
        ),
        // A tool schema property named `password` is a schema, not a secret.
        (
            r#"{"properties":{"password":{"type":"string"}}}"#,
            r#"{"properties":{"password":{"type":"string"}}}"#,
            vec![],
        ),
        (
            r#"{"max_tokens":5,"token":"Hi"}"#,
            r#"{"max_tokens":5,"token":"Hi"}"#,
            vec![],
        ),
    ];
    for (body, want, names) in cases {
        let ex = exchange("/", &[("content-type", "application/json")], body);
        let r = redact(&ex);
        assert_eq!(
            String::from_utf8_lossy(&r.exchange.request.body.bytes),
            want
        );
        let got: Vec<&str> = r.redactions.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(got, names);
    }
}

#[test]
fn unchanged_bodies_keep_their_exact_bytes() {
    let body = "{ \"model\" :  \"m\" }";
    let r = redact(&exchange("/", &[], body));
    assert_eq!(r.exchange.request.body.bytes, body.as_bytes());
}

#[test]
fn form_bodies_and_event_streams() {
    let form = exchange(
        "/oauth/token",
        &[("content-type", "application/x-www-form-urlencoded")],
        "grant_type=refresh_token&refresh_token=abc&client_secret=s",
    );
    let r = redact(&form);
    assert_eq!(
        String::from_utf8_lossy(&r.exchange.request.body.bytes),
        "grant_type=refresh_token&refresh_token=***REDACTED***&client_secret=***REDACTED***"
    );
    // A form's `token=` (an OAuth revocation) is a secret as in a query;
    // a JSON `token` field is not (a log-probability's text).
    let revoke = exchange(
        "/oauth/revoke",
        &[("content-type", "application/x-www-form-urlencoded")],
        "token=tok-form-123&token_type_hint=access_token",
    );
    assert_eq!(
        String::from_utf8_lossy(&redact(&revoke).exchange.request.body.bytes),
        "token=***REDACTED***&token_type_hint=access_token"
    );
    let logprobs = exchange("/v1/chat", &[], r#"{"token":"Hello","logprob":-0.1}"#);
    assert_eq!(
        redact(&logprobs).exchange.request.body.bytes,
        br#"{"token":"Hello","logprob":-0.1}"#
    );

    let sse = "event: x\ndata: {\"access_token\":\"t\"}\n\ndata: [DONE]\n\n";
    let ex = with_response(
        request("/", &[], ""),
        &[("content-type", "text/event-stream")],
        sse.as_bytes(),
    );
    let r = redact(&ex);
    let body = r.exchange.response.unwrap().body.bytes;
    assert_eq!(
        String::from_utf8_lossy(&body),
        "event: x\ndata: {\"access_token\":\"***REDACTED***\"}\n\ndata: [DONE]\n\n"
    );
    assert_eq!(r.redactions[0].part, Part::ResponseBody);
}

#[test]
fn encoded_bodies_are_decoded_and_lose_the_encoding_header() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(br#"{"password":"p","ok":true}"#).unwrap();
    let gz = gz.finish().unwrap();
    let ex = with_response(
        request("/", &[], ""),
        &[
            ("content-type", "application/json"),
            ("content-encoding", "gzip"),
            ("content-length", &gz.len().to_string()),
        ],
        &gz,
    );
    let r = redact(&ex);
    let resp = r.exchange.response.unwrap();
    let plain = r#"{"password":"***REDACTED***","ok":true}"#;
    assert_eq!(json(&resp.body.bytes), json(plain.as_bytes()));
    assert_eq!(exchange::header(&resp.headers, "content-encoding"), None);
    assert_eq!(
        exchange::header(&resp.headers, "content-length"),
        Some(plain.len().to_string().as_str())
    );
    assert_eq!(resp.body.wire_size, plain.len() as u64);
}

#[test]
fn redacting_twice_finds_nothing_new() {
    let ex = exchange(
        "/x?key=1",
        &[("authorization", "Bearer x")],
        r#"{"api_key":"k"}"#,
    );
    let once = redact(&ex);
    assert_eq!(once.redactions.len(), 3);
    let twice = redact(&once.exchange);
    assert!(twice.redactions.is_empty());
    assert_eq!(twice.exchange, once.exchange);
}

#[test]
fn redact_all_collects_in_order() {
    let a = exchange("/?key=1", &[], "");
    let mut b = exchange("/", &[("x-api-key", "k")], "");
    b.id = 2;
    let (out, all) = redact_all(&[a, b]);
    assert_eq!(out.len(), 2);
    let labels: Vec<(u64, String)> = all.iter().map(|r| (r.exchange, r.label())).collect();
    assert_eq!(
        labels,
        vec![
            (1, "query parameter key".to_string()),
            (2, "request header x-api-key".to_string())
        ]
    );
    let mut twice = all.clone();
    twice.extend(all);
    assert_eq!(
        super::labels(&twice),
        ["query parameter key", "request header x-api-key"]
    );
}

proptest::proptest! {
    /// Any body, query or header value: redaction never panics, and a
    /// second pass finds nothing more to mask.
    #[test]
    fn redaction_is_total_and_idempotent(
        body in ".{0,200}",
        query in "[a-z_=&%0-9]{0,40}",
        media in proptest::sample::select(vec![
            "application/json", "text/event-stream", "application/x-www-form-urlencoded", "text/plain",
        ]),
    ) {
        let ex = exchange(&format!("/p?{query}"), &[("content-type", media), ("cookie", &body)], &body);
        let once = redact(&ex);
        let twice = redact(&once.exchange);
        proptest::prop_assert!(twice.redactions.is_empty(), "{:?}", twice.redactions);
        proptest::prop_assert_eq!(twice.exchange, once.exchange);
    }

    #[test]
    fn secret_json_values_never_survive(secret in "[A-Za-z0-9]{8,20}", depth in 0usize..4) {
        let mut doc = serde_json::json!({ "api_key": secret.clone() });
        for _ in 0..depth {
            doc = serde_json::json!({ "wrap": [doc] });
        }
        let ex = exchange("/", &[("content-type", "application/json")], &doc.to_string());
        let body = redact(&ex).exchange.request.body.bytes;
        proptest::prop_assert!(!String::from_utf8_lossy(&body).contains(&secret));
    }
}
