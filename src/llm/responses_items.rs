//! OpenAI Responses output items (also valid as input items replaying
//! earlier output) as parts: messages, reasoning, function calls, and the
//! tools OpenAI runs itself — web search, file search, code interpreter,
//! image generation, remote MCP — shown as a tool call with its result.
//! Item types this version does not know are kept by name.

use serde_json::Value;

use super::model::{Part, ServerTools, ToolCall, ToolResult};
use super::value::{array_at, base64_len, flatten_text, parse_arguments, str_at, string_at};

/// The parts one output item stands for.
pub(super) fn output_parts(item: &Value) -> Vec<Part> {
    let kind = str_at(item, "type").unwrap_or_default();
    match kind {
        "function_call" | "custom_tool_call" => vec![function_call(item)],
        "reasoning" => vec![reasoning(item)],
        "message" => message(item),
        "web_search_call" => server_call(item, "web_search", action(item), web_sources(item)),
        "file_search_call" => {
            let args = serde_json::json!({ "queries": item.get("queries") });
            server_call(item, "file_search", args, file_results(item))
        }
        "code_interpreter_call" => {
            let args = serde_json::json!({ "code": item.get("code") });
            server_call(item, "code_interpreter", args, code_outputs(item))
        }
        "mcp_call" => mcp_call(item),
        "image_generation_call" => vec![Part::Image {
            media_type: Some("image/png".to_string()),
            bytes: str_at(item, "result").map(base64_len),
            url: None,
        }],
        // Calls the client carries out (computer use, shell, patches) or
        // approves (MCP): the action is the call's arguments.
        "computer_call"
        | "local_shell_call"
        | "shell_call"
        | "apply_patch_call"
        | "mcp_approval_request" => vec![client_call(item, kind)],
        other => vec![Part::Other {
            kind: other.to_string(),
        }],
    }
}

/// An input item that answers a call (`function_call_output`,
/// `computer_call_output`, `shell_call_output`, …).
pub(super) fn call_output(item: &Value) -> Option<Part> {
    let kind = str_at(item, "type")?;
    if !kind.ends_with("_output") {
        return None;
    }
    Some(Part::ToolResult(ToolResult {
        id: string_at(item, "call_id").unwrap_or_default(),
        name: None,
        content: item.get("output").map(flatten_text).unwrap_or_default(),
        is_error: false,
    }))
}

/// Tool uses billed per call among the output items.
pub(super) fn server_tools(items: &[Value]) -> ServerTools {
    let count = |kind: &str| {
        items
            .iter()
            .filter(|i| str_at(i, "type") == Some(kind))
            .count() as u64
    };
    ServerTools {
        web_search: count("web_search_call"),
        code_execution: count("code_interpreter_call"),
        ..ServerTools::default()
    }
}

fn function_call(item: &Value) -> Part {
    let raw = str_at(item, "arguments")
        .or_else(|| str_at(item, "input"))
        .unwrap_or_default();
    Part::ToolCall(ToolCall {
        id: string_at(item, "call_id").unwrap_or_default(),
        name: string_at(item, "name").unwrap_or_default(),
        arguments: parse_arguments(raw).0,
    })
}

fn reasoning(item: &Value) -> Part {
    let pieces: Vec<&str> = array_at(item, "summary")
        .iter()
        .chain(array_at(item, "content"))
        .filter_map(|s| str_at(s, "text"))
        .collect();
    Part::Thinking {
        redacted: pieces.is_empty() && item.get("encrypted_content").is_some(),
        text: pieces.join("\n"),
    }
}

/// A message item: its text pieces joined, and any refusal apart.
fn message(item: &Value) -> Vec<Part> {
    let content = item.get("content").unwrap_or(&Value::Null);
    if let Some(text) = content.as_str() {
        return vec![Part::Text {
            text: text.to_string(),
        }];
    }
    let blocks = content.as_array().map_or(&[][..], Vec::as_slice);
    let text: String = blocks
        .iter()
        .filter(|b| str_at(b, "type") != Some("refusal"))
        .filter_map(|b| str_at(b, "text"))
        .collect();
    let mut parts = vec![Part::Text { text }];
    parts.extend(
        blocks
            .iter()
            .filter_map(|b| str_at(b, "refusal"))
            .map(|r| Part::Refusal {
                text: r.to_string(),
            }),
    );
    if parts.len() > 1 && matches!(&parts[0], Part::Text { text } if text.is_empty()) {
        parts.remove(0);
    }
    parts
}

/// A tool OpenAI ran: the call, then what it returned once there is a
/// result to show.
fn server_call(item: &Value, name: &str, arguments: Value, result: Option<String>) -> Vec<Part> {
    let id = string_at(item, "id").unwrap_or_default();
    let mut parts = vec![Part::ToolCall(ToolCall {
        id: id.clone(),
        name: name.to_string(),
        arguments,
    })];
    let failed = str_at(item, "status") == Some("failed");
    if let Some(content) = result.or_else(|| failed.then(|| "failed".to_string())) {
        parts.push(Part::ToolResult(ToolResult {
            id,
            name: Some(name.to_string()),
            content,
            is_error: failed,
        }));
    }
    parts
}

fn action(item: &Value) -> Value {
    let mut action = item.get("action").cloned().unwrap_or(Value::Null);
    // The sources are the result, not the arguments.
    if let Some(obj) = action.as_object_mut() {
        obj.remove("sources");
    }
    action
}

/// The pages a search used, when the request asked for them; else its status.
fn web_sources(item: &Value) -> Option<String> {
    let action = item.get("action").unwrap_or(&Value::Null);
    let urls: Vec<&str> = array_at(action, "sources")
        .iter()
        .filter_map(|s| str_at(s, "url"))
        .collect();
    if !urls.is_empty() {
        return Some(urls.join("\n"));
    }
    str_at(item, "status")
        .filter(|s| *s == "completed")
        .map(str::to_string)
}

fn file_results(item: &Value) -> Option<String> {
    let results = item.get("results")?.as_array()?;
    let lines: Vec<String> = results
        .iter()
        .map(|r| {
            let name = str_at(r, "filename").or_else(|| str_at(r, "file_id"));
            name.unwrap_or("?").to_string()
        })
        .collect();
    Some(lines.join("\n"))
}

fn code_outputs(item: &Value) -> Option<String> {
    let outputs = item.get("outputs")?.as_array()?;
    let lines: Vec<String> = outputs
        .iter()
        .map(|o| match str_at(o, "logs") {
            Some(logs) => logs.to_string(),
            None => format!("[{}]", str_at(o, "type").unwrap_or("output")),
        })
        .collect();
    Some(lines.join("\n"))
}

fn mcp_call(item: &Value) -> Vec<Part> {
    let id = string_at(item, "id").unwrap_or_default();
    let server = str_at(item, "server_label").unwrap_or_default();
    let name = str_at(item, "name").unwrap_or_default();
    let name = if server.is_empty() {
        name.to_string()
    } else {
        format!("{server}.{name}")
    };
    let raw = str_at(item, "arguments").unwrap_or_default();
    let mut parts = vec![Part::ToolCall(ToolCall {
        id: id.clone(),
        name: name.clone(),
        arguments: parse_arguments(raw).0,
    })];
    let error = item.get("error").filter(|e| !e.is_null());
    let output = item.get("output").filter(|o| !o.is_null());
    if let Some(content) = error.or(output).map(flatten_text) {
        parts.push(Part::ToolResult(ToolResult {
            id,
            name: Some(name),
            content,
            is_error: error.is_some(),
        }));
    }
    parts
}

fn client_call(item: &Value, kind: &str) -> Part {
    let arguments = ["action", "operation", "arguments"]
        .iter()
        .find_map(|k| item.get(*k))
        .map(|v| match v.as_str() {
            Some(raw) => parse_arguments(raw).0,
            None => v.clone(),
        })
        .unwrap_or(Value::Null);
    let name = str_at(item, "name").unwrap_or(kind.trim_end_matches("_call"));
    Part::ToolCall(ToolCall {
        id: string_at(item, "call_id")
            .or_else(|| string_at(item, "id"))
            .unwrap_or_default(),
        name: name.to_string(),
        arguments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn server_side_items_become_calls_with_results() {
        let search = json!({"type": "web_search_call", "id": "ws_1", "status": "completed",
            "action": {"type": "search", "query": "llmspy", "sources": [{"type": "url", "url": "https://a.test/"}]}});
        let parts = output_parts(&search);
        assert!(
            matches!(&parts[0], Part::ToolCall(c) if c.name == "web_search" && c.arguments == json!({"type": "search", "query": "llmspy"}))
        );
        assert!(
            matches!(&parts[1], Part::ToolResult(r) if r.id == "ws_1" && r.content == "https://a.test/")
        );
        let mcp = json!({"type": "mcp_call", "id": "mcp_1", "server_label": "docs", "name": "find",
            "arguments": "{\"q\":1}", "output": null, "error": "boom"});
        let parts = output_parts(&mcp);
        assert!(matches!(&parts[1], Part::ToolResult(r) if r.is_error && r.content == "boom"));
        let unknown = output_parts(&json!({"type": "future_call_kind"}));
        assert_eq!(
            unknown,
            vec![Part::Other {
                kind: "future_call_kind".into()
            }]
        );
    }

    #[test]
    fn refusal_is_kept_apart_from_text() {
        let item = json!({"type": "message", "content": [{"type": "refusal", "refusal": "I can't help with that."}]});
        assert_eq!(
            output_parts(&item),
            vec![Part::Refusal {
                text: "I can't help with that.".into()
            }]
        );
    }

    #[test]
    fn searches_are_counted_for_the_bill() {
        let items = [
            json!({"type": "web_search_call"}),
            json!({"type": "message"}),
            json!({"type": "web_search_call"}),
        ];
        assert_eq!(server_tools(&items).web_search, 2);
    }
}
