//! Anthropic Messages: a `message` object, or its event stream
//! (`message_start`, content blocks, `message_delta`, `message_stop`).

use serde_json::{Value, json};

use super::{SseOut, pieces, stop_reason};
use crate::mock::completion::Completion;

const ID: &str = "msg_llmspy_mock";

pub fn whole(c: &Completion, model: &str) -> Value {
    let mut content = Vec::new();
    if !c.text.is_empty() {
        content.push(json!({"type": "text", "text": c.text}));
    }
    for t in &c.tool_calls {
        content.push(json!({"type": "tool_use", "id": t.id, "name": t.name, "input": t.arguments}));
    }
    json!({
        "id": ID, "type": "message", "role": "assistant", "model": model,
        "content": content,
        "stop_reason": stop_reason(c, "tool_use", "end_turn"),
        "stop_sequence": null,
        "usage": {"input_tokens": c.input_tokens, "output_tokens": c.output_tokens},
    })
}

pub fn events(c: &Completion, model: &str) -> Vec<SseOut> {
    let mut out = vec![SseOut::named(
        "message_start",
        &json!({"type": "message_start", "message": {
            "id": ID, "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": c.input_tokens, "output_tokens": 1},
        }}),
    )];
    let mut index = 0;
    if !c.text.is_empty() {
        let start = json!({"type": "text", "text": ""});
        let deltas = pieces(&c.text)
            .into_iter()
            .map(|p| json!({"type": "text_delta", "text": p}))
            .collect();
        out.extend(block(index, start, deltas));
        index += 1;
    }
    for t in &c.tool_calls {
        let start = json!({"type": "tool_use", "id": t.id, "name": t.name, "input": {}});
        let delta = json!({"type": "input_json_delta", "partial_json": t.arguments_text()});
        out.extend(block(index, start, vec![delta]));
        index += 1;
    }
    out.push(SseOut::named(
        "message_delta",
        &json!({"type": "message_delta",
            "delta": {"stop_reason": stop_reason(c, "tool_use", "end_turn"), "stop_sequence": null},
            "usage": {"output_tokens": c.output_tokens}}),
    ));
    out.push(SseOut::named(
        "message_stop",
        &json!({"type": "message_stop"}),
    ));
    out
}

fn block(index: usize, start: Value, deltas: Vec<Value>) -> Vec<SseOut> {
    let mut out = vec![SseOut::named(
        "content_block_start",
        &json!({"type": "content_block_start", "index": index, "content_block": start}),
    )];
    for d in deltas {
        out.push(SseOut::named(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": index, "delta": d}),
        ));
    }
    out.push(SseOut::named(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": index}),
    ));
    out
}
