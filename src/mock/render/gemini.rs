//! Gemini `generateContent`: a `GenerateContentResponse`, or the chunks of
//! `streamGenerateContent` (the last one carrying the finish reason and
//! usage).

use serde_json::{Value, json};

use super::pieces;
use crate::mock::completion::Completion;

pub fn whole(c: &Completion, model: &str) -> Value {
    let mut parts = Vec::new();
    if !c.text.is_empty() {
        parts.push(json!({"text": c.text}));
    }
    parts.extend(calls(c));
    chunk(parts, Some(finish(c)), Some(c), model)
}

pub fn chunks(c: &Completion, model: &str) -> Vec<Value> {
    let mut out: Vec<Value> = pieces(&c.text)
        .into_iter()
        .map(|p| chunk(vec![json!({"text": p})], None, None, model))
        .collect();
    out.push(chunk(calls(c), Some(finish(c)), Some(c), model));
    out
}

fn calls(c: &Completion) -> Vec<Value> {
    c.tool_calls
        .iter()
        .map(|t| json!({"functionCall": {"name": t.name, "args": t.arguments}}))
        .collect()
}

fn finish(c: &Completion) -> String {
    c.stop_reason.clone().unwrap_or_else(|| "STOP".into())
}

fn chunk(
    parts: Vec<Value>,
    finish: Option<String>,
    usage: Option<&Completion>,
    model: &str,
) -> Value {
    let mut candidate = json!({"content": {"role": "model", "parts": parts}, "index": 0});
    if let Some(f) = finish {
        candidate["finishReason"] = json!(f);
    }
    let mut out = json!({"candidates": [candidate], "modelVersion": model});
    if let Some(c) = usage {
        out["usageMetadata"] = json!({"promptTokenCount": c.input_tokens,
            "candidatesTokenCount": c.output_tokens,
            "totalTokenCount": c.input_tokens + c.output_tokens});
    }
    out
}
