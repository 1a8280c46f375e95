//! Amazon Bedrock's Converse API (`POST /model/{modelId}/converse`), one
//! message shape for every model on Bedrock, and — in
//! [`super::converse_stream`] — `converse-stream`.
//!
//! Wire facts used here: the model is only in the path; `system` is a list
//! of `{text}` blocks; a content block is one key naming its kind (`text`,
//! `image`, `document`, `toolUse`, `toolResult`, `reasoningContent`,
//! `cachePoint`, …); tools are `toolConfig.tools[].toolSpec` with the
//! schema under `inputSchema.json`; `usage.inputTokens` *excludes*
//! `cacheReadInputTokens` and `cacheWriteInputTokens`, as Anthropic's does.

use serde_json::Value;

use super::Parsed;
use super::body::{Format, Resp};
use super::model::{
    Conversation, Message, Note, NoteKind, Params, Part, Reply, ToolCall, ToolDef, ToolResult,
    Usage,
};
use super::value::{array_at, base64_len, f64_at, flatten_text, str_at, string_at, u64_at};

pub(super) fn request(v: &Value, path: &str) -> Conversation {
    let config = v.get("inferenceConfig").unwrap_or(&Value::Null);
    let extra = v
        .get("additionalModelRequestFields")
        .unwrap_or(&Value::Null);
    let system: Vec<&str> = array_at(v, "system")
        .iter()
        .filter_map(|b| str_at(b, "text"))
        .collect();
    let tools = v
        .get("toolConfig")
        .map_or(&[][..], |t| array_at(t, "tools"));
    Conversation {
        system: (!system.is_empty()).then(|| system.join("\n")),
        messages: array_at(v, "messages").iter().map(message).collect(),
        tools: tools.iter().filter_map(tool).collect(),
        params: Params {
            max_tokens: u64_at(config, "maxTokens"),
            temperature: f64_at(config, "temperature"),
            top_p: f64_at(config, "topP"),
            stream: Some(path.ends_with("/converse-stream")),
            reasoning: reasoning_setting(extra),
        },
        hints: Default::default(),
    }
}

/// Anthropic's `thinking` or Nova's `reasoningConfig`, passed through
/// `additionalModelRequestFields`.
fn reasoning_setting(extra: &Value) -> Option<String> {
    if let Some(budget) = extra
        .get("thinking")
        .and_then(|t| u64_at(t, "budget_tokens"))
    {
        return Some(format!("budget {budget} tokens"));
    }
    let config = extra.get("reasoningConfig")?;
    str_at(config, "maxReasoningEffort").map(|e| format!("effort {e}"))
}

fn message(m: &Value) -> Message {
    let role = str_at(m, "role").unwrap_or("user");
    Message::new(role, array_at(m, "content").iter().map(block).collect())
}

/// One content block, in a request or a reply.
pub(super) fn block(b: &Value) -> Part {
    if let Some(text) = str_at(b, "text") {
        return Part::Text {
            text: text.to_string(),
        };
    }
    if let Some(u) = b.get("toolUse") {
        return Part::ToolCall(ToolCall {
            id: string_at(u, "toolUseId").unwrap_or_default(),
            name: string_at(u, "name").unwrap_or_default(),
            arguments: u.get("input").cloned().unwrap_or(Value::Null),
        });
    }
    if let Some(r) = b.get("toolResult") {
        return Part::ToolResult(tool_result(r));
    }
    if let Some(r) = b.get("reasoningContent") {
        return reasoning(r);
    }
    if let Some(img) = b.get("image") {
        let source = img.get("source").unwrap_or(&Value::Null);
        return Part::Image {
            media_type: str_at(img, "format").map(|f| format!("image/{f}")),
            bytes: str_at(source, "bytes").map(base64_len),
            url: source.get("s3Location").and_then(|s| string_at(s, "uri")),
        };
    }
    let kind = b.as_object().and_then(|o| o.keys().next().cloned());
    Part::Other {
        kind: kind.unwrap_or_else(|| "block".to_string()),
    }
}

fn tool_result(r: &Value) -> ToolResult {
    let content: Vec<String> = array_at(r, "content")
        .iter()
        .map(|c| match (str_at(c, "text"), c.get("json")) {
            (Some(text), _) => text.to_string(),
            (None, Some(json)) => json.to_string(),
            (None, None) => flatten_text(&Value::Array(vec![c.clone()])),
        })
        .collect();
    ToolResult {
        id: string_at(r, "toolUseId").unwrap_or_default(),
        name: None,
        content: content.join("\n"),
        is_error: str_at(r, "status") == Some("error"),
    }
}

fn reasoning(r: &Value) -> Part {
    match r.get("reasoningText") {
        Some(t) => Part::Thinking {
            text: string_at(t, "text").unwrap_or_default(),
            redacted: false,
        },
        None => Part::Thinking {
            text: String::new(),
            redacted: r.get("redactedContent").is_some(),
        },
    }
}

fn tool(t: &Value) -> Option<ToolDef> {
    let spec = t.get("toolSpec")?;
    Some(ToolDef {
        name: string_at(spec, "name").unwrap_or_default(),
        description: string_at(spec, "description"),
        schema: spec.get("inputSchema").and_then(|s| s.get("json")).cloned(),
        kind: None,
    })
}

/// Convert a Converse `usage` object to the shared convention.
pub(super) fn usage(u: &Value) -> Usage {
    let fresh = u64_at(u, "inputTokens").unwrap_or(0);
    let read = u64_at(u, "cacheReadInputTokens").unwrap_or(0);
    let write = u64_at(u, "cacheWriteInputTokens").unwrap_or(0);
    Usage {
        input_tokens: fresh + read + write,
        output_tokens: u64_at(u, "outputTokens").unwrap_or(0),
        cache_read_tokens: read,
        cache_write_tokens: write,
        ..Usage::default()
    }
}

pub(super) fn reply(resp: &Resp, out: &mut Parsed) {
    if resp.content_type.contains("amazon.eventstream") {
        return super::converse_stream::decode(&resp.body, out);
    }
    if resp.format() == Format::Empty {
        return;
    }
    let v: Value = match serde_json::from_slice(&resp.body) {
        Ok(v) => v,
        Err(e) => {
            let note = format!("response: invalid JSON ({e})");
            out.notes.push(Note::new(NoteKind::Malformed, note));
            return;
        }
    };
    let message = v
        .get("output")
        .and_then(|o| o.get("message"))
        .unwrap_or(&Value::Null);
    out.usage = v.get("usage").filter(|u| u.is_object()).map(usage);
    out.reply = Some(Reply {
        id: None,
        parts: array_at(message, "content").iter().map(block).collect(),
        stop_reason: string_at(&v, "stopReason"),
        error: None,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn request_blocks_tools_and_settings() {
        let c = request(
            &json!({
                "system": [{"text": "Be brief."}, {"cachePoint": {"type": "default"}}],
                "inferenceConfig": {"maxTokens": 512, "temperature": 0.2},
                "additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 2000}},
                "toolConfig": {"tools": [{"toolSpec": {"name": "w", "description": "Weather",
                    "inputSchema": {"json": {"type": "object"}}}}]},
                "messages": [
                    {"role": "user", "content": [{"text": "Hi"}, {"image": {"format": "png", "source": {"bytes": "aGVsbG8="}}}]},
                    {"role": "assistant", "content": [{"reasoningContent": {"reasoningText": {"text": "hm", "signature": "s"}}},
                        {"toolUse": {"toolUseId": "t1", "name": "w", "input": {"city": "Oslo"}}}]},
                    {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "status": "error",
                        "content": [{"text": "down"}, {"json": {"code": 503}}]}}]}
                ]
            }),
            "/model/amazon.nova-pro-v1:0/converse-stream",
        );
        assert_eq!(c.system.as_deref(), Some("Be brief."));
        assert_eq!(c.params.max_tokens, Some(512));
        assert_eq!(c.params.stream, Some(true));
        assert_eq!(c.params.reasoning.as_deref(), Some("budget 2000 tokens"));
        assert_eq!(c.tools[0].schema, Some(json!({"type": "object"})));
        assert!(matches!(
            &c.messages[0].parts[1],
            Part::Image { bytes: Some(5), .. }
        ));
        assert!(matches!(&c.messages[1].parts[0], Part::Thinking { text, .. } if text == "hm"));
        assert!(
            matches!(&c.messages[2].parts[0], Part::ToolResult(r) if r.is_error && r.content == "down\n{\"code\":503}")
        );
    }

    #[test]
    fn cached_tokens_are_added_to_input() {
        let u = usage(
            &json!({"inputTokens": 4, "outputTokens": 120, "totalTokens": 1240,
            "cacheReadInputTokens": 1116, "cacheWriteInputTokens": 0}),
        );
        assert_eq!(
            (u.input_tokens, u.cache_read_tokens, u.output_tokens),
            (1120, 1116, 120)
        );
    }
}
