//! Mock expectations in the UI: the Library lists them and records
//! fixtures, mocked rows are marked, a scripted conversation gets its
//! Scripted Turns tab and its `scenario / isolation` swim-lanes. Scripted
//! answers come from the real mock store deciding on real requests.

use std::sync::Arc;
use std::time::Instant;

use llmspy::engine::Decision;
use llmspy::exchange::*;
use llmspy::mock::Expectations;
use serde_json::{Value, json};

use super::support::*;

fn script() -> Value {
    json!({
        "id": "weather-script",
        "httpRequest": {"method": "POST", "path": "/v1/messages"},
        "scenarioName": "weather",
        "httpLlmConversation": {
            "provider": "ANTHROPIC",
            "model": "claude-sonnet-4-5",
            "isolateBy": {"header": "x-session-id"},
            "turns": [
                {"whenTurnIndex": 0, "completion": {"toolCalls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}},
                {"whenContainsToolResultFor": "get_weather", "completion": {"text": "It is sunny in Paris."}}
            ]
        }
    })
}

fn plain_expectation() -> Value {
    json!({
        "id": "models-list-1234",
        "priority": 3,
        "times": {"remainingTimes": 2, "unlimited": false},
        "httpRequest": {"method": "GET", "path": "/v1/models"},
        "httpResponse": {"statusCode": 200, "body": "{\"data\":[]}"}
    })
}

fn store() -> Expectations {
    let mock = Expectations::new();
    mock.upsert_json(&json!([script(), plain_expectation()]))
        .expect("valid expectations");
    mock
}

fn ask(session: &str, body: Value) -> Request {
    let mut req = request("POST", "https", "api.anthropic.com", "/v1/messages");
    req.headers.push("content-type", "application/json");
    req.headers.push("x-session-id", session);
    req.body = Body::from_bytes(body.to_string().as_bytes());
    req
}

fn first_turn() -> Value {
    json!({"model": "claude-sonnet-4-5", "max_tokens": 256,
           "messages": [{"role": "user", "content": "Weather in Paris?"}]})
}

fn second_turn() -> Value {
    json!({"model": "claude-sonnet-4-5", "max_tokens": 256, "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}]}
    ]})
}

/// The exchange the proxy would capture when `mock` answers `req`.
fn answered(mock: &Expectations, id: ExchangeId, req: Request) -> Exchange {
    let Decision::Respond(resp) = mock.decide_at(&req, Instant::now()) else {
        panic!("the mock store did not answer {}", req.path);
    };
    let body: Vec<u8> = resp.chunks.iter().flat_map(|c| c.data.to_vec()).collect();
    Exchange::builder()
        .id(id)
        .started_at(at(id as i64))
        .client_addr("127.0.0.1:50000")
        .request(req)
        .status(resp.status)
        .response_headers(&resp.headers)
        .response_body(body)
        .timings(Timings {
            request_done_us: Some(1_000),
            end_us: Some(10_000),
            ..Timings::default()
        })
        .source(Source::Mock {
            expectation_id: resp.expectation_id,
        })
        .build()
}

/// Two isolated sessions of the scripted conversation, and one miss under
/// strict replay.
fn scripted_capture(mock: &Expectations) -> Vec<Exchange> {
    let mut out = vec![
        answered(mock, 1, ask("alice", first_turn())),
        answered(mock, 2, ask("bob", first_turn())),
        answered(mock, 3, ask("alice", second_turn())),
    ];
    mock.set_strict(true);
    let miss = request("GET", "https", "api.anthropic.com", "/v1/unknown");
    out.push(answered(mock, 4, miss));
    out
}

fn app_over(mock: &Expectations) -> llmspy::tui::App {
    let mut info = info();
    let source = mock.clone();
    info.expectations = Some(Arc::new(move || {
        llmspy::api::ActiveExpectations::active(&source)
    }));
    llmspy::tui::App::new(
        store_of(scripted_capture(mock)),
        info,
        Box::new(llmspy::tui::clipboard::Recorder::default()),
    )
}

fn screen(keys: &str, w: u16, h: u16) -> String {
    let mock = store();
    let mut app = app_over(&mock);
    resize(&mut app, w, h);
    press(&mut app, keys);
    render(&mut app, w, h)
}

#[test]
fn library_lists_the_active_expectations() {
    for (w, h) in super::SIZES {
        let text = screen("L", w, h);
        assert!(text.contains("weather-sc"), "{text}");
        assert!(text.contains("/v1/models"), "{text}");
        snap(&format!("mock_library_{w}x{h}"), text);
    }
}

#[test]
fn mocked_rows_are_marked_and_raw_says_who_answered() {
    let list = screen("g", 160, 48);
    assert!(list.contains("◇200"), "{list}");
    assert!(list.contains("◇404"), "{list}");
    let raw = screen("g<enter>4", 160, 48);
    assert!(
        raw.contains("answered by mock expectation weather-script"),
        "{raw}"
    );
    let miss = screen("G<enter>", 160, 48);
    assert!(
        miss.contains("✗ llmspy strict replay: no expectation matched"),
        "{miss}"
    );
}

#[test]
fn scripted_turns_tab_marks_the_turn_that_answered() {
    for (w, h) in super::SIZES {
        // Exchange 3: alice's second turn, answered by the tool-result turn.
        let text = screen("gjj<enter>3", w, h);
        assert!(text.contains("Scenario  weather"), "{text}");
        assert!(text.contains("Session   alice"), "{text}");
        assert!(text.contains("▶  2"), "{text}");
        snap(&format!("mock_scripted_{w}x{h}"), text);
    }
}

#[test]
fn sessions_draw_a_lane_per_scenario_and_isolation_key() {
    let text = screen("S", 160, 48);
    assert!(text.contains("weather / alice"), "{text}");
    assert!(text.contains("weather / bob"), "{text}");
    snap("mock_sessions_160x48", text);
}

#[test]
fn r_in_the_library_records_a_fixture_without_secrets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = app_exporting_to(dir.path());
    press(&mut app, "LR");
    let text = render(&mut app, 160, 48);
    assert!(text.contains("Recorded 3 expectation(s)"), "{text}");
    let file = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("llmspy-fixture-")
        })
        .expect("a fixture file");
    let written = std::fs::read_to_string(file.path()).expect("read");
    assert!(
        !written.contains("sk-live-1234567890"),
        "a secret leaked: {written}"
    );
    // What llmspy --init loads.
    let loaded = llmspy::mock::loader::load(&file.path()).expect("the fixture loads back");
    assert_eq!(loaded.len(), 3);
}

#[test]
fn the_library_notices_expectations_added_through_the_api() {
    let mock = store();
    let mut app = app_over(&mock);
    resize(&mut app, 160, 48);
    press(&mut app, "L");
    let start = Instant::now();
    assert!(app.wake_in(start).is_some(), "the Library asks to be woken");
    app.update(llmspy::tui::Msg::Tick(start));
    mock.upsert_json(
        &json!({"id": "added-later", "httpRequest": {"path": "/later"}, "httpResponse": {}}),
    )
    .expect("valid");
    let later = start + std::time::Duration::from_secs(1);
    assert!(app.update(llmspy::tui::Msg::Tick(later)), "a redraw is due");
    let text = render(&mut app, 160, 48);
    assert!(text.contains("/later"), "{text}");
    // Elsewhere the UI sleeps until something happens.
    press(&mut app, "T");
    assert_eq!(app.wake_in(later), None);
}
