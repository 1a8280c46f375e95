//! The store's choice of expectation: priority, times, time to live,
//! scenarios, scripted sessions and strict replay.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::*;
use crate::exchange::Body;

fn req(path: &str, headers: &[(&str, &str)], body: &Value) -> Request {
    Request {
        method: "POST".into(),
        scheme: "https".into(),
        host: "api.anthropic.com".into(),
        port: 443,
        path: path.into(),
        version: "HTTP/1.1".into(),
        headers: headers
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        body: Body::from_bytes(body.to_string()),
    }
}

fn answered(d: Decision) -> String {
    match d {
        Decision::Respond(m) => {
            let body: Vec<u8> = m.chunks.iter().flat_map(|c| c.data.to_vec()).collect();
            format!("{}:{}", m.expectation_id, String::from_utf8_lossy(&body))
        }
        Decision::ForwardTo(f) => format!("forward:{}", f.expectation_id),
        Decision::Forward => "forward".into(),
    }
}

fn text(path: &str, body: &str) -> Value {
    json!({"httpRequest": {"path": path}, "httpResponse": {"body": body}})
}

#[test]
fn priority_then_age_and_times() {
    let store = Expectations::new();
    store
        .upsert_json(&json!([
            {"id": "low", "httpRequest": {"path": "/a"}, "httpResponse": {"body": "low"}},
            {"id": "high", "priority": 5, "times": {"remainingTimes": 2},
             "httpRequest": {"path": "/a"}, "httpResponse": {"body": "high"}},
        ]))
        .unwrap();
    let r = req("/a", &[], &json!({}));
    assert_eq!(answered(store.decide(&r)), "high:high");
    assert_eq!(answered(store.decide(&r)), "high:high");
    assert_eq!(answered(store.decide(&r)), "low:low");
    assert_eq!(
        answered(store.decide(&req("/b", &[], &json!({})))),
        "forward"
    );
    assert_eq!(store.list().len(), 1, "the used-up expectation is gone");
}

#[test]
fn same_id_replaces_and_time_to_live_expires() {
    let store = Expectations::new();
    let mut e = text("/a", "one");
    e["id"] = json!("x");
    e["timeToLive"] = json!({"timeUnit": "SECONDS", "timeToLive": 60});
    store.upsert_json(&e).unwrap();
    e["httpResponse"]["body"] = json!("two");
    store.upsert_json(&e).unwrap();
    let r = req("/a", &[], &json!({}));
    assert_eq!(answered(store.decide(&r)), "x:two");
    let later = Instant::now() + Duration::from_secs(61);
    assert_eq!(answered(store.decide_at(&r, later)), "forward");
}

#[test]
fn scenarios_move_between_states() {
    let store = Expectations::new();
    store
        .upsert_json(&json!([
            {"id": "first", "scenarioName": "s", "scenarioState": "Started", "newScenarioState": "done",
             "httpRequest": {"path": "/a"}, "httpResponse": {"body": "1"}},
            {"id": "second", "scenarioName": "s", "scenarioState": "done",
             "httpRequest": {"path": "/a"}, "httpResponse": {"body": "2"}},
        ]))
        .unwrap();
    let r = req("/a", &[], &json!({}));
    assert_eq!(answered(store.decide(&r)), "first:1");
    assert_eq!(answered(store.decide(&r)), "second:2");
    assert_eq!(answered(store.decide(&r)), "second:2");
}

#[test]
fn strict_replay_names_the_closest_expectation() {
    let store = Expectations::new();
    store.set_strict(true);
    store
        .upsert_json(&json!([
            {"id": "messages", "httpRequest": {"method": "POST", "path": "/v1/messages",
             "body": {"type": "LLM", "model": "claude-a", "stream": false}},
             "httpResponse": {"body": "x"}},
            {"id": "other", "httpRequest": {"method": "GET", "path": "/v1/models"},
             "httpResponse": {"body": "y"}},
        ]))
        .unwrap();
    let body = json!({"model": "claude-b", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]});
    let got = answered(store.decide(&req("/v1/messages", &[], &body)));
    assert!(got.starts_with("llmspy-strict-replay:"), "{got}");
    let doc: Value = serde_json::from_str(got.split_once(':').unwrap().1).unwrap();
    assert_eq!(doc["closestExpectation"], "messages");
    assert_eq!(doc["differences"][0]["field"], "body.model");
    assert_eq!(doc["differences"][0]["actual"], "claude-b");
}

#[test]
fn scripted_sessions_advance_independently() {
    let store = Expectations::new();
    store
        .upsert_json(&json!({"id": "agent", "scenarioName": "weather",
            "httpRequest": {"path": "/v1/messages"},
            "httpLlmConversation": {"provider": "ANTHROPIC", "isolateBy": {"header": "x-session"},
              "turns": [
                {"whenTurnIndex": 0, "completion": {"toolCalls": [{"id": "t1", "name": "search", "arguments": {}}]}},
                {"whenContainsToolResultFor": "search", "completion": {"text": "sunny"}}]}}))
        .unwrap();
    let first = json!({"model": "c", "max_tokens": 5, "messages": [{"role": "user", "content": "weather?"}]});
    let second = json!({"model": "c", "max_tokens": 5, "messages": [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "search", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}]}]});
    let turn = |session: &str, body: &Value| match store.decide(&req(
        "/v1/messages",
        &[("x-session", session)],
        body,
    )) {
        Decision::Respond(m) => {
            let h = |n: &str| {
                crate::exchange::header(&m.headers, n)
                    .unwrap_or_default()
                    .to_string()
            };
            let body: Vec<u8> = m.chunks.iter().flat_map(|c| c.data.to_vec()).collect();
            (
                h("x-llmspy-isolation"),
                h("x-llmspy-turn"),
                String::from_utf8_lossy(&body).contains("sunny"),
            )
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(turn("a", &first), ("a".into(), "0".into(), false));
    assert_eq!(turn("b", &first), ("b".into(), "0".into(), false));
    assert_eq!(turn("a", &second), ("a".into(), "1".into(), true));
}

#[test]
fn a_bad_document_adds_nothing_and_names_the_path() {
    let store = Expectations::new();
    let err = store
        .upsert_json(
            &json!([text("/a", "ok"), {"httpRequest": {}, "httpResponse": {"statusCode": "x"}}]),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "$[1].httpResponse.statusCode: expected an HTTP status"
    );
    assert!(store.is_empty());
}

/// Ids are looked up in an index: a large batch is one pass, same ids
/// replace (also within one batch), and the cap counts only new ids,
/// leaving everything as it was when a batch would pass it.
#[test]
fn batches_replace_by_id_and_stop_at_the_cap() {
    let doc = |ids: std::ops::Range<usize>| -> Vec<Expectation> {
        let list: Vec<Value> = ids
            .map(|i| json!({"id": format!("e{i}"), "httpRequest": {"path": format!("/p{i}")}, "httpResponse": {"body": format!("{i}")}}))
            .collect();
        expectation::parse_document(&Value::Array(list), "x-").expect("parses")
    };
    let store = Expectations::new();
    store
        .upsert_within(doc(0..20_000), 20_000)
        .expect("within the cap");
    assert_eq!(store.list().len(), 20_000);
    // Replacing held ids adds nothing, so the cap is not in the way.
    store
        .upsert_within(doc(10_000..20_000), 20_000)
        .expect("replaces");
    let err = store
        .upsert_within(doc(19_999..20_001), 20_000)
        .expect_err("one new id too many");
    assert_eq!(
        err,
        MockError::TooMany {
            max: 20_000,
            held: 20_000,
            adding: 1
        }
    );
    assert_eq!(store.list().len(), 20_000, "nothing added");
    assert_eq!(
        answered(store.decide_at(&req("/p19999", &[], &json!({})), Instant::now())),
        "e19999:19999"
    );
}
