//! Message parts (text, thinking, tool calls and results, images) as lines,
//! shared by the Messages, Conversation and SSE Timeline tabs.

use ratatui::text::{Line, Span};

use crate::llm::{Part, ToolCall, ToolResult};
use crate::tui::doc::DocBuilder;
use crate::tui::{pretty, strings, theme};

/// Append the lines of one part.
pub fn part(out: &mut DocBuilder, part: &Part, thinking_open: bool) {
    match part {
        Part::Text { text } => out.text(text, ratatui::style::Style::new()),
        Part::Image {
            media_type,
            bytes,
            url,
        } => out.line(Line::styled(
            image(media_type.as_deref(), *bytes, url.as_deref()),
            theme::DIM,
        )),
        Part::Thinking { text, redacted } => thinking(out, text, *redacted, thinking_open),
        Part::ToolCall(call) => tool_call(out, call),
        Part::ToolResult(result) => tool_result(out, result),
        Part::Refusal { text } => {
            out.line(Line::styled(strings::REFUSAL, theme::ERROR));
            out.text(text, ratatui::style::Style::new());
        }
        Part::Other { kind } => out.line(Line::styled(format!("[{kind}]"), theme::DIM)),
    }
}

fn image(media_type: Option<&str>, bytes: Option<u64>, url: Option<&str>) -> String {
    let what = media_type.unwrap_or("image");
    match (bytes, url) {
        (Some(n), _) => format!("[{what}, {}]", strings::bytes(n)),
        (None, Some(u)) => format!("[{what}: {u}]"),
        (None, None) => format!("[{what}]"),
    }
}

fn thinking(out: &mut DocBuilder, text: &str, redacted: bool, open: bool) {
    if redacted {
        out.line(Line::styled(strings::THINKING_REDACTED, theme::THINKING));
    } else if open {
        out.line(Line::styled("▾ thinking", theme::THINKING));
        out.text(text, theme::THINKING);
    } else {
        let chars = text.chars().count();
        let label = format!("▸ {} · {chars} chars", strings::THINKING_COLLAPSED);
        out.line(Line::styled(label, theme::THINKING));
    }
}

/// `⚙ get_weather (toolu_01)` and the arguments as JSON.
pub fn tool_call(out: &mut DocBuilder, call: &ToolCall) {
    out.line(Line::from(vec![
        Span::styled(format!("⚙ {}", call.name), theme::TOOL),
        Span::styled(format!(" ({})", call.id), theme::DIM),
    ]));
    match &call.arguments {
        serde_json::Value::String(raw) => out.text(raw, theme::DIM),
        args => pretty::json(out, args),
    }
}

/// `↩ result of toolu_01` (marked when an error) and its content.
pub fn tool_result(out: &mut DocBuilder, r: &ToolResult) {
    let name = r
        .name
        .as_deref()
        .map(|n| format!(" {n}"))
        .unwrap_or_default();
    let mut spans = vec![
        Span::styled(format!("↩ result{name}"), theme::TOOL),
        Span::styled(format!(" ({})", r.id), theme::DIM),
    ];
    if r.is_error {
        spans.push(Span::styled(" error", theme::ERROR));
    }
    out.line(Line::from(spans));
    pretty::text_or_json(out, &r.content);
}
