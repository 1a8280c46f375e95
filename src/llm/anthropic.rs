//! Anthropic Messages API (`POST /v1/messages`, also via Vertex AI and
//! Bedrock and Anthropic-compatible gateways): the request, a JSON reply,
//! and — in [`super::anthropic_stream`] — the SSE stream.
//!
//! Wire facts used here: `system` is a string or text blocks; message
//! `content` is a string or blocks (`text`, `image`, `document`,
//! `tool_use`, `tool_result`, `thinking`, `redacted_thinking`, server tool
//! blocks); `usage.input_tokens` excludes `cache_read_input_tokens` and
//! `cache_creation_input_tokens`, which are counted on top of it.

use serde_json::Value;

use super::Parsed;
use super::body::{Format, Resp};
use super::model::{
    Conversation, Message, Note, NoteKind, Params, Part, Reply, ServerTools, ThreadHints, ToolCall,
    ToolDef, ToolResult, Usage,
};
use super::value::{
    array_at, base64_len, bool_at, f64_at, flatten_text, str_at, string_at, u64_at,
};

/// Decode the request body.
pub(super) fn request(v: &Value) -> Conversation {
    Conversation {
        system: v.get("system").map(flatten_text).filter(|s| !s.is_empty()),
        messages: array_at(v, "messages").iter().map(message).collect(),
        tools: array_at(v, "tools").iter().map(tool).collect(),
        params: params(v),
        hints: ThreadHints {
            user_id: v.get("metadata").and_then(|m| string_at(m, "user_id")),
            ..ThreadHints::default()
        },
    }
}

fn message(m: &Value) -> Message {
    let role = str_at(m, "role").unwrap_or("user");
    Message::new(role, content(m.get("content")))
}

/// Message content: a plain string or a list of blocks.
fn content(c: Option<&Value>) -> Vec<Part> {
    match c {
        Some(Value::String(text)) => vec![Part::Text { text: text.clone() }],
        Some(Value::Array(blocks)) => blocks.iter().map(part).collect(),
        _ => Vec::new(),
    }
}

/// One content block, in a request or a reply.
pub(super) fn part(block: &Value) -> Part {
    let kind = str_at(block, "type").unwrap_or_default();
    match kind {
        "text" => Part::Text {
            text: string_at(block, "text").unwrap_or_default(),
        },
        "image" => image(block.get("source")),
        "tool_use" | "server_tool_use" | "mcp_tool_use" => Part::ToolCall(tool_use(block)),
        "tool_result" | "mcp_tool_result" => Part::ToolResult(tool_result(block)),
        "thinking" => Part::Thinking {
            text: string_at(block, "thinking").unwrap_or_default(),
            redacted: false,
        },
        "redacted_thinking" => Part::Thinking {
            text: String::new(),
            redacted: true,
        },
        // Results of tools Anthropic ran itself (`web_search_tool_result`,
        // `web_fetch_tool_result`, `code_execution_tool_result`, …).
        other if other.ends_with("_tool_result") => Part::ToolResult(server_result(block)),
        other => Part::Other {
            kind: other.to_string(),
        },
    }
}

/// A server tool's result: the pages found or fetched, or the program's
/// output, as text; an `…_error` content is an error result.
fn server_result(block: &Value) -> ToolResult {
    let content = block.get("content").unwrap_or(&Value::Null);
    let items = match content {
        Value::Array(items) => items.as_slice(),
        other => std::slice::from_ref(other),
    };
    let is_error = items
        .iter()
        .any(|i| str_at(i, "type").is_some_and(|t| t.ends_with("_error")));
    let lines: Vec<String> = items.iter().filter_map(result_line).collect();
    ToolResult {
        id: string_at(block, "tool_use_id").unwrap_or_default(),
        name: None,
        content: lines.join("\n"),
        is_error,
    }
}

/// One line for one item of a server tool's result.
fn result_line(item: &Value) -> Option<String> {
    if let Some(code) = str_at(item, "error_code") {
        return Some(format!("error: {code}"));
    }
    let title = str_at(item, "title");
    if let Some(url) = str_at(item, "url") {
        return Some(match title {
            Some(t) => format!("{t} — {url}"),
            None => url.to_string(),
        });
    }
    let out: Vec<&str> = ["stdout", "stderr", "content", "text"]
        .iter()
        .filter_map(|k| str_at(item, k))
        .filter(|s| !s.is_empty())
        .collect();
    (!out.is_empty()).then(|| out.join("\n"))
}

fn image(source: Option<&Value>) -> Part {
    let source = source.unwrap_or(&Value::Null);
    Part::Image {
        media_type: string_at(source, "media_type"),
        bytes: str_at(source, "data").map(base64_len),
        url: string_at(source, "url"),
    }
}

fn tool_use(block: &Value) -> ToolCall {
    ToolCall {
        id: string_at(block, "id").unwrap_or_default(),
        name: string_at(block, "name").unwrap_or_default(),
        arguments: block.get("input").cloned().unwrap_or(Value::Null),
    }
}

fn tool_result(block: &Value) -> ToolResult {
    ToolResult {
        id: string_at(block, "tool_use_id").unwrap_or_default(),
        name: None,
        content: block.get("content").map(flatten_text).unwrap_or_default(),
        is_error: bool_at(block, "is_error").unwrap_or(false),
    }
}

fn tool(t: &Value) -> ToolDef {
    let kind = str_at(t, "type").filter(|k| *k != "custom");
    ToolDef {
        name: string_at(t, "name").unwrap_or_default(),
        description: string_at(t, "description"),
        schema: t.get("input_schema").cloned(),
        kind: kind.map(str::to_string),
    }
}

fn params(v: &Value) -> Params {
    Params {
        max_tokens: u64_at(v, "max_tokens"),
        temperature: f64_at(v, "temperature"),
        top_p: f64_at(v, "top_p"),
        stream: bool_at(v, "stream"),
        reasoning: v.get("thinking").and_then(thinking_setting),
    }
}

fn thinking_setting(t: &Value) -> Option<String> {
    match (str_at(t, "type"), u64_at(t, "budget_tokens")) {
        (Some("enabled"), Some(budget)) => Some(format!("budget {budget} tokens")),
        (Some("disabled"), _) | (None, _) => None,
        (Some(other), _) => Some(other.to_string()),
    }
}

/// Convert an Anthropic `usage` object to the shared convention.
pub(super) fn usage(u: &Value) -> Usage {
    let fresh = u64_at(u, "input_tokens").unwrap_or(0);
    let read = u64_at(u, "cache_read_input_tokens").unwrap_or(0);
    let write = u64_at(u, "cache_creation_input_tokens").unwrap_or(0);
    let write_1h = u
        .get("cache_creation")
        .and_then(|c| u64_at(c, "ephemeral_1h_input_tokens"))
        .unwrap_or(0);
    let output = u64_at(u, "output_tokens").unwrap_or(0);
    Usage {
        input_tokens: fresh + read + write,
        output_tokens: output,
        cache_read_tokens: read,
        cache_write_tokens: write,
        cache_write_1h_tokens: write_1h.min(write),
        reasoning_tokens: thinking_tokens(u).min(output),
        server_tools: server_tools(u.get("server_tool_use")),
    }
}

/// Thinking is billed inside `output_tokens`; newer replies also say how
/// much of it was thinking, in `output_tokens_details`.
fn thinking_tokens(u: &Value) -> u64 {
    let details = u.get("output_tokens_details").unwrap_or(&Value::Null);
    u64_at(details, "thinking_tokens")
        .or_else(|| u64_at(details, "reasoning_tokens"))
        .or_else(|| u64_at(u, "thinking_tokens"))
        .unwrap_or(0)
}

/// `usage.server_tool_use`: the searches and fetches run on Anthropic's
/// side, billed per use on top of tokens.
fn server_tools(s: Option<&Value>) -> ServerTools {
    let s = s.unwrap_or(&Value::Null);
    let n = |key: &str| u64_at(s, key).unwrap_or(0);
    ServerTools {
        web_search: n("web_search_requests"),
        web_fetch: n("web_fetch_requests"),
        code_execution: n("code_execution_requests"),
    }
}

/// Decode a successful response: JSON or SSE.
pub(super) fn reply(resp: &Resp, out: &mut Parsed) {
    match resp.format() {
        Format::Sse => super::anthropic_stream::decode(&resp.body, out),
        Format::Json | Format::JsonArray | Format::Ndjson => json_reply(&resp.body, out),
        Format::Empty => {}
    }
}

fn json_reply(body: &[u8], out: &mut Parsed) {
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            out.notes.push(Note::new(
                NoteKind::Malformed,
                format!("response: invalid JSON ({e})"),
            ));
            return;
        }
    };
    if let Some(model) = string_at(&v, "model") {
        out.model = Some(model);
    }
    out.usage = v.get("usage").map(usage);
    out.reply = Some(Reply {
        id: string_at(&v, "id"),
        parts: content(v.get("content")),
        stop_reason: string_at(&v, "stop_reason"),
        error: super::body::error_in(&v),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn usage_counts_cache_inside_input() {
        let u = usage(&json!({
            "input_tokens": 10, "output_tokens": 5,
            "cache_read_input_tokens": 1000, "cache_creation_input_tokens": 200,
            "cache_creation": {"ephemeral_5m_input_tokens": 150, "ephemeral_1h_input_tokens": 50}
        }));
        assert_eq!(
            u,
            Usage {
                input_tokens: 1210,
                output_tokens: 5,
                cache_read_tokens: 1000,
                cache_write_tokens: 200,
                cache_write_1h_tokens: 50,
                reasoning_tokens: 0,
                server_tools: ServerTools::default(),
            }
        );
        assert_eq!(u.uncached_input(), 10);
    }

    #[test]
    fn blocks_table() {
        let cases = [
            (
                json!({"type": "text", "text": "hi"}),
                Part::Text { text: "hi".into() },
            ),
            (
                json!({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "aGVsbG8="}}),
                Part::Image {
                    media_type: Some("image/png".into()),
                    bytes: Some(5),
                    url: None,
                },
            ),
            (
                json!({"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "42"}], "is_error": true}),
                Part::ToolResult(ToolResult {
                    id: "t1".into(),
                    name: None,
                    content: "42".into(),
                    is_error: true,
                }),
            ),
            (
                json!({"type": "redacted_thinking", "data": "xyz"}),
                Part::Thinking {
                    text: String::new(),
                    redacted: true,
                },
            ),
            (
                json!({"type": "document"}),
                Part::Other {
                    kind: "document".into(),
                },
            ),
        ];
        for (block, want) in cases {
            assert_eq!(part(&block), want, "{block}");
        }
    }

    #[test]
    fn request_with_system_blocks_tools_and_thinking() {
        let c = request(&json!({
            "model": "claude-sonnet-4-5", "max_tokens": 1024, "stream": true,
            "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
            "thinking": {"type": "enabled", "budget_tokens": 2048},
            "metadata": {"user_id": "user_abc_session_1"},
            "tools": [{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object"}},
                      {"type": "web_search_20250305", "name": "web_search"}],
            "messages": [{"role": "user", "content": "Hi"}]
        }));
        assert_eq!(c.system.as_deref(), Some("Be brief."));
        assert_eq!(c.params.reasoning.as_deref(), Some("budget 2048 tokens"));
        assert_eq!(c.params.stream, Some(true));
        assert_eq!(c.hints.user_id.as_deref(), Some("user_abc_session_1"));
        assert_eq!(c.tools[1].kind.as_deref(), Some("web_search_20250305"));
        assert_eq!(c.messages[0].parts, vec![Part::Text { text: "Hi".into() }]);
    }
}
