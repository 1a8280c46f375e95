//! A Claude Code session in the Sessions screen: labelled with the user's
//! prompt (not the injected `<system-reminder>`), the MCP call its
//! tool_use caused inside the lane, the context chart, and a sub-agent's
//! lane under its parent.

use llmspy::exchange::*;
use serde_json::{Value, json};

use super::support::{exchange, request, response, snap_sample};

const SESSION: &str = "0f6c1e2a-5b7d-4c3e-9a1b-2d3e4f5a6b7c";
const MAIN: &str = "You are Claude Code, Anthropic's official CLI for Claude.";

fn claude_turn(
    id: ExchangeId,
    system: &str,
    messages: Value,
    content: Value,
    stop: &str,
) -> Exchange {
    let body = json!({
        "model": "claude-sonnet-4-5", "max_tokens": 32000, "system": system,
        "metadata": {"user_id": format!("{{\"device_id\":\"d\",\"account_uuid\":\"\",\"session_id\":\"{SESSION}\"}}")},
        "tools": [{"name": "mcp__weather__get_forecast", "input_schema": {"type": "object"}}],
        "messages": messages,
    });
    let reply = json!({
        "id": format!("msg_{id}"), "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": content, "stop_reason": stop,
        "usage": {"input_tokens": 40 * id, "output_tokens": 20, "cache_read_input_tokens": 3000 * id, "cache_creation_input_tokens": 500},
    });
    let mut req = request(
        "POST",
        "https",
        "api.anthropic.com",
        "/v1/messages?beta=true",
    );
    req.headers.push("content-type", "application/json");
    req.headers.push("x-claude-code-session-id", SESSION);
    req.body = Body::from_bytes(body.to_string());
    let mut ex = exchange(
        id,
        req,
        Some(response(
            200,
            "application/json",
            reply.to_string().as_bytes(),
        )),
    );
    ex.client_app = Some("claude".into());
    ex
}

fn prompt() -> Value {
    json!({"role": "user", "content": [
        {"type": "text", "text": "<system-reminder>\nAs you answer the user's questions, you can use the following context:\n# currentDate\nToday's date is 2026-12-05.\n</system-reminder>\n"},
        {"type": "text", "text": "Will it rain in Paris this weekend?"}
    ]})
}

fn forecast_call(id: ExchangeId) -> Exchange {
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": "get_forecast", "arguments": {"city": "Paris"}}});
    let reply = json!({"jsonrpc": "2.0", "id": 7,
        "result": {"content": [{"type": "text", "text": "Sat: rain. Sun: sun."}], "isError": false}});
    let mut req = request("POST", "stdio", "weather", "/");
    req.port = 0;
    req.headers.push("content-type", "application/json");
    req.body = Body::from_bytes(body.to_string());
    exchange(
        id,
        req,
        Some(response(
            200,
            "application/json",
            reply.to_string().as_bytes(),
        )),
    )
}

fn session() -> Vec<Exchange> {
    let tool_use = json!([{"type": "tool_use", "id": "toolu_1", "name": "mcp__weather__get_forecast", "input": {"city": "Paris"}}]);
    vec![
        claude_turn(1, MAIN, json!([prompt()]), tool_use.clone(), "tool_use"),
        forecast_call(2),
        claude_turn(
            3,
            &format!("{MAIN}\nThe user is in Paris."),
            json!([prompt(), {"role": "assistant", "content": tool_use},
                   {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "Sat: rain. Sun: sun."}]}]),
            json!([{"type": "text", "text": "Rain on Saturday, sun on Sunday."}]),
            "end_turn",
        ),
        claude_turn(
            4,
            "You are a research sub-agent. Report briefly.",
            json!([{"role": "user", "content": "Find last year's weekend rainfall in Paris"}]),
            json!([{"type": "text", "text": "About 3 mm."}]),
            "end_turn",
        ),
    ]
}

#[test]
fn a_claude_code_session_with_its_mcp_call_and_sub_agent() {
    // The first lane, its first turn selected: the MCP call it caused.
    snap_sample("agent_session", session, "S");
}

#[test]
fn d_shows_what_changed_at_the_turn() {
    // The second turn: a line added to the system prompt, two messages.
    snap_sample("agent_session_diff", session, "Sld");
}
