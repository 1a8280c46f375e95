//! Bedrock through the real relay: a SigV4-signed request reaches the
//! upstream exactly as signed, and a binary event-stream reply crosses
//! untouched and is captured whole.

use llmspy::eventstream;
use llmspy::exchange::{State, header};
use llmspy::redact;

use crate::support::proxy::TestProxy;
use crate::support::upstream::Upstream;

const SIGNED: [(&str, &str); 4] = [
    (
        "authorization",
        "AWS4-HMAC-SHA256 Credential=ASIAE2EEXAMPLE/20261120/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
    ),
    ("x-amz-date", "20261120T100000Z"),
    (
        "x-amz-security-token",
        "IQoJb3JpZ2luX2VjE2EEXAMPLESESSIONTOKEN",
    ),
    (
        "x-amz-content-sha256",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ),
];

fn frames() -> Vec<u8> {
    (0..3)
        .flat_map(|i| {
            eventstream::encode(
                &[(":event-type", "chunk"), (":message-type", "event")],
                format!("{{\"bytes\":\"e30=\",\"n\":{i}}}").as_bytes(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_signed_request_and_an_event_stream_cross_unchanged() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    // HTTP/1.1, as botocore speaks: the signed Host is a header.
    let pem = std::fs::read(&proxy.ca_file).expect("CA file");
    let client = reqwest::Client::builder()
        .proxy(reqwest::Proxy::all(proxy.url()).expect("proxy"))
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("CA PEM"))
        .tls_built_in_root_certs(false)
        .http1_only()
        .build()
        .expect("client");
    let body = frames();
    let mut req = client
        .post(up.https("/echo"))
        .header("content-type", "application/vnd.amazon.eventstream");
    for (name, value) in SIGNED {
        req = req.header(name, value);
    }
    let resp = req.body(body.clone()).send().await.expect("request");
    assert_eq!(resp.bytes().await.expect("body").as_ref(), &body[..]);

    let seen = &up.seen()[0];
    for (name, value) in SIGNED {
        assert_eq!(
            seen.headers.get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "{name} reached the upstream as signed"
        );
    }
    // Over HTTP/2 to the upstream the Host travels as :authority.
    if let Some(host) = seen.headers.get("host") {
        assert_eq!(host.to_str().ok(), Some(up.tls_addr.to_string().as_str()));
    }
    assert_eq!(seen.body.as_ref(), &body[..], "the signed body is kept");

    let ex = proxy.only().await;
    assert_eq!(ex.state, State::Complete);
    let captured = &ex.response.as_ref().expect("response").body.bytes;
    let (messages, pending) = eventstream::decode(captured);
    assert_eq!((messages.len(), pending), (3, 0));
    assert!(messages.iter().all(Result::is_ok));

    let masked = redact::redact(&ex).exchange;
    let h = &masked.request.headers;
    assert_eq!(
        header(h, "authorization"),
        Some(format!("AWS4-HMAC-SHA256 {}", redact::MASK).as_str())
    );
    assert_eq!(header(h, "x-amz-security-token"), Some(redact::MASK));
    assert_eq!(header(h, "x-amz-date"), Some("20261120T100000Z"));
}
