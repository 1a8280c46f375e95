//! Amazon Bedrock's wire: the Converse API's `output.message` reply and
//! `converse-stream` events, and every streamed reply (Anthropic's events
//! for `invoke-with-response-stream` included) as AWS event-stream
//! messages, the binary framing the AWS SDKs decode.

use base64::Engine;
use serde_json::{Value, json};

use super::{SseOut, pieces, stop_reason};
use crate::eventstream;
use crate::mock::completion::Completion;

pub fn whole(c: &Completion) -> Value {
    let mut content = Vec::new();
    if !c.text.is_empty() {
        content.push(json!({"text": c.text}));
    }
    for t in &c.tool_calls {
        content.push(json!({"toolUse": {"toolUseId": t.id, "name": t.name, "input": t.arguments}}));
    }
    json!({
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop_reason(c, "tool_use", "end_turn"),
        "usage": usage(c),
        "metrics": {"latencyMs": 0},
    })
}

fn usage(c: &Completion) -> Value {
    json!({"inputTokens": c.input_tokens, "outputTokens": c.output_tokens,
        "totalTokens": c.input_tokens + c.output_tokens})
}

/// `converse-stream`, one event-stream message per event.
pub fn converse_frames(c: &Completion) -> Vec<Vec<u8>> {
    let mut events = vec![("messageStart", json!({"role": "assistant"}))];
    let mut index = 0;
    if !c.text.is_empty() {
        for p in pieces(&c.text) {
            let delta = json!({"contentBlockIndex": index, "delta": {"text": p}});
            events.push(("contentBlockDelta", delta));
        }
        events.push(("contentBlockStop", json!({"contentBlockIndex": index})));
        index += 1;
    }
    for t in &c.tool_calls {
        let start = json!({"toolUse": {"toolUseId": t.id, "name": t.name}});
        events.push((
            "contentBlockStart",
            json!({"contentBlockIndex": index, "start": start}),
        ));
        let delta = json!({"toolUse": {"input": t.arguments_text()}});
        events.push((
            "contentBlockDelta",
            json!({"contentBlockIndex": index, "delta": delta}),
        ));
        events.push(("contentBlockStop", json!({"contentBlockIndex": index})));
        index += 1;
    }
    let stop = stop_reason(c, "tool_use", "end_turn");
    events.push(("messageStop", json!({"stopReason": stop})));
    events.push((
        "metadata",
        json!({"usage": usage(c), "metrics": {"latencyMs": 0}}),
    ));
    events
        .into_iter()
        .map(|(kind, data)| event(kind, &data.to_string()))
        .collect()
}

/// Anthropic stream events as `invoke-with-response-stream` sends them:
/// each event's JSON base64-encoded in a `chunk` event's `bytes`.
pub fn chunk_frames(events: &[SseOut]) -> Vec<Vec<u8>> {
    events
        .iter()
        .map(|e| {
            let bytes = base64::engine::general_purpose::STANDARD.encode(&e.data);
            event("chunk", &json!({"bytes": bytes}).to_string())
        })
        .collect()
}

fn event(kind: &str, payload: &str) -> Vec<u8> {
    eventstream::encode(
        &[
            (":event-type", kind),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload.as_bytes(),
    )
}
