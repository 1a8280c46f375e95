//! LLM and MCP exchanges built from the providers' documented wire formats:
//! a two-turn Anthropic conversation (streamed with thinking and a tool
//! call, then the tool result), an OpenAI chat call, an MCP tools/call and
//! a reply still streaming.

use llmspy::exchange::*;
use serde_json::{Value, json};

use super::support::{exchange, request, response};

fn post_json(host: &str, path: &str, body: &Value) -> Request {
    let mut req = request("POST", "https", host, path);
    req.headers.push("content-type", "application/json");
    req.headers.push("x-api-key", "sk-ant-test-0000");
    req.body = Body::from_bytes(body.to_string());
    req
}

/// An SSE response whose events arrive at the given microseconds.
fn sse(id: ExchangeId, req: Request, events: &[(&str, Value, u64)], done: bool) -> Exchange {
    let mut body = Vec::new();
    let mut chunks = Vec::new();
    for (name, data, at_us) in events {
        let frame = format!("event: {name}\ndata: {data}\n\n");
        chunks.push(Chunk {
            at_us: *at_us,
            offset: body.len() as u64,
            len: frame.len() as u64,
        });
        body.extend_from_slice(frame.as_bytes());
    }
    let mut ex = exchange(id, req, Some(response(200, "text/event-stream", &body)));
    ex.chunks = chunks;
    ex.timings.first_byte_us = ex.chunks.first().map(|c| c.at_us);
    if done {
        ex.timings.end_us = ex.chunks.last().map(|c| c.at_us + 1_000);
    } else {
        ex.state = State::Streaming;
        ex.timings.end_us = None;
    }
    ex
}

const SYSTEM: &str = "You are a weather assistant. Answer briefly and use tools when needed.";

fn tools() -> Value {
    json!([{
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    }])
}

fn first_turn_request() -> Value {
    json!({
        "model": "claude-sonnet-4-5", "max_tokens": 1024, "stream": true, "system": SYSTEM,
        "tools": tools(),
        "messages": [{"role": "user", "content": "What's the weather in Paris?"}]
    })
}

fn first_turn_events() -> Vec<(&'static str, Value, u64)> {
    vec![
        (
            "message_start",
            json!({"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"usage":{"input_tokens":420,"output_tokens":1,"cache_read_input_tokens":0,"cache_creation_input_tokens":0}}}),
            300_000,
        ),
        (
            "content_block_start",
            json!({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}),
            310_000,
        ),
        (
            "content_block_delta",
            json!({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"The user wants Paris weather; call the tool."}}),
            350_000,
        ),
        (
            "content_block_stop",
            json!({"type":"content_block_stop","index":0}),
            360_000,
        ),
        (
            "content_block_start",
            json!({"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}),
            370_000,
        ),
        (
            "content_block_delta",
            json!({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Let me check the weather in Paris."}}),
            400_000,
        ),
        (
            "content_block_stop",
            json!({"type":"content_block_stop","index":1}),
            410_000,
        ),
        (
            "content_block_start",
            json!({"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{}}}),
            900_000,
        ),
        (
            "content_block_delta",
            json!({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Pa"}}),
            920_000,
        ),
        (
            "content_block_delta",
            json!({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"ris\"}"}}),
            940_000,
        ),
        (
            "content_block_stop",
            json!({"type":"content_block_stop","index":2}),
            950_000,
        ),
        (
            "message_delta",
            json!({"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":58}}),
            960_000,
        ),
        ("message_stop", json!({"type":"message_stop"}), 970_000),
    ]
}

/// Turn 1: streamed, thinking, text, a tool call after a 490 ms pause.
pub fn anthropic_stream(id: ExchangeId) -> Exchange {
    let req = post_json("api.anthropic.com", "/v1/messages", &first_turn_request());
    sse(id, req, &first_turn_events(), true)
}

/// The same turn cut off mid-stream (still streaming).
pub fn anthropic_streaming(id: ExchangeId) -> Exchange {
    let req = post_json("api.anthropic.com", "/v1/messages", &first_turn_request());
    let events = first_turn_events();
    sse(id, req, &events[..6], false)
}

/// Turn 2: the tool result goes back; a plain JSON reply.
pub fn anthropic_tool_result(id: ExchangeId) -> Exchange {
    let body = json!({
        "model": "claude-sonnet-4-5", "max_tokens": 1024, "system": SYSTEM, "tools": tools(),
        "messages": [
            {"role": "user", "content": "What's the weather in Paris?"},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Let me check the weather in Paris."},
                {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01", "content": "18°C, light rain"}
            ]}
        ]
    });
    let reply = json!({
        "id": "msg_02", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": "It is 18°C with light rain in Paris. Take an umbrella."}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 480, "output_tokens": 21, "cache_read_input_tokens": 400, "cache_creation_input_tokens": 0}
    });
    let req = post_json("api.anthropic.com", "/v1/messages", &body);
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

pub fn openai_chat(id: ExchangeId) -> Exchange {
    let body = json!({
        "model": "gpt-4o-mini", "temperature": 0.2,
        "messages": [
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": "Name a prime number."}
        ]
    });
    let reply = json!({
        "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "7"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 20, "completion_tokens": 1, "total_tokens": 21}
    });
    let mut req = request("POST", "https", "api.openai.com", "/v1/chat/completions");
    req.headers.push("content-type", "application/json");
    req.headers.push("authorization", "Bearer sk-proj-test");
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

pub fn mcp_tools_call(id: ExchangeId) -> Exchange {
    let body = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "get_forecast", "arguments": {"city": "Paris", "days": 2}}});
    let reply = json!({"jsonrpc": "2.0", "id": 3,
        "result": {"content": [{"type": "text", "text": "Sat: rain. Sun: sun."}], "isError": false}});
    let mut req = request("POST", "http", "localhost", "/mcp");
    req.port = 8931;
    req.headers.push("content-type", "application/json");
    req.headers.push("mcp-session-id", "sess-42");
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

/// The LLM sample: a plain GET, both Anthropic turns, OpenAI, MCP, and a
/// reply still streaming.
pub fn sample() -> Vec<Exchange> {
    let get = exchange(
        1,
        request("GET", "https", "example.com", "/"),
        Some(response(200, "text/html", b"<html>hi</html>")),
    );
    vec![
        get,
        anthropic_stream(2),
        anthropic_tool_result(3),
        openai_chat(4),
        mcp_tools_call(5),
        anthropic_streaming(6),
    ]
}
