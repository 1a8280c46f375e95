use serde_json::{Value, json};

use super::*;
use crate::capture::{Records, loaded_store};
use crate::exchange::Exchange;

const SESSION: &str = "d5a78987-4206-49b4-a610-8776265cca91";
const MAIN: &str = "You are Claude Code, an interactive agent.";

fn exchange(
    id: u64,
    host: &str,
    path: &str,
    headers: Vec<(String, String)>,
    req: Value,
    resp: Value,
) -> Exchange {
    Exchange::builder()
        .id(id)
        .started_at(DateTime::from_timestamp(1_800_000_000 + id as i64, 0).unwrap())
        .client_app("claude")
        .host(host)
        .path(path)
        .header("content-type", "application/json")
        .headers(headers)
        .body(req.to_string())
        .response_header("content-type", "application/json")
        .response_body(resp.to_string())
        .build()
}

fn turn(id: u64, system: &str, messages: Value, reply: Value, stop: &str) -> Exchange {
    let req = json!({
        "model": "claude-sonnet-4-5", "max_tokens": 100, "system": system,
        "metadata": {"user_id": format!("{{\"device_id\":\"d\",\"session_id\":\"{SESSION}\"}}")},
        "tools": [{"name": "mcp__calc__add", "input_schema": {"type": "object"}}],
        "messages": messages,
    });
    let resp = json!({
        "id": format!("msg_{id}"), "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": reply, "stop_reason": stop,
        "usage": {"input_tokens": 100, "output_tokens": 10, "cache_read_input_tokens": 2000, "cache_creation_input_tokens": 300},
    });
    let headers = vec![("x-claude-code-session-id".to_string(), SESSION.to_string())];
    exchange(id, "api.anthropic.com", "/v1/messages", headers, req, resp)
}

fn mcp_call(id: u64) -> Exchange {
    let req = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "add", "arguments": {"a": 2, "b": 3}}});
    let resp =
        json!({"jsonrpc": "2.0", "id": 3, "result": {"content": [{"type": "text", "text": "5"}]}});
    exchange(id, "127.0.0.1", "/mcp", vec![], req, resp)
}

fn prompt() -> Value {
    json!({"role": "user", "content": [
        {"type": "text", "text": "<system-reminder>\nToday's date is 2026-12-05.\n</system-reminder>\n"},
        {"type": "text", "text": "What is 2 plus 3?"},
    ]})
}

fn story(exchanges: Vec<Exchange>) -> Story {
    let store = loaded_store(exchanges);
    let records: Vec<&Record> = store.all().collect();
    build(&records, &|r| r.thread.clone(), &mut |r| {
        crate::llm::analyse(&r.exchange).map(|a| std::sync::Arc::new(Facts::of(&a)))
    })
}

#[test]
fn a_claude_code_session_as_the_user_lived_it() {
    let tool_use = json!([{"type": "tool_use", "id": "toolu_1", "name": "mcp__calc__add", "input": {"a": 2, "b": 3}}]);
    let first = turn(1, MAIN, json!([prompt()]), tool_use.clone(), "tool_use");
    let call = mcp_call(2);
    let second = turn(
        3,
        MAIN,
        json!([prompt(), {"role": "assistant", "content": tool_use},
               {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "5"}]}]),
        json!([{"type": "text", "text": "The sum is 5."}]),
        "end_turn",
    );
    let sub = turn(
        4,
        "You are a search sub-agent.",
        json!([{"role": "user", "content": "find callers"}]),
        json!([{"type": "text", "text": "none"}]),
        "end_turn",
    );
    let s = story(vec![first, call, second, sub]);

    assert_eq!(s.lanes.len(), 2, "{s:#?}");
    let main = &s.lanes[0];
    assert_eq!(main.label.as_deref(), Some("What is 2 plus 3?"));
    assert_eq!(main.session.as_deref(), Some(&*format!("claude:{SESSION}")));
    assert_eq!(main.turns.iter().map(|t| t.id).collect::<Vec<_>>(), [1, 3]);
    assert_eq!(
        main.turns[0].mcp,
        [2],
        "the call joins the turn that asked for it"
    );
    assert!(
        s.unscoped.is_empty(),
        "an attached call is not unscoped: {:?}",
        s.unscoped
    );
    let cost = main.turns[0]
        .facts
        .as_ref()
        .and_then(|f| f.cost)
        .expect("priced");
    assert!((main.turns[1].running_cost - 2.0 * cost).abs() < 1e-12);
    let usage = main.turns[0]
        .facts
        .as_ref()
        .and_then(|f| f.usage)
        .expect("usage");
    let (read, write, _fresh, out) = context(&usage);
    assert_eq!((read, write, out), (2000, 300, 10));

    let child = &s.lanes[1];
    assert_eq!(
        child.parent,
        Some(Parent {
            thread: main.thread,
            turn: 3
        })
    );
    assert_eq!(child.label.as_deref(), Some("find callers"));
}

#[test]
fn diffs_show_what_changed() {
    let first = turn(
        1,
        MAIN,
        json!([prompt()]),
        json!([{"type": "text", "text": "hi"}]),
        "end_turn",
    );
    let second = turn(
        2,
        &format!("{MAIN}\nNew rule."),
        json!([prompt(), {"role": "assistant", "content": "hi"}, {"role": "user", "content": "more"}]),
        json!([{"type": "text", "text": "ok"}]),
        "end_turn",
    );
    let a1 = crate::llm::analyse(&first).unwrap();
    let a2 = crate::llm::analyse(&second).unwrap();
    let d = diff::between(Some(&a1), &a2);
    assert!(d.system.as_deref().unwrap().contains("+New rule."), "{d:?}");
    assert_eq!(d.tools, None);
    assert_eq!(d.new_messages.len(), 2);
    assert_eq!(d.new_messages[1].text, "more");
    let first_turn = diff::between(None, &a1);
    assert_eq!(
        (first_turn.system, first_turn.new_messages.len()),
        (None, 1)
    );
}

#[test]
fn child_lanes_hang_under_the_main_turn_running_when_they_began() {
    let agent = json!([{"type": "tool_use", "id": "toolu_a", "name": "Agent", "input": {"prompt": "find callers"}}]);
    let first = turn(1, MAIN, json!([prompt()]), agent.clone(), "tool_use");
    let sub = turn(
        2,
        "You are a search sub-agent.",
        json!([{"role": "user", "content": "find callers"}]),
        json!([{"type": "text", "text": "none"}]),
        "end_turn",
    );
    let side = turn(
        3,
        "Summarise in five words.",
        json!([{"role": "user", "content": "title please"}]),
        json!([{"type": "text", "text": "t"}]),
        "end_turn",
    );
    let second = turn(
        4,
        MAIN,
        json!([prompt(), {"role": "assistant", "content": agent},
               {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_a", "content": "none"}]}]),
        json!([{"type": "text", "text": "No callers."}]),
        "end_turn",
    );
    let late = turn(
        5,
        "You are a search sub-agent.",
        json!([{"role": "user", "content": "again"}]),
        json!([{"type": "text", "text": "x"}]),
        "end_turn",
    );
    let s = story(vec![first, sub, side, second, late]);
    let main = s.lanes[0].thread;
    let parents: Vec<Option<Parent>> = s.lanes.iter().map(|l| l.parent).collect();
    assert_eq!(parents[0], None);
    let under = |turn| Some(Parent { thread: main, turn });
    // The sub-agent and the side request ran while turn 1 awaited the
    // Agent tool's result; the late one while turn 4 was the latest.
    assert_eq!(parents[1..], [under(1), under(1), under(4)], "{parents:?}");
}
