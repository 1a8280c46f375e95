//! OpenAI Chat Completions: a `chat.completion`, or `chat.completion.chunk`
//! events ending with a usage chunk and `[DONE]`.

use serde_json::{Value, json};

use super::{SseOut, pieces, stop_reason};
use crate::mock::completion::Completion;

const ID: &str = "chatcmpl-llmspy-mock";
/// A fixed creation time keeps replays byte-identical.
const CREATED: u64 = 1_700_000_000;

pub fn whole(c: &Completion, model: &str) -> Value {
    let mut message = json!({
        "role": "assistant",
        "content": if c.text.is_empty() { Value::Null } else { json!(c.text) },
        "refusal": null,
    });
    if !c.tool_calls.is_empty() {
        let calls: Vec<Value> = c
            .tool_calls
            .iter()
            .map(|t| {
                json!({"id": t.id, "type": "function",
                "function": {"name": t.name, "arguments": t.arguments_text()}})
            })
            .collect();
        message["tool_calls"] = json!(calls);
    }
    json!({
        "id": ID, "object": "chat.completion", "created": CREATED, "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": null,
            "finish_reason": stop_reason(c, "tool_calls", "stop")}],
        "usage": usage(c),
    })
}

pub fn events(c: &Completion, model: &str) -> Vec<SseOut> {
    let chunk = |delta: Value, finish: Value| {
        SseOut::data(&json!({
            "id": ID, "object": "chat.completion.chunk", "created": CREATED, "model": model,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        }))
    };
    let mut out = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    for p in pieces(&c.text) {
        out.push(chunk(json!({"content": p}), Value::Null));
    }
    for (i, t) in c.tool_calls.iter().enumerate() {
        out.push(chunk(
            json!({"tool_calls": [{"index": i, "id": t.id, "type": "function",
                "function": {"name": t.name, "arguments": ""}}]}),
            Value::Null,
        ));
        out.push(chunk(
            json!({"tool_calls": [{"index": i, "function": {"arguments": t.arguments_text()}}]}),
            Value::Null,
        ));
    }
    out.push(chunk(
        json!({}),
        json!(stop_reason(c, "tool_calls", "stop")),
    ));
    out.push(SseOut::data(&json!({
        "id": ID, "object": "chat.completion.chunk", "created": CREATED, "model": model,
        "choices": [], "usage": usage(c),
    })));
    out.push(SseOut {
        event: None,
        data: "[DONE]".into(),
    });
    out
}

fn usage(c: &Completion) -> Value {
    json!({"prompt_tokens": c.input_tokens, "completion_tokens": c.output_tokens,
        "total_tokens": c.input_tokens + c.output_tokens})
}
