//! OpenAI Responses: a `response` object, or its typed event stream
//! (`response.created` … `response.completed`, each with a sequence number).

use serde_json::{Value, json};

use super::{SseOut, pieces};
use crate::mock::completion::Completion;

const ID: &str = "resp_llmspy_mock";
const MESSAGE_ID: &str = "msg_llmspy_mock";
const CREATED: u64 = 1_700_000_000;

pub fn whole(c: &Completion, model: &str) -> Value {
    response(c, model, "completed", output(c))
}

fn response(c: &Completion, model: &str, status: &str, output: Vec<Value>) -> Value {
    json!({
        "id": ID, "object": "response", "created_at": CREATED, "status": status,
        "model": model, "output": output, "error": null, "incomplete_details": null,
        "parallel_tool_calls": true, "tool_choice": "auto", "tools": [],
        "usage": {"input_tokens": c.input_tokens, "output_tokens": c.output_tokens,
            "total_tokens": c.input_tokens + c.output_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0}},
    })
}

fn output(c: &Completion) -> Vec<Value> {
    let mut out = Vec::new();
    if !c.text.is_empty() {
        out.push(message(&c.text, "completed"));
    }
    for (i, t) in c.tool_calls.iter().enumerate() {
        out.push(function_call(c, i, &t.arguments_text(), "completed"));
    }
    out
}

fn message(text: &str, status: &str) -> Value {
    let content: Vec<Value> = if status == "completed" {
        vec![json!({"type": "output_text", "text": text, "annotations": []})]
    } else {
        vec![]
    };
    json!({"type": "message", "id": MESSAGE_ID, "status": status, "role": "assistant",
        "content": content})
}

fn function_call(c: &Completion, i: usize, args: &str, status: &str) -> Value {
    let t = &c.tool_calls[i];
    json!({"type": "function_call", "id": format!("fc_llmspy_{i}"), "call_id": t.id,
        "name": t.name, "arguments": args, "status": status})
}

pub fn events(c: &Completion, model: &str) -> Vec<SseOut> {
    let mut list: Vec<(String, Value)> = Vec::new();
    let pending = response(c, model, "in_progress", vec![]);
    list.push((
        "response.created".into(),
        json!({"response": pending.clone()}),
    ));
    list.push(("response.in_progress".into(), json!({"response": pending})));
    let mut index = 0;
    if !c.text.is_empty() {
        text_events(&c.text, index, &mut list);
        index += 1;
    }
    for i in 0..c.tool_calls.len() {
        call_events(c, i, index, &mut list);
        index += 1;
    }
    list.push((
        "response.completed".into(),
        json!({"response": whole(c, model)}),
    ));
    list.into_iter()
        .enumerate()
        .map(|(seq, (kind, mut body))| {
            body["type"] = json!(kind);
            body["sequence_number"] = json!(seq);
            SseOut::named(&kind, &body)
        })
        .collect()
}

fn text_events(text: &str, index: usize, list: &mut Vec<(String, Value)>) {
    let at = json!({"item_id": MESSAGE_ID, "output_index": index, "content_index": 0});
    let with = |extra: Value| {
        let mut v = at.clone();
        if let (Some(m), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            m.extend(e.clone());
        }
        v
    };
    let part = json!({"type": "output_text", "text": text, "annotations": []});
    list.push((
        "response.output_item.added".into(),
        json!({"output_index": index, "item": message(text, "in_progress")}),
    ));
    list.push((
        "response.content_part.added".into(),
        with(json!({"part": {"type": "output_text", "text": "", "annotations": []}})),
    ));
    for p in pieces(text) {
        list.push((
            "response.output_text.delta".into(),
            with(json!({"delta": p})),
        ));
    }
    list.push((
        "response.output_text.done".into(),
        with(json!({"text": text})),
    ));
    list.push((
        "response.content_part.done".into(),
        with(json!({"part": part})),
    ));
    list.push((
        "response.output_item.done".into(),
        json!({"output_index": index, "item": message(text, "completed")}),
    ));
}

fn call_events(c: &Completion, i: usize, index: usize, list: &mut Vec<(String, Value)>) {
    let args = c.tool_calls[i].arguments_text();
    let item_id = format!("fc_llmspy_{i}");
    list.push((
        "response.output_item.added".into(),
        json!({"output_index": index, "item": function_call(c, i, "", "in_progress")}),
    ));
    list.push((
        "response.function_call_arguments.delta".into(),
        json!({"item_id": item_id, "output_index": index, "delta": args}),
    ));
    list.push((
        "response.function_call_arguments.done".into(),
        json!({"item_id": item_id, "output_index": index, "arguments": args}),
    ));
    list.push((
        "response.output_item.done".into(),
        json!({"output_index": index, "item": function_call(c, i, &args, "completed")}),
    ));
}
