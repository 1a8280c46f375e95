//! Mock expectations end to end: a real TLS upstream, llmspy in-process
//! with an expectation store as its responder, and reqwest as the client.

mod llm;

use std::sync::Arc;

use llmspy::exchange::Source;
use llmspy::mock::Expectations;
use serde_json::{Value, json};

use crate::support::client::reqwest;
use crate::support::proxy::{Options, TestProxy};
use crate::support::upstream::Upstream;

/// A proxy whose responder is `mock`, in front of `up`.
pub async fn proxy_with(mock: &Expectations, up: Option<&Upstream>) -> TestProxy {
    TestProxy::with(Options {
        upstream_ca: up.map(|u| vec![u.ca_file.clone()]).unwrap_or_default(),
        responder: Some(Arc::new(mock.clone())),
        ..Options::default()
    })
    .await
}

fn mocked_by(ex: &llmspy::exchange::Exchange) -> Option<String> {
    match &ex.source {
        Source::Mock { expectation_id } => Some(expectation_id.clone()),
        Source::Upstream => None,
    }
}

/// An expectation answering a HEAD, or answering 204 or 304, sends its
/// head alone whatever body it names (over HTTP/2 a body would be a
/// protocol error), over either protocol, and the exchange is complete
/// with no body.
#[tokio::test]
async fn a_mocked_answer_without_content_is_its_head_alone() {
    let up = Upstream::start().await;
    let mock = Expectations::new();
    mock.upsert_json(&json!([
        {"id": "head", "httpRequest": {"path": "/probe"},
         "httpResponse": {"statusCode": 203, "headers": {"x-mock": ["yes"]}, "body": "not sent"}},
        {"id": "204", "httpRequest": {"path": "/none"},
         "httpResponse": {"statusCode": 204, "headers": {"x-mock": ["yes"]}, "body": "not sent"}},
        {"id": "304", "httpRequest": {"path": "/same"},
         "httpResponse": {"statusCode": 304, "headers": {"x-mock": ["yes"]}, "body": "not sent"}},
    ]))
    .expect("expectations");
    let mut proxy = proxy_with(&mock, Some(&up)).await;
    let asks = [
        ("/probe", "--head", " 203"),
        ("/none", "-i", " 204"),
        ("/same", "-i", " 304"),
    ];
    for version in ["--http1.1", "--http2"] {
        for (path, how, status) in asks {
            let out = crate::support::client::curl(
                &proxy.url(),
                &proxy.ca_file,
                &up.https(path),
                &[version, how],
            )
            .await;
            let got = String::from_utf8_lossy(&out.stdout).to_lowercase();
            let said = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{version} {path}: {said}");
            assert!(got.contains(status) && got.contains("x-mock: yes"), "{got}");
            assert!(!got.contains("not sent"), "{version} {path}: {got}");
        }
    }
    let done = proxy.finished(6).await;
    for ex in &done {
        assert!(mocked_by(ex).is_some());
        assert_eq!(
            ex.state,
            llmspy::exchange::State::Complete,
            "{:?}",
            ex.state
        );
        let body = &ex.response.as_ref().expect("response").body;
        assert!(body.bytes.is_empty(), "{body:?}");
    }
    assert!(up.seen().is_empty(), "nothing went upstream");
}

/// A gRPC call recorded as a fixture replays with its trailers (llmspy's
/// `trailers` beside `headers`): the status a gRPC client reads comes back,
/// and the replayed exchange is captured with it, the upstream gone.
#[tokio::test]
async fn a_recorded_grpc_call_replays_with_its_trailers() {
    let up = Upstream::start().await;
    let grpc_call = |proxy: &TestProxy, url: String| {
        let (proxy_url, ca) = (proxy.url(), proxy.ca_file.clone());
        async move {
            crate::support::client::curl_heads_and_trailers(&proxy_url, &ca, &url, "--http2").await
        }
    };
    let mut recording = TestProxy::start(&up.ca_file).await;
    let live = grpc_call(&recording, up.https("/grpc")).await;
    assert!(live.contains("grpc-status: 5"), "{live}");
    let fixture = llmspy::mock::fixtures::record(&recording.finished(1).await, &Default::default());
    let response = &fixture.doc["expectations"][0]["httpResponse"];
    assert_eq!(
        response["trailers"]["grpc-status"],
        json!(["5"]),
        "{response}"
    );

    let mock = Expectations::new();
    mock.upsert_json(&fixture.doc["expectations"])
        .expect("the fixture loads");
    let mut replaying = proxy_with(&mock, None).await;
    let replayed = grpc_call(&replaying, up.https("/grpc")).await;
    drop(up);
    for field in ["grpc-status: 5", "grpc-message: no model %22x%22"] {
        assert!(replayed.contains(field), "{field}: {replayed}");
    }
    let done = replaying.finished(1).await;
    let r = done[0].response.as_ref().expect("response");
    assert!(mocked_by(&done[0]).is_some());
    assert_eq!(r.body.bytes, b"\0\0\0\0\x02hi");
    assert_eq!(r.grpc_status().expect("status").code, 5);
}

#[tokio::test]
async fn matching_requests_are_answered_and_the_rest_forwarded() {
    let up = Upstream::start().await;
    let mock = Expectations::new();
    mock.upsert_json(&json!([
        {"id": "twice", "priority": 10, "times": {"remainingTimes": 2},
         "httpRequest": {"method": "POST", "path": "/echo",
            "body": {"type": "JSON_PATH", "jsonPath": "$.messages[?(@.role == 'user')]"}},
         "httpResponse": {"statusCode": 201, "headers": {"x-mock": ["yes"]}, "body": {"type": "JSON", "json": {"mocked": 1}}}},
        {"id": "fallback", "httpRequest": {"path": "/echo", "body": {"type": "JSON", "json": {"n": 1}}},
         "httpResponse": {"body": "fallback"}},
    ]))
    .expect("expectations");
    let mut proxy = proxy_with(&mock, Some(&up)).await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    let body = json!({"n": 1, "messages": [{"role": "user", "content": "hi"}]});
    let mut got = Vec::new();
    for _ in 0..3 {
        let r = client
            .post(up.https("/echo"))
            .json(&body)
            .send()
            .await
            .expect("send");
        got.push((r.status().as_u16(), r.text().await.expect("text")));
    }
    let forwarded = client
        .post(up.https("/echo"))
        .body("plain")
        .send()
        .await
        .expect("send");
    assert_eq!(forwarded.text().await.expect("text"), "plain");
    assert_eq!(got[0], (201, r#"{"mocked":1}"#.to_string()));
    assert_eq!(got[1].0, 201);
    assert_eq!(
        got[2],
        (200, "fallback".to_string()),
        "after two uses the next expectation answers"
    );
    assert_eq!(
        up.seen().len(),
        1,
        "only the unmatched request went upstream"
    );
    let done = proxy.finished(4).await;
    let ids: Vec<Option<String>> = done.iter().map(mocked_by).collect();
    assert_eq!(
        ids,
        [
            Some("twice".into()),
            Some("twice".into()),
            Some("fallback".into()),
            None
        ]
    );
}

#[tokio::test]
async fn sse_responses_replay_event_by_event_with_their_delays() {
    let mock = Expectations::new();
    let delay = |ms: u64| json!({"timeUnit": "MILLISECONDS", "value": ms});
    mock.upsert_json(
        &json!({"httpRequest": {"path": "/stream"}, "httpSseResponse": {"events": [
            {"event": "start", "data": "one", "id": "1", "delay": delay(0)},
            {"data": "two", "retry": 500, "delay": delay(120)},
            {"event": "end", "data": "three", "delay": delay(120)},
        ]}}),
    )
    .expect("sse");
    let mut proxy = proxy_with(&mock, None).await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    // Nothing listens on port 9: the answer can only come from llmspy.
    let resp = client
        .get("https://127.0.0.1:9/stream")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let text = resp.text().await.expect("text");
    assert_eq!(
        text,
        "event: start\nid: 1\ndata: one\n\nretry: 500\ndata: two\n\nevent: end\ndata: three\n\n"
    );
    let ex = proxy.only().await;
    assert_eq!(ex.chunks.len(), 3);
    for pair in ex.chunks.windows(2) {
        let gap = pair[1].at_us - pair[0].at_us;
        assert!(gap >= 100_000, "events are paced: {:?}", ex.chunks);
    }
}

#[tokio::test]
async fn strict_replay_explains_the_closest_expectation() {
    let mock = Expectations::new();
    mock.set_strict(true);
    mock.upsert_json(&json!([
        {"id": "models", "httpRequest": {"method": "GET", "path": "/v1/models"}, "httpResponse": {"body": "[]"}},
        {"id": "chat", "httpRequest": {"method": "POST", "path": "/v1/chat/completions",
            "body": {"type": "LLM", "model": "gpt-recorded", "stream": false}},
         "httpResponse": {"body": "{}"}},
    ]))
    .expect("expectations");
    let mut proxy = proxy_with(&mock, None).await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    let resp = client
        .post("https://127.0.0.1:9/v1/chat/completions")
        .json(&json!({"model": "gpt-other", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 404);
    let doc: Value = resp.json().await.expect("json");
    assert_eq!(doc["closestExpectation"], "chat");
    assert_eq!(doc["differences"][0]["field"], "body.model");
    assert_eq!(doc["differences"][0]["expected"], "gpt-recorded");
    assert!(
        doc["error"].as_str().expect("error").contains("gpt-other"),
        "{doc}"
    );
    let ex = proxy.only().await;
    assert_eq!(mocked_by(&ex).as_deref(), Some("llmspy-strict-replay"));
}

/// Query values match decoded, as MockServer matches them (`+` and `%20`
/// are spaces), or as written; a value that differs is quoted alone.
#[tokio::test]
async fn query_values_match_decoded_and_a_difference_quotes_the_value() {
    let mock = Expectations::new();
    mock.set_strict(true);
    mock.upsert_json(&json!([
        {"id": "space", "httpRequest": {"path": "/search", "queryStringParameters": {"q": ["llm spy"], "who": ["José & co"]}},
         "httpResponse": {"body": "decoded"}},
        {"id": "plus", "httpRequest": {"path": "/raw", "queryStringParameters": {"q": ["llm+spy"]}},
         "httpResponse": {"body": "as written"}},
    ]))
    .expect("expectations");
    let mut proxy = proxy_with(&mock, None).await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    let get = |path: &str| client.get(format!("https://127.0.0.1:9{path}")).send();
    for path in [
        "/search?q=llm+spy&who=Jos%C3%A9+%26+co",
        "/search?who=Jos%C3%A9%20%26%20co&q=llm%20spy",
    ] {
        let resp = get(path).await.expect("send");
        assert_eq!(resp.text().await.expect("text"), "decoded", "{path}");
    }
    let resp = get("/raw?q=llm+spy").await.expect("send");
    assert_eq!(resp.text().await.expect("text"), "as written");

    let resp = get("/search?q=other+thing&who=Jos%C3%A9+%26+co&page=2")
        .await
        .expect("send");
    assert_eq!(resp.status(), 404);
    let doc: Value = resp.json().await.expect("json");
    assert_eq!(doc["closestExpectation"], "space", "{doc}");
    assert_eq!(doc["differences"][0]["field"], "query q", "{doc}");
    assert_eq!(doc["differences"][0]["actual"], "other thing", "{doc}");
    proxy.finished(4).await;
}

/// A fixture's notes are checked as its expectations are: a misspelt
/// field is named with its path and the field meant.
#[test]
fn a_fixtures_notes_with_a_typo_are_rejected() {
    let exps = json!([{"httpRequest": {"path": "/a"}, "httpResponse": {"body": "a"}}]);
    let mock = Expectations::new();
    for (doc, path, hint) in [
        (
            json!({"llmspy": {"fixtrue": 1}, "expectations": exps}),
            "$.llmspy.fixtrue",
            "fixture",
        ),
        (
            json!({"llmsyp": {"fixture": 1}, "expectations": exps}),
            "$.llmsyp",
            "llmspy",
        ),
    ] {
        let err = mock.upsert_json(&doc).expect_err("a typo").to_string();
        assert!(err.contains(path) && err.contains(hint), "{err}");
    }
    assert!(mock.list().is_empty(), "nothing kept");
    mock.upsert_json(
        &json!({"llmspy": {"fixture": 1, "redacted": [], "warnings": []}, "expectations": exps}),
    )
    .expect("a fixture as written loads");
}

#[test]
fn a_broken_file_is_rejected_with_file_and_json_path() {
    let dir = tempfile::tempdir().expect("dir");
    let good = json!([{"httpRequest": {"path": "/a"}, "httpResponse": {"body": "a"}}]);
    let bad = json!({"expectations": [
        {"httpRequest": {"path": "/b"}, "httpResponse": {"body": "b"}},
        {"httpRequest": {"path": "/c"}, "httpSseResponse": {"events": [{"data": "x", "delay": {"timeUnit": "FORTNIGHTS", "value": 1}}]}},
    ]});
    std::fs::write(dir.path().join("a.json"), good.to_string()).expect("write");
    std::fs::write(dir.path().join("b.json"), bad.to_string()).expect("write");
    let err = llmspy::mock::loader::load(dir.path()).expect_err("b.json is broken");
    let message = format!("{err}");
    assert!(message.contains("b.json"), "{message}");
    assert!(
        message.contains(
            "$.expectations[1].httpSseResponse.events[0].delay.timeUnit: expected a time unit"
        ),
        "{message}"
    );
    std::fs::remove_file(dir.path().join("b.json")).expect("rm");
    assert_eq!(
        llmspy::mock::loader::load(dir.path()).expect("loads").len(),
        1
    );
}
