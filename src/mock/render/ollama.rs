//! Ollama `/api/chat` and `/api/generate`: one object, or NDJSON lines
//! with `done: false` and a final line carrying the counts.

use serde_json::{Value, json};

use super::pieces;
use crate::mock::completion::Completion;

/// A fixed timestamp keeps replays byte-identical.
const CREATED_AT: &str = "2024-01-01T00:00:00Z";

pub fn whole(c: &Completion, model: &str, generate: bool) -> Value {
    let mut out = line(&c.text, model, generate);
    if !generate && !c.tool_calls.is_empty() {
        out["message"]["tool_calls"] = calls(c);
    }
    done(out, c)
}

pub fn lines(c: &Completion, model: &str, generate: bool) -> Vec<Value> {
    let mut out: Vec<Value> = pieces(&c.text)
        .into_iter()
        .map(|p| line(&p, model, generate))
        .collect();
    let mut last = line("", model, generate);
    if !generate && !c.tool_calls.is_empty() {
        last["message"]["tool_calls"] = calls(c);
    }
    out.push(done(last, c));
    out
}

fn line(text: &str, model: &str, generate: bool) -> Value {
    if generate {
        json!({"model": model, "created_at": CREATED_AT, "response": text, "done": false})
    } else {
        json!({"model": model, "created_at": CREATED_AT,
            "message": {"role": "assistant", "content": text}, "done": false})
    }
}

fn calls(c: &Completion) -> Value {
    json!(
        c.tool_calls
            .iter()
            .map(|t| json!({"function": {"name": t.name, "arguments": t.arguments}}))
            .collect::<Vec<_>>()
    )
}

fn done(mut v: Value, c: &Completion) -> Value {
    v["done"] = json!(true);
    v["done_reason"] = json!(c.stop_reason.clone().unwrap_or_else(|| "stop".into()));
    v["prompt_eval_count"] = json!(c.input_tokens);
    v["eval_count"] = json!(c.output_tokens);
    v
}
