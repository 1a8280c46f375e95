//! `PUT /mockserver/verify` and `/verifySequence`, as a MockServer test
//! suite calls them at its end: 202 when the requests arrived, 406 saying
//! what was expected and what arrived, 400 for a description with a typo.

use serde_json::{Value, json};

use crate::mcp_server::{direct, proxy};
use crate::support::client::reqwest as proxied;
use crate::support::upstream::Upstream;

const QUERY_SECRET: &str = "AIzaVerifySecret0123456789";

async fn put(api: &::reqwest::Client, url: &str, body: Value) -> (u16, String) {
    let resp = api.put(url).json(&body).send().await.expect("put");
    (resp.status().as_u16(), resp.text().await.expect("text"))
}

#[tokio::test]
async fn verify_answers_as_mockserver_does() {
    let up = Upstream::start().await;
    let mut proxy = proxy(Some(&up)).await;
    let api = direct();
    let base = format!("{}/mockserver", proxy.url());
    let (status, _) = put(
        &api,
        &format!("{base}/expectation"),
        json!({"id": "hello", "httpRequest": {"path": "/mocked"}, "httpResponse": {"body": "m"}}),
    )
    .await;
    assert_eq!(status, 201);
    let client = proxied(&proxy.url(), &proxy.ca_file);
    for path in [
        format!("/plain?key={QUERY_SECRET}"),
        "/plain".into(),
        "/mocked".into(),
    ] {
        let resp = client.get(up.https(&path)).send().await.expect("send");
        assert_eq!(resp.status(), 200);
        resp.bytes().await.expect("body");
    }
    proxy.finished(3).await;
    let verify = format!("{base}/verify");
    let sequence = format!("{base}/verifySequence");

    for (body, want) in [
        (json!({"httpRequest": {"path": "/plain"}}), 202),
        (
            json!({"httpRequest": {"path": "/plain"}, "times": {"atLeast": 2, "atMost": 2}}),
            202,
        ),
        (
            json!({"httpRequest": {"path": "/plain"}, "times": {"atMost": 1}}),
            406,
        ),
        (
            json!({"httpRequest": {"path": "/nowhere"}, "times": {"atMost": 0}}),
            202,
        ),
        (json!({"expectationId": {"id": "hello"}}), 202),
        (
            json!({"expectationId": {"id": "hello"}, "times": {"atLeast": 2}}),
            406,
        ),
        (json!({"expectationId": {"id": "other"}}), 406),
    ] {
        let (status, text) = put(&api, &verify, body.clone()).await;
        assert_eq!(status, want, "{body}: {text}");
    }

    let (status, text) = put(
        &api,
        &verify,
        json!({"httpRequest": {"path": "/plain"}, "times": {"atLeast": 3}}),
    )
    .await;
    assert_eq!(status, 406);
    assert!(
        text.contains("Request not found at least 3 times (found 2 times)")
            && text.contains(r#"expected:<{"path":"/plain"}>"#)
            && text.contains("/plain?key=***REDACTED***"),
        "{text}"
    );
    assert!(!text.contains(QUERY_SECRET), "{text}");

    let (status, text) = put(
        &api,
        &sequence,
        json!({"httpRequests": [{"path": "/plain"}, {"path": "/plain"}, {"path": "/mocked"}]}),
    )
    .await;
    assert_eq!(status, 202, "{text}");
    let (status, text) = put(
        &api,
        &sequence,
        json!({"httpRequests": [{"path": "/mocked"}, {"path": "/plain"}]}),
    )
    .await;
    assert_eq!(status, 406, "{text}");
    assert!(text.starts_with("Request sequence not found"), "{text}");

    for (url, body, named) in [
        (&verify, json!({"httpRequest": {"pth": "/plain"}}), "pth"),
        (
            &verify,
            json!({"httpRequest": {}, "times": {"atLest": 1}}),
            "atLest",
        ),
        (
            &verify,
            json!({"httpRequest": {}, "times": {"atLeast": 2, "atMost": 1}}),
            "atLeast 2",
        ),
        (
            &verify,
            json!({"times": {"atLeast": 1}}),
            "missing httpRequest",
        ),
        (
            &sequence,
            json!({"httpRequests": [{"path": "/a"}, {"methd": "GET"}]}),
            "$.httpRequests[1]: ",
        ),
        // A `times` misplaced inside the id would pass whatever the count.
        (
            &verify,
            json!({"expectationId": {"id": "hello", "times": {"atLeast": 5}}}),
            "$.expectationId.times",
        ),
        (
            &sequence,
            json!({"expectationIds": [{"id": "hello", "id2": "x"}]}),
            "$.expectationIds[0].id2",
        ),
    ] {
        let (status, text) = put(&api, url, body.clone()).await;
        assert_eq!(status, 400, "{body}: {text}");
        assert!(text.contains(named), "{body}: {text}");
    }

    let resp = api.post(&verify).send().await.expect("post");
    assert_eq!(resp.status(), 405);
    let text = resp.text().await.expect("text");
    assert!(text.contains("use PUT for /mockserver/verify"), "{text}");

    let resp = api.put(format!("{base}/nope")).send().await.expect("put");
    assert_eq!(resp.status(), 404);
    let text = resp.text().await.expect("text");
    assert!(
        text.contains("/mockserver/nope")
            && text.contains("verify")
            && text.contains("expectation"),
        "{text}"
    );
}
