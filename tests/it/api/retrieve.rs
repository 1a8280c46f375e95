//! `retrieve` and `clear`: every type in every format, selection by
//! matcher and filter, redaction, sessions, conversations, bad parameters.

use std::io::Read;

use llmspy::capture::Records as _;
use serde_json::Value;

use super::{Answer, SECRET, expectation, ids_of, put, send_traffic, setup};

const TYPES: [&str; 6] = [
    "REQUESTS",
    "REQUEST_RESPONSES",
    "ACTIVE_EXPECTATIONS",
    "RECORDED_EXPECTATIONS",
    "CONVERSATION",
    "SESSIONS",
];
const FORMATS: [&str; 5] = ["json", "HAR", "OpenApi", "postman", "BRUNO"];

#[tokio::test]
async fn every_type_in_every_format_answers_and_parses() {
    let mut s = setup().await;
    let ids = send_traffic(&mut s).await;
    for kind in TYPES {
        for format in FORMATS {
            let mut query = format!("type={kind}&format={format}");
            if kind == "CONVERSATION" {
                query.push_str(&format!("&id={}", ids.turn1));
            }
            let a = put(&s, "retrieve", &query, "").await;
            assert_eq!(a.status, 200, "{query}: {}", a.text());
            let count = a
                .count
                .unwrap_or_else(|| panic!("{query}: no x-llmspy-count"));
            assert!(count > 0, "{query}: nothing in the answer");
            check_format(&query, format, &a, count);
        }
    }
}

/// The answer is a real document of its format holding `count` items.
fn check_format(query: &str, format: &str, a: &Answer, count: usize) {
    if format == "BRUNO" {
        assert_eq!(a.content_type, "application/zip", "{query}");
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(a.body.clone()))
            .unwrap_or_else(|e| panic!("{query}: not a zip: {e}"));
        let mut manifest = String::new();
        zip.by_name("bruno.json")
            .expect("bruno.json")
            .read_to_string(&mut manifest)
            .expect("read");
        let requests = zip
            .file_names()
            .filter(|n| n.ends_with(".bru") && !n.ends_with("folder.bru"))
            .count();
        assert_eq!(requests, count, "{query}: one .bru file per request");
        return;
    }
    assert_eq!(a.content_type, "application/json", "{query}");
    let v = a.json();
    match format {
        "HAR" => {
            assert_eq!(v["log"]["version"], "1.2", "{query}");
            let entries = v["log"]["entries"].as_array().expect("entries").len();
            assert_eq!(entries, count, "{query}");
        }
        "OpenApi" => {
            assert!(v["openapi"].as_str().is_some_and(|o| o.starts_with("3.")));
            assert!(
                !v["paths"].as_object().expect("paths").is_empty(),
                "{query}"
            );
        }
        "postman" => {
            let schema = v["info"]["schema"].as_str().unwrap_or_default();
            assert!(schema.contains("v2.1"), "{query}: {schema}");
        }
        _ => assert!(v.is_array() || v.is_object(), "{query}"),
    }
}

#[tokio::test]
async fn matcher_body_and_filter_select_exchanges() {
    let mut s = setup().await;
    let ids = send_traffic(&mut s).await;
    let cases = [
        ("", r#"{"method": "GET"}"#, vec![ids.get]),
        (
            "",
            r#"{"httpRequest": {"path": "/echo"}}"#,
            vec![ids.turn1, ids.turn2],
        ),
        (
            "",
            r#"{"headers": {"x-api-key": ["sk-.*"]}}"#,
            vec![ids.turn1],
        ),
        (
            "",
            r#"{"body": {"type": "STRING", "string": "and more", "subString": true}}"#,
            vec![ids.turn2],
        ),
        ("filter=~p%20anthropic", "", vec![ids.turn1, ids.turn2]),
        (
            "filter=~model%20sonnet%20%26%20~c%20200",
            "",
            vec![ids.turn1, ids.turn2],
        ),
        ("filter=~m%20GET", "", vec![ids.get]),
        (
            "filter=!~b%20%22and%20more%22",
            r#"{"path": "/echo"}"#,
            vec![ids.turn1],
        ),
        ("filter=~p%20openai", "", vec![]),
    ];
    for (query, body, want) in cases {
        let a = put(&s, "retrieve", query, body).await;
        assert_eq!(a.status, 200, "{query} {body}: {}", a.text());
        assert_eq!(ids_of(&a), want, "{query} {body}");
        assert_eq!(a.count, Some(want.len()), "{query} {body}");
    }
    let har = put(&s, "retrieve", "format=har&filter=~m+GET", "")
        .await
        .json();
    let entries = har["log"]["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1);
    assert!(
        entries[0]["request"]["url"]
            .as_str()
            .expect("url")
            .ends_with("/plain")
    );
    let active = put(
        &s,
        "retrieve",
        "type=ACTIVE_EXPECTATIONS",
        r#"{"path": "/nowhere"}"#,
    )
    .await;
    assert_eq!(active.json(), Value::Array(vec![]));
    let active = put(
        &s,
        "retrieve",
        "type=active_expectations&filter=~u+chat",
        "",
    )
    .await;
    assert_eq!(active.json(), Value::Array(vec![expectation()]));
}

#[tokio::test]
async fn bad_parameters_get_400_naming_the_parameter_and_the_accepted_values() {
    let s = setup().await;
    let cases = [
        ("retrieve", "type=LOGS", "", "type", "REQUEST_RESPONSES"),
        ("retrieve", "format=xml", "", "format", "BRUNO"),
        (
            "retrieve",
            "filter=~m%20(POST",
            "",
            "filter",
            "~p anthropic",
        ),
        ("retrieve", "filter=~nope", "", "filter", "~p anthropic"),
        ("retrieve", "redact=perhaps", "", "redact", "false"),
        ("retrieve", "type=CONVERSATION", "", "id", "exchange id"),
        ("retrieve", "fliter=~q", "", "fliter", "filter"),
        ("retrieve", "", "{not json", "body", "request matcher"),
        (
            "retrieve",
            "",
            r#"{"body": {"type": "XML"}}"#,
            "body",
            "request matcher",
        ),
        ("clear", "type=EVERYTHING", "", "type", "EXPECTATIONS"),
        ("clear", "filter=~c%2099", "", "filter", "~p anthropic"),
    ];
    for (route, query, body, parameter, accepted) in cases {
        let a = put(&s, route, query, body).await;
        assert_eq!(a.status, 400, "{route}?{query}: {}", a.text());
        let v = a.json();
        assert_eq!(v["parameter"], parameter, "{route}?{query}: {v}");
        let error = v["error"].as_str().expect("error");
        assert!(error.contains(accepted), "{route}?{query}: {error}");
        assert!(!v["accepted"].as_array().expect("accepted").is_empty());
    }
    let missing = put(&s, "retrieve", "type=CONVERSATION&id=999", "").await;
    assert_eq!(missing.status, 404, "{}", missing.text());
    assert!(missing.text().contains("999"));
}

#[tokio::test]
async fn exports_are_redacted_unless_asked_not_to_be() {
    let mut s = setup().await;
    send_traffic(&mut s).await;
    // (query, the key shows, the header is there but masked)
    let cases = [
        ("type=REQUEST_RESPONSES", true, false),
        ("type=REQUEST_RESPONSES&redact=true", false, true),
        ("format=HAR", false, true),
        ("format=HAR&redact=false", true, false),
        ("format=POSTMAN", false, true),
        ("format=OPENAPI", false, false),
        ("type=RECORDED_EXPECTATIONS&format=HAR", false, true),
        (
            "type=RECORDED_EXPECTATIONS&format=HAR&redact=false",
            true,
            false,
        ),
    ];
    for (query, shown, masked) in cases {
        let a = put(&s, "retrieve", query, "").await;
        assert_eq!(a.status, 200, "{query}");
        let text = a.text();
        assert_eq!(text.contains(SECRET), shown, "{query}");
        assert_eq!(text.contains("***REDACTED***"), masked, "{query}");
    }
    let zip = put(&s, "retrieve", "format=BRUNO", "").await.body;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("zip");
    for i in 0..archive.len() {
        let mut text = String::new();
        let _ = archive
            .by_index(i)
            .expect("entry")
            .read_to_string(&mut text);
        assert!(!text.contains(SECRET), "Bruno file {i} leaks the key");
    }
}

#[tokio::test]
async fn sessions_group_the_turns_of_a_conversation() {
    let mut s = setup().await;
    let ids = send_traffic(&mut s).await;
    let v = put(&s, "retrieve", "type=SESSIONS", "").await.json();
    let sessions = v["sessions"].as_array().expect("sessions");
    assert_eq!(sessions.len(), 1, "{v:#}");
    let session = &sessions[0];
    assert_eq!(session["label"], "hello there");
    let turns = session["turns"].as_array().expect("turns");
    let turn_ids: Vec<u64> = turns
        .iter()
        .map(|t| t["id"].as_u64().expect("id"))
        .collect();
    assert_eq!(turn_ids, vec![ids.turn1, ids.turn2]);
    assert_eq!(turns[1]["turn"], 1);
    assert_eq!(turns[1]["changes"]["messages_added"], 2, "{:#}", turns[1]);
    assert_eq!(session["totals"]["tokens_in"], 22);
    assert_eq!(session["totals"]["tokens_out"], 14);
    assert_eq!(v["totals"]["turns"], 2);
    let unscoped = v["unscoped"].as_array().expect("unscoped");
    assert_eq!(unscoped.len(), 1);
    assert_eq!(unscoped[0]["id"], ids.get);

    let conversation = put(
        &s,
        "retrieve",
        &format!("type=CONVERSATION&id={}", ids.turn2),
        "",
    )
    .await
    .json();
    assert_eq!(
        conversation["request"]["messages"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(conversation["thread"]["turn_index"], 1);
    let plain = put(
        &s,
        "retrieve",
        &format!("type=CONVERSATION&id={}", ids.get),
        "",
    )
    .await;
    assert_eq!(plain.status, 404, "a plain GET has no conversation");
    let postman = put(
        &s,
        "retrieve",
        &format!("type=CONVERSATION&id={}&format=postman", ids.turn1),
        "",
    )
    .await;
    assert_eq!(
        postman.count,
        Some(2),
        "the export holds every turn of the thread"
    );
}

#[tokio::test]
async fn clear_with_a_filter_removes_only_those() {
    let mut s = setup().await;
    let ids = send_traffic(&mut s).await;
    let a = put(&s, "clear", "filter=~m+GET", "").await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.json()["cleared"], 1);
    let left = put(&s, "retrieve", "", "").await;
    assert_eq!(ids_of(&left), vec![ids.turn1, ids.turn2]);

    let a = put(
        &s,
        "clear",
        "type=LOG",
        r#"{"headers": {"x-api-key": ["sk-.*"]}}"#,
    )
    .await;
    assert_eq!(a.json()["cleared"], 1);
    assert_eq!(
        a.json()["expectationsCleared"],
        0,
        "type=LOG keeps expectations"
    );
    assert_eq!(ids_of(&put(&s, "retrieve", "", "").await), vec![ids.turn2]);
    assert_eq!(s.expectations.read().expect("lock").len(), 1);

    let a = put(
        &s,
        "clear",
        "type=EXPECTATIONS",
        r#"{"path": "/v1/chat/completions"}"#,
    )
    .await;
    assert_eq!(a.json()["expectationsCleared"], 1);
    assert_eq!(a.json()["cleared"], 0, "type=EXPECTATIONS keeps traffic");
    assert!(s.expectations.read().expect("lock").is_empty());
    assert_eq!(ids_of(&put(&s, "retrieve", "", "").await), vec![ids.turn2]);

    let a = put(&s, "reset", "", "").await;
    assert_eq!(a.json()["cleared"], 1);
    assert_eq!(
        ids_of(&put(&s, "retrieve", "", "").await),
        Vec::<u64>::new()
    );
}

#[tokio::test]
async fn the_mockserver_alias_answers_the_same() {
    let mut s = setup().await;
    send_traffic(&mut s).await;
    let url = format!(
        "{}/mockserver/retrieve?type=REQUESTS&format=JSON",
        s.proxy.url()
    );
    let resp = s.api.put(url).send().await.expect("answer");
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.expect("JSON");
    let requests = v.as_array().expect("array");
    assert_eq!(requests.len(), 3);
    assert!(
        requests
            .iter()
            .all(|r| r.get("response").is_none() && r["request"].is_object())
    );
}

/// Every export format is streamed from the store (#13), and what arrives
/// is byte for byte the document rendered whole from the same exchanges.
#[tokio::test]
async fn streamed_answers_are_the_documents_rendered_whole() {
    use llmspy::export::Format;
    let mut s = setup().await;
    send_traffic(&mut s).await;
    let exchanges: Vec<llmspy::exchange::Exchange> = s
        .proxy
        .store
        .read()
        .all()
        .map(|r| r.exchange.clone())
        .collect();
    for format in [Format::Har, Format::OpenApi, Format::Postman, Format::Bruno] {
        let a = put(&s, "retrieve", &format!("format={}", format.name()), "").await;
        assert_eq!(a.status, 200, "{format}");
        let whole = llmspy::api::render::export_bytes(format, &exchanges, true).expect("renders");
        assert!(
            a.body == whole,
            "{format}: streamed and whole answers differ"
        );
    }
}
