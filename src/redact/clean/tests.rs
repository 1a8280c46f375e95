use std::borrow::Cow;
use std::io::Write;

use super::could_name_a_secret;
use crate::exchange::Exchange;
use crate::redact::{masked, redact};

#[test]
fn every_spelling_of_a_secret_name_is_seen() {
    for text in [
        r#"{"api_key":"x"}"#,
        r#"{"apiKey":"x"}"#,
        r#"{"API-KEY":"x"}"#,
        r#"{"a_p_i_k_e_y":"x"}"#,
        "password=hunter2",
        "secretAccessKey",
        r#"{"api\u005fkey":"x"}"#,
        r#"{"\u0061pikey":"x"}"#,
        r#"{"x":{"deep":[{"client_secret":1}]}}"#,
    ] {
        assert!(could_name_a_secret(text.as_bytes()), "{text}");
    }
}

#[test]
fn other_text_is_not_suspected() {
    for text in [
        r#"{"max_tokens":1024,"model":"m","messages":[]}"#,
        "hello from nginx upstream\n",
        r#"{"keyword":"apikeys","my_api_key2":1,"input_tokens":3}"#,
        r#"{"text":"caf\u00e9 \u4e2d"}"#,
        "",
    ] {
        assert!(!could_name_a_secret(text.as_bytes()), "{text}");
    }
}

#[test]
fn a_run_longer_than_any_name_is_not_one() {
    assert!(!could_name_a_secret(b"secretaccesskeys"));
    assert!(!could_name_a_secret(b"xxsecretaccesskey"));
    assert!(could_name_a_secret(b"x secret_access_key"));
}

fn exchange(path: &str, headers: &[(&str, &str)], body: &str) -> Exchange {
    Exchange::builder()
        .path(path)
        .headers(headers.iter().copied())
        .body(body)
        .build()
}

#[test]
fn a_clean_exchange_is_not_copied_and_a_secret_one_is_masked() {
    let clean = Exchange::builder()
        .path("/v1/models?beta=true")
        .headers([
            ("content-type", "application/json"),
            ("user-agent", "sdk/1"),
        ])
        .body(r#"{"model":"m","max_tokens":10}"#)
        .response_headers([("content-type", "text/plain")])
        .response_body("hello from nginx upstream\n")
        .build();
    assert!(matches!(masked(&clean), Cow::Borrowed(_)));
    for secret in [
        exchange("/", &[("X-Api-Key", "sk-1")], ""),
        exchange("/?key=abc", &[], ""),
        exchange("/", &[], r#"{"apiKey":"sk-abcdefgh"}"#),
        exchange("/", &[("content-encoding", "gzip")], "not really gzip"),
    ] {
        assert!(matches!(masked(&secret), Cow::Owned(_)), "{secret:?}");
    }
}

/// Pieces of bodies: secret names in every spelling (escaped, nested, in
/// event-stream lines), their values repeated elsewhere, and text that
/// only looks like them.
const BODY_PIECES: [&str; 14] = [
    r#"{"api_key":"sk-secret-12345"}"#,
    r#"{"max_tokens":5,"model":"m"}"#,
    "data: {\"password\":\"hunter2hunter2\"}\n",
    r#"{"api\u005fkey":"zzzzzzzzzz"}"#,
    r#"{"nested":[{"client-secret":"abcdefghij"}]}"#,
    r#"{"text":"caf\u00e9"}"#,
    "plain text ",
    "\n",
    "key=value&apiKey=v&",
    "sk-secret-12345 Bearer-token-zz ",
    r#"{"input_tokens":3,"keyword":"apikeys"}"#,
    "data: [DONE]\n",
    "\u{e9}\u{ff}",
    r#"{"x":1}"#,
];
const HEADER_NAMES: [&str; 10] = [
    "Authorization",
    "x-api-key",
    "Cookie",
    "set-cookie",
    "X-Amz-Security-Token",
    "x-amz-date",
    "content-type",
    "content-encoding",
    "user-agent",
    "x-echo",
];
const HEADER_VALUES: [&str; 8] = [
    "Bearer-token-zz",
    "application/json",
    "application/x-www-form-urlencoded",
    "text/event-stream",
    "gzip",
    "identity",
    "sk-secret-12345",
    "x",
];
const QUERY_PAIRS: [&str; 7] = [
    "key=abcdefghijk",
    "q=1",
    "api%5Fkey=zzzzzzzzzz",
    "X-Amz-Signature=ff",
    "beta=true",
    "flag",
    "k=v",
];

fn pick<'a>(pool: &'a [&'a str], picks: &[usize]) -> Vec<&'a str> {
    picks.iter().map(|i| pool[i % pool.len()]).collect()
}

fn body_of(picks: &[usize], gzip: bool) -> Vec<u8> {
    let text = pick(&BODY_PIECES, picks).concat().into_bytes();
    if !gzip {
        return text;
    }
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&text).unwrap();
    enc.finish().unwrap()
}

fn headers_of(picks: &[(usize, usize)], gzip: bool) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = picks
        .iter()
        .map(|(n, v)| {
            (
                HEADER_NAMES[n % HEADER_NAMES.len()].to_string(),
                HEADER_VALUES[v % HEADER_VALUES.len()].to_string(),
            )
        })
        .collect();
    if gzip {
        headers.push(("content-encoding".into(), "gzip".into()));
    }
    headers
}

proptest::proptest! {
    // About one generated exchange in fifteen is clean: enough cases that
    // a few dozen of them are.
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1024))]

    /// What [`masked`] returns is exactly what [`redact`] makes, whether
    /// it found the exchange clean (and copied nothing) or not.
    #[test]
    fn masked_is_redaction_without_the_copy(
        query in proptest::collection::vec(0usize..100, 0..4),
        req_headers in proptest::collection::vec((0usize..100, 0usize..100), 0..4),
        req_body in proptest::collection::vec(0usize..100, 0..4),
        req_gzip in proptest::bool::weighted(0.1),
        response in proptest::option::of((
            proptest::collection::vec((0usize..100, 0usize..100), 0..4),
            proptest::collection::vec(0usize..100, 0..4),
            proptest::bool::weighted(0.1),
        )),
    ) {
        let path = if query.is_empty() {
            "/v1/p".to_string()
        } else {
            format!("/v1/p?{}", pick(&QUERY_PAIRS, &query).join("&"))
        };
        let mut builder = Exchange::builder()
            .path(path)
            .headers(headers_of(&req_headers, req_gzip))
            .body(body_of(&req_body, req_gzip));
        if let Some((headers, body, gzip)) = &response {
            builder = builder
                .response_headers(headers_of(headers, *gzip))
                .response_body(body_of(body, *gzip));
        }
        let ex = builder.build();
        let want = redact(&ex).exchange;
        let got = masked(&ex);
        proptest::prop_assert_eq!(got.as_ref(), &want);
    }
}
