//! Message content for `--otlp-content`, in the shape the GenAI
//! conventions give `gen_ai.input.messages`, `gen_ai.output.messages` and
//! `gen_ai.system_instructions` (JSON strings of role/parts objects). Built
//! from the masked copy of the exchange, so no secret rides along.

use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute as semconv;
use serde_json::{Value, json};

use crate::llm::{Analysis, Message, Part};

pub fn attributes(analysis: &Analysis) -> Vec<KeyValue> {
    let mut out = Vec::new();
    if let Some(system) = &analysis.request.system {
        let parts = json!([{"type": "text", "content": system}]);
        out.push(KeyValue::new(
            semconv::GEN_AI_SYSTEM_INSTRUCTIONS,
            parts.to_string(),
        ));
    }
    let input: Vec<Value> = analysis.request.messages.iter().map(message).collect();
    if !input.is_empty() {
        out.push(KeyValue::new(
            semconv::GEN_AI_INPUT_MESSAGES,
            Value::Array(input).to_string(),
        ));
    }
    if let Some(reply) = &analysis.reply {
        let mut msg = json!({
            "role": "assistant",
            "parts": reply.parts.iter().map(part).collect::<Vec<_>>(),
        });
        if let Some(stop) = &reply.stop_reason {
            msg["finish_reason"] = json!(stop);
        }
        out.push(KeyValue::new(
            semconv::GEN_AI_OUTPUT_MESSAGES,
            json!([msg]).to_string(),
        ));
    }
    out
}

fn message(m: &Message) -> Value {
    json!({"role": m.role, "parts": m.parts.iter().map(part).collect::<Vec<_>>()})
}

fn part(p: &Part) -> Value {
    match p {
        Part::Text { text } => json!({"type": "text", "content": text}),
        Part::Thinking { text, .. } => json!({"type": "reasoning", "content": text}),
        Part::ToolCall(c) => {
            json!({"type": "tool_call", "id": c.id, "name": c.name, "arguments": c.arguments})
        }
        Part::ToolResult(r) => {
            json!({"type": "tool_call_response", "id": r.id, "response": r.content})
        }
        Part::Image { media_type, .. } => {
            json!({"type": "blob", "modality": "image", "mime_type": media_type})
        }
        Part::Refusal { text } => json!({"type": "refusal", "content": text}),
        Part::Other { kind } => json!({"type": kind}),
    }
}
