//! Secrets outside the field that held them: copies in other parts,
//! AWS signatures, trailers.

use super::*;

#[test]
fn copies_of_a_secret_elsewhere_are_masked_too() {
    let ex = with_response(
        request(
            "/v1/search?q=llm&key=qk-query-secret-1",
            &[("authorization", "Bearer sk-header-secret-2")],
            r#"{"note":"my key is sk-header-secret-2","password":"hunter2-long-enough"}"#,
        ),
        &[("x-echo", "token sk-header-secret-2")],
        br#"{"url":"/v1/search?q=llm&key=qk-query-secret-1","seen":"hunter2-long-enough"}"#,
    );
    let r = redact(&ex);
    let all = format!(
        "{} {:?} {} {:?}",
        String::from_utf8_lossy(&r.exchange.request.body.bytes),
        r.exchange.response.as_ref().unwrap().headers,
        String::from_utf8_lossy(&r.exchange.response.as_ref().unwrap().body.bytes),
        r.exchange.request.path,
    );
    for secret in [
        "qk-query-secret-1",
        "sk-header-secret-2",
        "hunter2-long-enough",
    ] {
        assert!(!all.contains(secret), "{secret} left in {all}");
    }
    let labels = labels(&r.redactions);
    assert!(
        labels.contains(&"copy of a secret in response body".to_string()),
        "{labels:?}"
    );
    assert!(
        labels.contains(&"copy of a secret in response header x-echo".to_string()),
        "{labels:?}"
    );
    // A short value is not hunted for: it would garble unrelated text.
    let short = with_response(request("/x?key=1", &[], ""), &[], b"page 1 of 10");
    assert_eq!(
        redact(&short).exchange.response.unwrap().body.bytes,
        b"page 1 of 10".to_vec()
    );
}

#[test]
fn aws_sigv4_credentials_are_masked() {
    let auth = "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEKEY/20261120/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=0123456789abcdef";
    let ex = exchange(
        "/model/m/invoke?X-Amz-Credential=ASIAEXAMPLEKEY%2F20261120&X-Amz-Signature=feedface&X-Amz-Date=20261120T100000Z",
        &[
            ("authorization", auth),
            ("x-amz-security-token", "IQoJb3JpZ2luX2VjEXAMPLETOKEN"),
            ("x-amz-date", "20261120T100000Z"),
            ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
        ],
        "{}",
    );
    let r = redact(&ex);
    let h = &r.exchange.request.headers;
    let value = |i: usize| h.get(i).expect("kept").1;
    assert_eq!(value(0), format!("AWS4-HMAC-SHA256 {MASK}"));
    assert_eq!(value(1), MASK);
    assert_eq!(value(2), "20261120T100000Z", "the date is not a secret");
    assert_eq!(value(3), "UNSIGNED-PAYLOAD");
    let path = &r.exchange.request.path;
    assert!(
        !path.contains("ASIAEXAMPLEKEY") && !path.contains("feedface"),
        "{path}"
    );
    assert!(path.contains("X-Amz-Date=20261120T100000Z"), "{path}");
}

/// Trailers are masked as headers are, and a `grpc-message` quoting a
/// rejected key loses the key: `masked` (history, exports) sees them too.
#[test]
fn trailers_are_masked_and_their_echoes_too() {
    let mut ex = with_response(
        request(
            "/svc/Predict",
            &[("x-goog-api-key", "AIza-trailer-secret")],
            "",
        ),
        &[("content-type", "application/grpc")],
        b"",
    );
    ex.request
        .body
        .trailers
        .push("x-api-key", "sk-request-trailer");
    let trailers = &mut ex.response.as_mut().expect("response").body.trailers;
    trailers.push("grpc-status", "16");
    trailers.push("grpc-message", "key AIza-trailer-secret is not valid");
    let copy = masked(&ex);
    assert!(matches!(copy, std::borrow::Cow::Owned(_)));
    let shown = format!("{:?}", copy.into_owned());
    for secret in ["AIza-trailer-secret", "sk-request-trailer"] {
        assert!(!shown.contains(secret), "{secret} left in {shown}");
    }
    let labels = labels(&redact(&ex).redactions);
    for label in [
        "request trailer x-api-key",
        "copy of a secret in response trailer grpc-message",
    ] {
        assert!(labels.contains(&label.to_string()), "{labels:?}");
    }
    // With nothing secret in its head, a trailer alone makes the copy.
    let mut quiet = exchange("/", &[], "");
    quiet
        .request
        .body
        .trailers
        .push("authorization", "Bearer sk-x");
    assert!(matches!(masked(&quiet), std::borrow::Cow::Owned(_)));
}
