//! The provider-neutral completion of MockServer's `httpLlmResponse`
//! action: text, tool calls, stop reason and usage, plus the provider whose
//! wire format renders it.
//!
//! Shape (MockServer's JSON): `{"provider": "ANTHROPIC", "model": "…",
//! "completion": {"text": "…", "toolCalls": [{"id", "name", "arguments"}],
//! "stopReason": "…", "usage": {"inputTokens": n, "outputTokens": n}}}`.
//! `arguments` may be a JSON string (as MockServer's clients send it) or
//! an object.

use serde_json::{Map, Value};

use super::MockError;
use crate::llm::Kind;

/// A completion to render.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Completion {
    pub text: String,
    pub tool_calls: Vec<ToolUse>,
    pub stop_reason: Option<String>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Milliseconds between streamed events (0: as fast as possible).
    pub event_delay_ms: u64,
}

/// One tool call in a completion.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolUse {
    pub id: String,
    pub name: String,
    /// Always a JSON value; a string that held JSON is parsed.
    pub arguments: Value,
}

impl ToolUse {
    /// The arguments as the JSON text OpenAI-style APIs carry.
    pub fn arguments_text(&self) -> String {
        self.arguments.to_string()
    }
}

/// An `httpLlmResponse` action.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmResponse {
    /// Wire format asked for; `None` renders in the request's own format.
    pub provider: Option<Kind>,
    pub model: Option<String>,
    pub completion: Completion,
}

impl LlmResponse {
    /// Parse `httpLlmResponse`; `at` is its JSON path, for errors.
    pub fn from_json(v: &Value, at: &str) -> Result<Self, MockError> {
        let obj = v
            .as_object()
            .ok_or_else(|| MockError::invalid(at, "an object"))?;
        super::fields::only(obj, &["provider", "model", "completion"], at)?;
        let provider = match obj.get("provider") {
            None | Some(Value::Null) => None,
            Some(p) => Some(provider(p, &format!("{at}.provider"))?),
        };
        Ok(LlmResponse {
            provider,
            model: obj.get("model").and_then(Value::as_str).map(String::from),
            completion: completion(obj.get("completion"), &format!("{at}.completion"))?,
        })
    }
}

/// MockServer's provider names → the wire format llmspy renders.
fn provider(v: &Value, at: &str) -> Result<Kind, MockError> {
    let name = v.as_str().unwrap_or_default().to_ascii_uppercase();
    match name.as_str() {
        "ANTHROPIC" | "BEDROCK_ANTHROPIC" => Ok(Kind::Anthropic),
        "OPENAI" | "AZURE_OPENAI" | "OPENAI_CHAT" | "OPENROUTER" | "MISTRAL" | "DEEPSEEK" => {
            Ok(Kind::OpenAiChat)
        }
        "OPENAI_RESPONSES" => Ok(Kind::OpenAiResponses),
        "GEMINI" | "VERTEX_AI" | "GOOGLE" => Ok(Kind::Gemini),
        "OLLAMA" => Ok(Kind::Ollama),
        _ => Err(MockError::invalid(
            at,
            "one of ANTHROPIC, OPENAI, OPENAI_RESPONSES, GEMINI, OLLAMA",
        )),
    }
}

/// Parse a `completion` object (also used by scripted turns).
pub fn completion(v: Option<&Value>, at: &str) -> Result<Completion, MockError> {
    let Some(v) = v else {
        return Err(MockError::invalid(at, "a completion object"));
    };
    let obj = v
        .as_object()
        .ok_or_else(|| MockError::invalid(at, "an object"))?;
    super::fields::only(
        obj,
        &[
            "text",
            "toolCalls",
            "stopReason",
            "usage",
            "streamingPhysics",
        ],
        at,
    )?;
    let usage = obj.get("usage").and_then(Value::as_object);
    if let Some(u) = usage {
        super::fields::only(u, &["inputTokens", "outputTokens"], &format!("{at}.usage"))?;
    }
    let tokens = |k: &str| usage.and_then(|u| u.get(k)).and_then(Value::as_u64);
    Ok(Completion {
        text: obj
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        tool_calls: tool_calls(obj, at)?,
        stop_reason: obj
            .get("stopReason")
            .and_then(Value::as_str)
            .map(String::from),
        input_tokens: tokens("inputTokens").unwrap_or(0),
        output_tokens: tokens("outputTokens").unwrap_or(0),
        event_delay_ms: obj
            .get("streamingPhysics")
            .and_then(|p| p.get("interEventDelayMs"))
            .and_then(Value::as_u64)
            .unwrap_or(0),
    })
}

fn tool_calls(obj: &Map<String, Value>, at: &str) -> Result<Vec<ToolUse>, MockError> {
    let Some(list) = obj.get("toolCalls") else {
        return Ok(Vec::new());
    };
    let list = list
        .as_array()
        .ok_or_else(|| MockError::invalid(&format!("{at}.toolCalls"), "an array"))?;
    list.iter()
        .enumerate()
        .map(|(i, call)| tool_use(call, i, &format!("{at}.toolCalls[{i}]")))
        .collect()
}

fn tool_use(call: &Value, index: usize, at: &str) -> Result<ToolUse, MockError> {
    let name = call
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| MockError::invalid(&format!("{at}.name"), "a string"))?;
    let arguments = match call.get("arguments").or_else(|| call.get("input")) {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(Value::String(s)) => serde_json::from_str(s).unwrap_or(Value::String(s.clone())),
        Some(other) => other.clone(),
    };
    let id = call
        .get("id")
        .and_then(Value::as_str)
        .map_or_else(|| format!("call_llmspy_{index}"), String::from);
    Ok(ToolUse {
        id,
        name: name.to_string(),
        arguments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_mockserver_shape() {
        let v = json!({"provider": "OPENAI", "model": "gpt-4o", "completion": {
            "text": "hi", "stopReason": "stop",
            "toolCalls": [{"name": "search", "arguments": "{\"q\":1}"}],
            "usage": {"inputTokens": 12, "outputTokens": 8}}});
        let r = LlmResponse::from_json(&v, "$.httpLlmResponse").unwrap();
        assert_eq!(r.provider, Some(Kind::OpenAiChat));
        assert_eq!(r.completion.tool_calls[0].arguments, json!({"q": 1}));
        assert_eq!(r.completion.input_tokens, 12);
    }

    #[test]
    fn errors_name_the_path() {
        let v = json!({"provider": "NOPE", "completion": {}});
        let e = LlmResponse::from_json(&v, "$[0].httpLlmResponse").unwrap_err();
        assert!(
            e.to_string().contains("$[0].httpLlmResponse.provider"),
            "{e}"
        );
    }
}
