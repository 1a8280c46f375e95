//! OpenAI Responses API (`POST …/responses`): `instructions` plus `input`
//! items (messages, `function_call`, `function_call_output`, `reasoning`),
//! a `response` object with `output` items, and — in
//! [`super::responses_stream`] — the typed SSE stream.
//!
//! Wire facts used here: `usage.input_tokens` *includes*
//! `input_tokens_details.cached_tokens`; `output_tokens` includes
//! `output_tokens_details.reasoning_tokens`; `previous_response_id` chains
//! turns server-side, so a request may carry only the newest input.

use serde_json::Value;

use super::Parsed;
use super::body::{Format, Resp};
use super::model::{
    ApiError, Conversation, Message, Note, NoteKind, Params, Part, Reply, ThreadHints, ToolDef,
};
use super::openai_chat::{split_system, usage};
use super::responses_items::{call_output, output_parts, server_tools};
use super::value::{array_at, bool_at, f64_at, image_from_url, str_at, string_at, u64_at};

pub(super) fn request(v: &Value) -> Conversation {
    let messages = match v.get("input") {
        Some(Value::String(text)) => vec![Message::new(
            "user",
            vec![Part::Text { text: text.clone() }],
        )],
        Some(Value::Array(items)) => items.iter().map(input_item).collect(),
        _ => Vec::new(),
    };
    let (leading, messages) = split_system(messages);
    let instructions = string_at(v, "instructions");
    let system = match (instructions, leading) {
        (Some(a), Some(b)) => Some(format!("{a}\n{b}")),
        (a, b) => a.or(b),
    };
    Conversation {
        system,
        messages,
        tools: array_at(v, "tools").iter().map(tool).collect(),
        params: Params {
            max_tokens: u64_at(v, "max_output_tokens"),
            temperature: f64_at(v, "temperature"),
            top_p: f64_at(v, "top_p"),
            stream: bool_at(v, "stream"),
            reasoning: v
                .get("reasoning")
                .and_then(|r| str_at(r, "effort"))
                .map(|e| format!("effort {e}")),
        },
        hints: ThreadHints {
            user_id: string_at(v, "user").or_else(|| string_at(v, "safety_identifier")),
            previous_response_id: string_at(v, "previous_response_id"),
            conversation: v.get("conversation").and_then(conversation_id),
            ..ThreadHints::default()
        },
    }
}

fn conversation_id(c: &Value) -> Option<String> {
    c.as_str()
        .map(str::to_string)
        .or_else(|| string_at(c, "id"))
}

/// One input item: a message, or a tool call/result/reasoning item.
fn input_item(item: &Value) -> Message {
    match str_at(item, "type") {
        None | Some("message") => {
            let role = str_at(item, "role").unwrap_or("user");
            Message::new(role, content(item.get("content")))
        }
        Some(_) => match call_output(item) {
            Some(result) => Message::new("tool", vec![result]),
            None => Message::new("assistant", output_parts(item)),
        },
    }
}

fn content(c: Option<&Value>) -> Vec<Part> {
    match c {
        Some(Value::String(text)) => vec![Part::Text { text: text.clone() }],
        Some(Value::Array(items)) => items.iter().map(content_part).collect(),
        _ => Vec::new(),
    }
}

fn content_part(item: &Value) -> Part {
    match str_at(item, "type").unwrap_or_default() {
        "input_text" | "output_text" | "text" => Part::Text {
            text: string_at(item, "text").unwrap_or_default(),
        },
        "refusal" => Part::Refusal {
            text: string_at(item, "refusal").unwrap_or_default(),
        },
        "input_image" => match str_at(item, "image_url") {
            Some(url) => image_from_url(url),
            None => Part::Image {
                media_type: None,
                bytes: None,
                url: string_at(item, "file_id"),
            },
        },
        other => Part::Other {
            kind: other.to_string(),
        },
    }
}

fn tool(t: &Value) -> ToolDef {
    let kind = str_at(t, "type").unwrap_or("function");
    let name = string_at(t, "name")
        .or_else(|| string_at(t, "server_label"))
        .unwrap_or_else(|| kind.to_string());
    ToolDef {
        name,
        description: string_at(t, "description"),
        schema: t.get("parameters").cloned(),
        kind: (kind != "function").then(|| kind.to_string()),
    }
}

pub(super) fn reply(resp: &Resp, out: &mut Parsed) {
    match resp.format() {
        Format::Sse => super::responses_stream::decode(&resp.body, out),
        Format::Json | Format::JsonArray | Format::Ndjson => json_reply(&resp.body, out),
        Format::Empty => {}
    }
}

fn json_reply(body: &[u8], out: &mut Parsed) {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => apply_response(&v, out),
        Err(e) => {
            let note = format!("response: invalid JSON ({e})");
            out.notes.push(Note::new(NoteKind::Malformed, note));
        }
    }
}

/// Fill the reply and usage from a `response` object.
pub(super) fn apply_response(v: &Value, out: &mut Parsed) {
    if let Some(model) = string_at(v, "model") {
        out.model = Some(model);
    }
    let output = array_at(v, "output");
    if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
        let mut usage = usage(u);
        usage.server_tools = server_tools(output);
        out.usage = Some(usage);
    }
    out.reply = Some(Reply {
        id: string_at(v, "id"),
        parts: output.iter().flat_map(output_parts).collect(),
        stop_reason: stop_reason(v),
        error: response_error(v),
    });
}

/// `completed`, `failed`, or why it is `incomplete` (`max_output_tokens`).
pub(super) fn stop_reason(v: &Value) -> Option<String> {
    let status = str_at(v, "status")?;
    let why = v
        .get("incomplete_details")
        .and_then(|d| str_at(d, "reason"));
    Some(why.unwrap_or(status).to_string())
}

fn response_error(v: &Value) -> Option<ApiError> {
    let e = v.get("error").filter(|e| e.is_object())?;
    Some(ApiError {
        status: None,
        kind: string_at(e, "code"),
        message: string_at(e, "message").unwrap_or_default(),
        mid_stream: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn input_items_table() {
        let c = request(&json!({
            "model": "gpt-5", "instructions": "Be helpful.",
            "previous_response_id": "resp_1", "conversation": {"id": "conv_9"},
            "reasoning": {"effort": "medium"},
            "input": [
                {"role": "developer", "content": "Use metric units."},
                {"role": "user", "content": [{"type": "input_text", "text": "Weather?"}]},
                {"type": "function_call", "call_id": "c1", "name": "w", "arguments": "{\"city\":\"Paris\"}"},
                {"type": "function_call_output", "call_id": "c1", "output": "18C"},
                {"type": "reasoning", "summary": [], "encrypted_content": "gAAA"}
            ],
            "tools": [{"type": "function", "name": "w", "parameters": {}}, {"type": "web_search"}]
        }));
        assert_eq!(c.system.as_deref(), Some("Be helpful.\nUse metric units."));
        assert_eq!(c.messages.len(), 4);
        assert!(
            matches!(&c.messages[1].parts[0], Part::ToolCall(t) if t.arguments == json!({"city": "Paris"}))
        );
        assert!(matches!(&c.messages[2].parts[0], Part::ToolResult(r) if r.content == "18C"));
        assert!(matches!(
            &c.messages[3].parts[0],
            Part::Thinking { redacted: true, .. }
        ));
        assert_eq!(c.hints.previous_response_id.as_deref(), Some("resp_1"));
        assert_eq!(c.hints.conversation.as_deref(), Some("conv_9"));
        assert_eq!(c.tools[1].kind.as_deref(), Some("web_search"));
    }

    #[test]
    fn stop_reasons() {
        let cases = [
            (json!({"status": "completed"}), Some("completed")),
            (
                json!({"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}}),
                Some("max_output_tokens"),
            ),
            (json!({}), None),
        ];
        for (v, want) in cases {
            assert_eq!(stop_reason(&v).as_deref(), want);
        }
    }
}
