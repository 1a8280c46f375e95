//! OpenAI Chat Completions (`POST …/chat/completions`) and the many servers
//! that speak it (Azure OpenAI, OpenRouter, LiteLLM, vLLM, Ollama's `/v1`).
//!
//! Wire facts used here: system and developer instructions are messages;
//! tool calls carry their arguments as a JSON *string*; a stream is
//! `chat.completion.chunk` objects whose `delta`s are concatenated (tool
//! call pieces keyed by `index`), ending in `data: [DONE]`, with usage in
//! a last chunk when `stream_options.include_usage` is set;
//! `usage.prompt_tokens` *includes* `prompt_tokens_details.cached_tokens`
//! and `completion_tokens` includes `reasoning_tokens`. Reasoning text, when
//! a server sends it, comes as `reasoning_content` (DeepSeek, vLLM) or
//! `reasoning` (OpenRouter, Ollama).

use std::collections::BTreeMap;

use serde_json::Value;

use super::Parsed;
use super::body::{Format, Resp, error_in, sse_json};
use super::model::{
    Conversation, Message, Note, NoteKind, Params, Part, Reply, ThreadHints, ToolDef, ToolResult,
    Usage,
};
use super::timeline::StreamEvent;
use super::value::{
    array_at, bool_at, either, f64_at, flatten_text, image_from_url, nonempty_at, parse_arguments,
    quoted, str_at, string_at, tool_call, u64_at,
};

pub(super) fn request(v: &Value) -> Conversation {
    let messages = array_at(v, "messages").iter().map(message).collect();
    let (system, messages) = split_system(messages);
    let mut tools: Vec<ToolDef> = array_at(v, "tools").iter().map(tool).collect();
    tools.extend(array_at(v, "functions").iter().map(function_def));
    Conversation {
        system,
        messages,
        tools,
        params: Params {
            max_tokens: u64_at(v, "max_completion_tokens").or(u64_at(v, "max_tokens")),
            temperature: f64_at(v, "temperature"),
            top_p: f64_at(v, "top_p"),
            stream: bool_at(v, "stream"),
            reasoning: str_at(v, "reasoning_effort").map(|e| format!("effort {e}")),
        },
        hints: ThreadHints {
            user_id: string_at(v, "user").or_else(|| string_at(v, "safety_identifier")),
            ..ThreadHints::default()
        },
    }
}

/// Move leading `system`/`developer` messages into the system prompt, so
/// every provider's conversation has the same shape.
pub(super) fn split_system(messages: Vec<Message>) -> (Option<String>, Vec<Message>) {
    let leading = messages
        .iter()
        .take_while(|m| m.role == "system" || m.role == "developer")
        .count();
    if leading == 0 {
        return (None, messages);
    }
    let mut rest = messages;
    let head: Vec<Message> = rest.drain(..leading).collect();
    let text: Vec<String> = head
        .iter()
        .flat_map(|m| &m.parts)
        .filter_map(|p| match p {
            Part::Text { text } => Some(text.clone()),
            _ => None,
        })
        .collect();
    (Some(text.join("\n")), rest)
}

fn message(m: &Value) -> Message {
    let role = str_at(m, "role").unwrap_or("user");
    if role == "tool" || role == "function" {
        let id = string_at(m, "tool_call_id").or_else(|| string_at(m, "name"));
        let result = ToolResult {
            id: id.unwrap_or_default(),
            name: string_at(m, "name"),
            content: m.get("content").map(flatten_text).unwrap_or_default(),
            is_error: false,
        };
        return Message::new("tool", vec![Part::ToolResult(result)]);
    }
    let mut parts = Vec::new();
    if let Some(reasoning) = either(m, "reasoning_content", "reasoning").and_then(Value::as_str) {
        parts.push(Part::Thinking {
            text: reasoning.to_string(),
            redacted: false,
        });
    }
    parts.extend(content(m.get("content")));
    // A refusal comes beside `content` (then `null`), not inside it.
    if let Some(text) = nonempty_at(m, "refusal") {
        parts.push(Part::Refusal { text });
    }
    parts.extend(array_at(m, "tool_calls").iter().map(call));
    Message::new(role, parts)
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
        "text" | "input_text" => Part::Text {
            text: string_at(item, "text").unwrap_or_default(),
        },
        "refusal" => Part::Refusal {
            text: string_at(item, "refusal").unwrap_or_default(),
        },
        "image_url" => {
            let url = item
                .get("image_url")
                .map_or(&Value::Null, |u| u.get("url").unwrap_or(u));
            image_from_url(url.as_str().unwrap_or_default())
        }
        other => Part::Other {
            kind: other.to_string(),
        },
    }
}

fn call(c: &Value) -> Part {
    let function = c.get("function").unwrap_or(&Value::Null);
    let raw = str_at(function, "arguments").unwrap_or_default();
    let (arguments, _) = parse_arguments(raw);
    Part::ToolCall(super::model::ToolCall {
        id: string_at(c, "id").unwrap_or_default(),
        name: string_at(function, "name").unwrap_or_default(),
        arguments,
    })
}

fn tool(t: &Value) -> ToolDef {
    match t.get("function") {
        Some(f) => function_def(f),
        None => ToolDef {
            name: string_at(t, "name")
                .or_else(|| string_at(t, "type"))
                .unwrap_or_default(),
            description: string_at(t, "description"),
            schema: None,
            kind: string_at(t, "type"),
        },
    }
}

fn function_def(f: &Value) -> ToolDef {
    ToolDef {
        name: string_at(f, "name").unwrap_or_default(),
        description: string_at(f, "description"),
        schema: f.get("parameters").cloned(),
        kind: None,
    }
}

/// Convert an OpenAI `usage` object (Chat or Responses spelling).
pub(super) fn usage(u: &Value) -> Usage {
    let input = u64_at(u, "prompt_tokens").or(u64_at(u, "input_tokens"));
    let output = u64_at(u, "completion_tokens").or(u64_at(u, "output_tokens"));
    let in_details = either(u, "prompt_tokens_details", "input_tokens_details");
    let out_details = either(u, "completion_tokens_details", "output_tokens_details");
    let cached = in_details
        .and_then(|d| u64_at(d, "cached_tokens"))
        .or(u64_at(u, "prompt_cache_hit_tokens"));
    Usage {
        input_tokens: input.unwrap_or(0),
        output_tokens: output.unwrap_or(0),
        cache_read_tokens: cached.unwrap_or(0),
        cache_write_tokens: 0,
        cache_write_1h_tokens: 0,
        reasoning_tokens: reasoning_tokens(u, out_details),
        ..Usage::default()
    }
}

/// Reasoning tokens wherever a server reports them: OpenAI's details
/// object, or a top-level count (some gateways and local servers).
fn reasoning_tokens(u: &Value, details: Option<&Value>) -> u64 {
    details
        .and_then(|d| u64_at(d, "reasoning_tokens"))
        .or_else(|| u64_at(u, "reasoning_tokens"))
        .unwrap_or(0)
}

pub(super) fn reply(resp: &Resp, out: &mut Parsed) {
    match resp.format() {
        Format::Sse => stream(&resp.body, out),
        Format::Json | Format::JsonArray | Format::Ndjson => json_reply(&resp.body, out),
        Format::Empty => {}
    }
}

fn json_reply(body: &[u8], out: &mut Parsed) {
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            let note = format!("response: invalid JSON ({e})");
            out.notes.push(Note::new(NoteKind::Malformed, note));
            return;
        }
    };
    let choices = array_at(&v, "choices");
    if choices.len() > 1 {
        let note = format!("{} choices: showing the first", choices.len());
        out.notes.push(Note::new(NoteKind::Unknown, note));
    }
    let choice = choices.first().unwrap_or(&Value::Null);
    let message = choice.get("message").map(message);
    out.model = string_at(&v, "model").or(out.model.take());
    out.usage = v.get("usage").filter(|u| u.is_object()).map(usage);
    out.reported_cost = v.get("usage").and_then(|u| f64_at(u, "cost"));
    out.reply = Some(Reply {
        id: string_at(&v, "id"),
        parts: message.map(|m| m.parts).unwrap_or_default(),
        stop_reason: string_at(choice, "finish_reason"),
        error: error_in(&v),
    });
}

/// Tool call pieces gathered by their `index` in the deltas.
#[derive(Debug, Default)]
struct PendingCall {
    id: String,
    name: String,
    arguments: String,
}

#[derive(Debug, Default)]
struct Acc {
    reply: Reply,
    text: String,
    reasoning: String,
    refusal: String,
    calls: BTreeMap<u64, PendingCall>,
    done: bool,
}

fn stream(body: &[u8], out: &mut Parsed) {
    let mut acc = Acc::default();
    for (event, data) in sse_json(body, &mut out.notes) {
        let (kind, summary, token) = chunk(&mut acc, &data, out);
        let e = StreamEvent::new(event.offset, event.end, kind, summary);
        out.events.push(if token { e.token() } else { e });
    }
    finish(acc, out);
}

/// Apply one chunk; returns (event kind, summary, carried output).
fn chunk(acc: &mut Acc, data: &Value, out: &mut Parsed) -> (&'static str, String, bool) {
    if data.is_null() {
        acc.done = true;
        return ("done", "[DONE]".to_string(), false);
    }
    if let Some(mut err) = error_in(data) {
        err.mid_stream = true;
        let summary = format!("error: {}", err.message);
        acc.reply.error = Some(err);
        return ("error", summary, false);
    }
    acc.reply.id = acc.reply.id.take().or_else(|| nonempty_at(data, "id"));
    if let Some(model) = nonempty_at(data, "model") {
        out.model = Some(model);
    }
    let mut said = Vec::new();
    let mut token = false;
    if let Some(choice) = array_at(data, "choices").first() {
        token = delta(acc, choice.get("delta").unwrap_or(&Value::Null), &mut said);
        if let Some(reason) = string_at(choice, "finish_reason") {
            said.push(format!("finish {reason}"));
            acc.reply.stop_reason = Some(reason);
        }
    }
    if let Some(u) = data.get("usage").filter(|u| u.is_object()) {
        let usage = usage(u);
        said.push(format!(
            "usage {} in / {} out",
            usage.input_tokens, usage.output_tokens
        ));
        out.usage = Some(usage);
        out.reported_cost = f64_at(u, "cost").or(out.reported_cost);
    }
    let summary = if said.is_empty() {
        "(empty)".to_string()
    } else {
        said.join(" · ")
    };
    ("chunk", summary, token)
}

/// Apply one choice delta; true when it carried output.
fn delta(acc: &mut Acc, d: &Value, said: &mut Vec<String>) -> bool {
    let mut token = false;
    if let Some(text) = either(d, "reasoning_content", "reasoning").and_then(Value::as_str) {
        acc.reasoning.push_str(text);
        said.push(format!("reasoning {}", quoted(text)));
        token = true;
    }
    if let Some(text) = str_at(d, "content") {
        acc.text.push_str(text);
        said.push(format!("text {}", quoted(text)));
        token = true;
    }
    if let Some(text) = str_at(d, "refusal").filter(|t| !t.is_empty()) {
        acc.refusal.push_str(text);
        said.push(format!("refusal {}", quoted(text)));
        token = true;
    }
    for piece in array_at(d, "tool_calls") {
        let index = u64_at(piece, "index").unwrap_or(0);
        let call = acc.calls.entry(index).or_default();
        if let Some(id) = str_at(piece, "id") {
            call.id = id.to_string();
        }
        let function = piece.get("function").unwrap_or(&Value::Null);
        if let Some(name) = str_at(function, "name") {
            call.name.push_str(name);
            said.push(format!("tool_call {name}"));
        }
        if let Some(args) = str_at(function, "arguments") {
            call.arguments.push_str(args);
            said.push(format!("args {}", quoted(args)));
        }
        token = true;
    }
    token
}

fn finish(mut acc: Acc, out: &mut Parsed) {
    if !acc.reasoning.is_empty() {
        acc.reply.parts.push(Part::Thinking {
            text: std::mem::take(&mut acc.reasoning),
            redacted: false,
        });
    }
    if !acc.text.is_empty() {
        acc.reply.parts.push(Part::Text {
            text: std::mem::take(&mut acc.text),
        });
    }
    if !acc.refusal.is_empty() {
        acc.reply.parts.push(Part::Refusal {
            text: std::mem::take(&mut acc.refusal),
        });
    }
    for (_, c) in std::mem::take(&mut acc.calls) {
        let (call, ok) = tool_call(c.id, c.name, &c.arguments);
        if !ok {
            let note = format!("tool {} arguments are not valid JSON", call.name);
            out.notes.push(Note::new(NoteKind::Incomplete, note));
        }
        acc.reply.parts.push(Part::ToolCall(call));
    }
    if !acc.done && acc.reply.error.is_none() {
        let note = "stream ended before [DONE]: the reply may be partial";
        out.notes.push(Note::new(NoteKind::Incomplete, note));
    }
    out.reply = Some(acc.reply);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cached_and_reasoning_tokens_are_parts_of_the_totals() {
        let u = usage(&json!({
            "prompt_tokens": 2006, "completion_tokens": 300, "total_tokens": 2306,
            "prompt_tokens_details": {"cached_tokens": 1920},
            "completion_tokens_details": {"reasoning_tokens": 256}
        }));
        assert_eq!((u.input_tokens, u.cache_read_tokens), (2006, 1920));
        assert_eq!((u.output_tokens, u.reasoning_tokens), (300, 256));
        assert_eq!(u.uncached_input(), 86);
    }

    #[test]
    fn request_messages_table() {
        let c = request(&json!({
            "model": "gpt-4o",
            "messages": [
                {"role": "system", "content": "Be terse."},
                {"role": "user", "content": [{"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "https://x/cat.png"}}]},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "ok"}
            ],
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
            "max_completion_tokens": 100, "reasoning_effort": "low"
        }));
        assert_eq!(c.system.as_deref(), Some("Be terse."));
        assert_eq!(c.messages.len(), 3);
        assert!(matches!(
            &c.messages[0].parts[1],
            Part::Image { url: Some(_), .. }
        ));
        let Part::ToolCall(tc) = &c.messages[1].parts[0] else {
            panic!("tool call")
        };
        assert_eq!(tc.arguments, json!({"a": 1}));
        assert!(matches!(&c.messages[2].parts[0], Part::ToolResult(r) if r.id == "call_1"));
        assert_eq!(c.params.max_tokens, Some(100));
        assert_eq!(c.params.reasoning.as_deref(), Some("effort low"));
        assert_eq!(c.tools[0].name, "f");
    }
}
