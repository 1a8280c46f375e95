//! What changed between two turns, as content: unified diffs of the
//! system prompt and the tool definitions, and the messages added.

use serde::Serialize;

use crate::llm::{Analysis, Message, Part, ToolDef};

/// Context lines around each change in a diff.
const CONTEXT: usize = 2;

/// Longest text kept of one added message.
const MESSAGE_CHARS: usize = 400;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TurnDiff {
    /// Unified diff of the system prompt, when it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Unified diff of the tool definitions (one JSON block per tool).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<String>,
    /// The messages this turn's request added.
    pub new_messages: Vec<NewMessage>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewMessage {
    pub role: String,
    pub text: String,
}

/// `this` compared with `prev` (the lane's previous turn), or with
/// nothing on a lane's first turn.
pub fn between(prev: Option<&Analysis>, this: &Analysis) -> TurnDiff {
    let old_system = prev
        .and_then(|p| p.request.system.clone())
        .unwrap_or_default();
    let new_system = this.request.system.clone().unwrap_or_default();
    let old_tools = prev
        .map(|p| tools_text(&p.request.tools))
        .unwrap_or_default();
    let new_tools = tools_text(&this.request.tools);
    let kept = prev.map_or(0, |p| p.request.messages.len());
    TurnDiff {
        system: prev.and_then(|_| unified(&old_system, &new_system, "system")),
        tools: prev.and_then(|_| unified(&old_tools, &new_tools, "tools")),
        new_messages: this
            .request
            .messages
            .iter()
            .skip(kept.min(this.request.messages.len()))
            .map(new_message)
            .collect(),
    }
}

/// A unified diff, or `None` when nothing changed.
pub fn unified(old: &str, new: &str, name: &str) -> Option<String> {
    if old == new {
        return None;
    }
    // Whole lines on both sides, so a prompt without a final newline does
    // not show as a changed last line.
    let line_end = |s: &str| {
        if s.is_empty() || s.ends_with('\n') {
            s.to_string()
        } else {
            format!("{s}\n")
        }
    };
    let (old, new) = (line_end(old), line_end(new));
    let diff = similar::TextDiff::from_lines(&old, &new);
    let text = diff
        .unified_diff()
        .context_radius(CONTEXT)
        .header(
            &format!("{name} (previous turn)"),
            &format!("{name} (this turn)"),
        )
        .to_string();
    Some(text)
}

fn tools_text(tools: &[ToolDef]) -> String {
    tools
        .iter()
        .map(|t| serde_json::to_string_pretty(t).unwrap_or_default() + "\n")
        .collect()
}

fn new_message(m: &Message) -> NewMessage {
    let text: Vec<String> = m
        .parts
        .iter()
        .map(|p| match p {
            Part::Text { text } => text.clone(),
            Part::Refusal { text } => format!("(refused) {text}"),
            Part::ToolCall(c) => format!("→ {}({})", c.name, c.arguments),
            Part::ToolResult(r) => format!("← result of {}", r.id),
            Part::Thinking { .. } => "(thinking)".into(),
            Part::Image { .. } => "(image)".into(),
            Part::Other { kind } => format!("({kind})"),
        })
        .collect();
    let text = text.join("\n");
    let mut short: String = text.chars().take(MESSAGE_CHARS).collect();
    if text.chars().count() > MESSAGE_CHARS {
        short.push('…');
    }
    NewMessage {
        role: m.role.clone(),
        text: short,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_prompt_is_a_unified_diff() {
        let d = unified("a\nb\nc\n", "a\nB\nc\n", "system").unwrap();
        assert!(d.contains("--- system (previous turn)"), "{d}");
        assert!(d.contains("-b\n+B\n"), "{d}");
        assert_eq!(unified("same", "same", "system"), None);
    }
}
