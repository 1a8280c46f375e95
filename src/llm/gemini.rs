//! Google Gemini `generateContent` / `streamGenerateContent`, on the Gemini
//! API and on Vertex AI. The model is in the path. Streams are SSE with
//! `alt=sse`, otherwise a JSON array delivered element by element; each
//! element is a `GenerateContentResponse` whose parts continue the text.
//!
//! Wire facts used here: fields come camelCase (`systemInstruction`) or
//! snake_case (`system_instruction`); a part is `text` (with `thought:
//! true` for reasoning), `inlineData`, `fileData`, `functionCall` or
//! `functionResponse`; `usageMetadata.promptTokenCount` *includes*
//! `cachedContentTokenCount`, while `thoughtsTokenCount` is *beside*
//! `candidatesTokenCount`, not inside it.

use serde_json::Value;

use super::Parsed;
use super::body::{Format, Resp, error_in, json_array_items, sse_json};
use super::model::{
    ApiError, Conversation, Message, Note, NoteKind, Params, Part, Reply, ToolCall, ToolDef,
    ToolResult, Usage,
};
use super::timeline::StreamEvent;
use super::value::{
    array_at, base64_len, bool_at, either, f64_at, quoted, str_at, string_at, u64_at,
};

pub(super) fn request(v: &Value, path: &str) -> Conversation {
    let system = either(v, "systemInstruction", "system_instruction").map(instruction);
    let config = either(v, "generationConfig", "generation_config").unwrap_or(&Value::Null);
    Conversation {
        system: system.filter(|s| !s.is_empty()),
        messages: array_at(v, "contents").iter().map(content).collect(),
        tools: array_at(v, "tools").iter().flat_map(tools).collect(),
        params: Params {
            max_tokens: u64_at(config, "maxOutputTokens").or(u64_at(config, "max_output_tokens")),
            temperature: f64_at(config, "temperature"),
            top_p: f64_at(config, "topP").or(f64_at(config, "top_p")),
            stream: Some(path.contains(":streamgeneratecontent")),
            reasoning: either(config, "thinkingConfig", "thinking_config").and_then(thinking),
        },
        hints: Default::default(),
    }
}

fn instruction(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => texts(array_at(other, "parts")),
    }
}

fn texts(parts: &[Value]) -> String {
    parts
        .iter()
        .filter_map(|p| str_at(p, "text"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn thinking(t: &Value) -> Option<String> {
    let budget = u64_at(t, "thinkingBudget").or(u64_at(t, "thinking_budget"));
    let level = str_at(t, "thinkingLevel").or(str_at(t, "thinking_level"));
    match (budget, level) {
        (Some(b), _) => Some(format!("budget {b} tokens")),
        (None, Some(l)) => Some(format!("level {l}")),
        (None, None) => None,
    }
}

fn content(c: &Value) -> Message {
    let role = match str_at(c, "role").unwrap_or("user") {
        "model" => "assistant",
        "function" | "tool" => "tool",
        other => other,
    };
    Message::new(role, array_at(c, "parts").iter().map(part).collect())
}

/// One Gemini part.
fn part(p: &Value) -> Part {
    if let Some(text) = str_at(p, "text") {
        return match bool_at(p, "thought") {
            Some(true) => Part::Thinking {
                text: text.to_string(),
                redacted: false,
            },
            _ => Part::Text {
                text: text.to_string(),
            },
        };
    }
    if let Some(call) = either(p, "functionCall", "function_call") {
        return Part::ToolCall(function_call(call));
    }
    if let Some(resp) = either(p, "functionResponse", "function_response") {
        return Part::ToolResult(function_response(resp));
    }
    if let Some(data) = either(p, "inlineData", "inline_data") {
        return media(data, str_at(data, "data").map(base64_len), None);
    }
    if let Some(file) = either(p, "fileData", "file_data") {
        let uri = either(file, "fileUri", "file_uri").and_then(Value::as_str);
        return media(file, None, uri);
    }
    let kind = p.as_object().and_then(|o| o.keys().next().cloned());
    Part::Other {
        kind: kind.unwrap_or_else(|| "part".to_string()),
    }
}

fn media(d: &Value, bytes: Option<u64>, url: Option<&str>) -> Part {
    let mime = either(d, "mimeType", "mime_type").and_then(Value::as_str);
    match mime {
        Some(m) if !m.starts_with("image/") => Part::Other {
            kind: m.to_string(),
        },
        _ => Part::Image {
            media_type: mime.map(str::to_string),
            bytes,
            url: url.map(str::to_string),
        },
    }
}

fn function_call(c: &Value) -> ToolCall {
    let name = string_at(c, "name").unwrap_or_default();
    ToolCall {
        // Gemini ids are optional; the name is what pairs call and result.
        id: string_at(c, "id").unwrap_or_else(|| name.clone()),
        name,
        arguments: c.get("args").cloned().unwrap_or(Value::Null),
    }
}

fn function_response(r: &Value) -> ToolResult {
    let name = string_at(r, "name").unwrap_or_default();
    let response = r.get("response").unwrap_or(&Value::Null);
    ToolResult {
        id: string_at(r, "id").unwrap_or_else(|| name.clone()),
        name: Some(name),
        content: response.to_string(),
        is_error: response.get("error").is_some(),
    }
}

fn tools(t: &Value) -> Vec<ToolDef> {
    let declared = either(t, "functionDeclarations", "function_declarations");
    let Some(Value::Array(decls)) = declared else {
        let name = t.as_object().and_then(|o| o.keys().next().cloned());
        return name
            .map(|n| ToolDef {
                name: n.clone(),
                description: None,
                schema: None,
                kind: Some(n),
            })
            .into_iter()
            .collect();
    };
    decls
        .iter()
        .map(|d| ToolDef {
            name: string_at(d, "name").unwrap_or_default(),
            description: string_at(d, "description"),
            schema: d
                .get("parameters")
                .or_else(|| d.get("parametersJsonSchema"))
                .cloned(),
            kind: None,
        })
        .collect()
}

fn usage(u: &Value) -> Usage {
    let prompt = u64_at(u, "promptTokenCount").unwrap_or(0);
    let tool_prompt = u64_at(u, "toolUsePromptTokenCount").unwrap_or(0);
    let thoughts = u64_at(u, "thoughtsTokenCount").unwrap_or(0);
    Usage {
        input_tokens: prompt + tool_prompt,
        output_tokens: u64_at(u, "candidatesTokenCount").unwrap_or(0) + thoughts,
        cache_read_tokens: u64_at(u, "cachedContentTokenCount").unwrap_or(0),
        cache_write_tokens: 0,
        cache_write_1h_tokens: 0,
        reasoning_tokens: thoughts,
        ..Usage::default()
    }
}

#[derive(Debug, Default)]
struct Acc {
    reply: Reply,
    finished: bool,
}

pub(super) fn reply(resp: &Resp, out: &mut Parsed) {
    let mut acc = Acc::default();
    let streamed = match resp.format() {
        Format::Sse => {
            for (event, data) in sse_json(&resp.body, &mut out.notes) {
                chunk_event(&mut acc, &data, event.offset, event.end, out);
            }
            true
        }
        Format::JsonArray => {
            let (items, closed) = json_array_items(&resp.body);
            for (data, offset, end) in &items {
                chunk_event(&mut acc, data, *offset, *end, out);
            }
            if !closed {
                let note = "the JSON array of chunks did not close: the reply may be partial";
                out.notes.push(Note::new(NoteKind::Incomplete, note));
            }
            true
        }
        Format::Json | Format::Ndjson => {
            json_reply(&mut acc, &resp.body, out);
            false
        }
        Format::Empty => return,
    };
    if streamed && !acc.finished && acc.reply.error.is_none() {
        let note = "stream ended before a finishReason: the reply may be partial";
        out.notes.push(Note::new(NoteKind::Incomplete, note));
    }
    out.reply = Some(acc.reply);
}

fn json_reply(acc: &mut Acc, body: &[u8], out: &mut Parsed) {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => {
            chunk(acc, &v, out);
        }
        Err(e) => {
            let note = format!("response: invalid JSON ({e})");
            out.notes.push(Note::new(NoteKind::Malformed, note));
        }
    }
}

fn chunk_event(acc: &mut Acc, data: &Value, offset: u64, end: u64, out: &mut Parsed) {
    let (summary, token) = chunk(acc, data, out);
    let e = StreamEvent::new(offset, end, "chunk", summary);
    out.events.push(if token { e.token() } else { e });
}

/// Apply one `GenerateContentResponse`; returns its summary and whether
/// it carried output.
fn chunk(acc: &mut Acc, v: &Value, out: &mut Parsed) -> (String, bool) {
    if let Some(err) = error_in(v) {
        let summary = format!(
            "{}: {}",
            err.kind.as_deref().unwrap_or("error"),
            err.message
        );
        acc.reply.error = Some(ApiError {
            mid_stream: true,
            ..err
        });
        return (summary, false);
    }
    acc.reply.id = acc.reply.id.take().or_else(|| string_at(v, "responseId"));
    if let Some(model) = string_at(v, "modelVersion") {
        out.model = Some(model);
    }
    let mut said = Vec::new();
    let candidate = array_at(v, "candidates").first().unwrap_or(&Value::Null);
    let parts = candidate
        .get("content")
        .map_or(&[][..], |c| array_at(c, "parts"));
    for p in parts {
        said.push(merge(&mut acc.reply.parts, part(p)));
    }
    if let Some(reason) = string_at(candidate, "finishReason") {
        said.push(format!("finish {reason}"));
        acc.reply.stop_reason = Some(reason);
        acc.finished = true;
    }
    if let Some(blocked) = v
        .get("promptFeedback")
        .and_then(|f| str_at(f, "blockReason"))
    {
        acc.reply.stop_reason = Some(format!("blocked: {blocked}"));
        acc.finished = true;
    }
    if let Some(u) = v.get("usageMetadata") {
        out.usage = Some(usage(u));
    }
    let summary = if said.is_empty() {
        "(no content)".to_string()
    } else {
        said.join(" · ")
    };
    (summary, !parts.is_empty())
}

/// Append a streamed part, continuing the previous text or thinking.
fn merge(parts: &mut Vec<Part>, new: Part) -> String {
    let summary = match &new {
        Part::Text { text } => format!("text {}", quoted(text)),
        Part::Thinking { text, .. } => format!("thinking {}", quoted(text)),
        Part::ToolCall(c) => format!("functionCall {}", c.name),
        other => format!("{other:?}").chars().take(40).collect(),
    };
    match (parts.last_mut(), new) {
        (Some(Part::Text { text }), Part::Text { text: more }) => text.push_str(&more),
        (Some(Part::Thinking { text, .. }), Part::Thinking { text: more, .. }) => {
            text.push_str(&more)
        }
        (_, new) => parts.push(new),
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn thoughts_are_output_and_cache_is_inside_prompt() {
        let u = usage(&json!({
            "promptTokenCount": 1200, "cachedContentTokenCount": 1000,
            "candidatesTokenCount": 40, "thoughtsTokenCount": 160, "totalTokenCount": 1400
        }));
        assert_eq!(
            (u.input_tokens, u.cache_read_tokens, u.uncached_input()),
            (1200, 1000, 200)
        );
        assert_eq!((u.output_tokens, u.reasoning_tokens), (200, 160));
    }

    #[test]
    fn parts_table() {
        let cases = [
            (json!({"text": "hi"}), Part::Text { text: "hi".into() }),
            (
                json!({"text": "hmm", "thought": true}),
                Part::Thinking {
                    text: "hmm".into(),
                    redacted: false,
                },
            ),
            (
                json!({"inline_data": {"mime_type": "image/jpeg", "data": "aGVsbG8="}}),
                Part::Image {
                    media_type: Some("image/jpeg".into()),
                    bytes: Some(5),
                    url: None,
                },
            ),
            (
                json!({"inlineData": {"mimeType": "audio/wav", "data": ""}}),
                Part::Other {
                    kind: "audio/wav".into(),
                },
            ),
            (
                json!({"functionCall": {"name": "f", "args": {"x": 1}}}),
                Part::ToolCall(ToolCall {
                    id: "f".into(),
                    name: "f".into(),
                    arguments: json!({"x": 1}),
                }),
            ),
            (
                json!({"executableCode": {}}),
                Part::Other {
                    kind: "executableCode".into(),
                },
            ),
        ];
        for (p, want) in cases {
            assert_eq!(part(&p), want, "{p}");
        }
    }
}
