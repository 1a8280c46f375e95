//! The Conversation tab as chat bubbles: the system prompt as a banner, user
//! on the left, assistant on the right, tool calls and results in their own
//! labelled bubbles, thinking collapsed until `t`. The reply's bubble grows
//! while the response streams.

use std::collections::HashMap;

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::exchange::Exchange;
use crate::llm::{Analysis, ApiError, Message, Part};
use crate::tui::doc::{Doc, DocBuilder, text_width};
use crate::tui::{strings, theme};

use super::parts;

/// Lines of the system prompt shown before the banner folds.
const SYSTEM_LINES: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Left,
    Right,
}

/// One bubble: who, where, how coloured, and which parts it holds.
struct Bubble<'a> {
    label: String,
    side: Side,
    style: Style,
    parts: Vec<&'a Part>,
}

pub fn build(ex: &Exchange, a: &Analysis, thinking: bool, width: u16) -> Doc {
    let mut out = DocBuilder::new(width);
    if let Some(system) = &a.request.system {
        banner(&mut out, system);
    }
    let names = tool_names(a);
    for m in &a.request.messages {
        for bubble in bubbles(m, &names) {
            draw(&mut out, &bubble, thinking);
        }
    }
    reply(&mut out, ex, a, thinking, &names);
    // A body cut at the capture cap shows partial text above: say so here,
    // not only in Raw.
    let cut: Vec<&str> = a
        .notes
        .iter()
        .filter(|n| n.kind == crate::llm::NoteKind::Truncated)
        .map(|n| n.message.as_str())
        .collect();
    if !cut.is_empty() {
        out.blank();
        for message in cut {
            out.line(Line::styled(format!("⚠ {message}"), theme::WARN));
        }
    }
    out.finish()
}

/// Tool names by call id, so a result can say which tool it answers (most
/// wire formats only carry the id).
fn tool_names(a: &Analysis) -> HashMap<String, String> {
    let requested = a.request.messages.iter().flat_map(|m| &m.parts);
    let replied = a.reply.iter().flat_map(|r| &r.parts);
    requested
        .chain(replied)
        .filter_map(|p| match p {
            Part::ToolCall(c) => Some((c.id.clone(), c.name.clone())),
            _ => None,
        })
        .collect()
}

/// The Scripted Turns tab: which scenario, isolated session and turn
/// answered this exchange, and the script with the turn that answered
/// marked. `script` is the `httpLlmConversation` expectation, when still
/// active.
pub fn build_scripted(ex: &Exchange, script: Option<&serde_json::Value>, width: u16) -> Doc {
    use crate::mock::scripted::{Isolation, Script, ScriptedTurn, When};
    let mut out = DocBuilder::new(width);
    let Some(turn) = ScriptedTurn::of(ex) else {
        out.line(Line::styled(strings::NOT_SCRIPTED, theme::DIM));
        return out.finish();
    };
    let field = |name: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{name:<10}"), theme::HEADER),
            Span::raw(value),
        ])
    };
    out.line(field("Scenario", turn.scenario.clone()));
    out.line(field("Session", turn.isolation.clone()));
    out.line(field("Turn", format!("{} of this session", turn.turn + 1)));
    let parsed = script
        .and_then(|v| Script::from_json(v.get("httpLlmConversation")?, "httpLlmConversation").ok());
    let Some(parsed) = parsed else {
        out.blank();
        out.line(Line::styled(strings::SCRIPT_GONE, theme::DIM));
        return out.finish();
    };
    if let Some(by) = &parsed.isolate_by {
        let (place, name) = match by {
            Isolation::Header(n) => ("header", n),
            Isolation::Query(n) => ("query parameter", n),
            Isolation::Cookie(n) => ("cookie", n),
        };
        out.line(field("Isolated", format!("by the {place} {name}")));
    }
    let facts = crate::mock::facts::RequestFacts::new(&ex.request);
    let picked = facts.llm().and_then(|f| parsed.pick(f, turn.turn));
    out.blank();
    out.section(&format!("Script ({} turns)", parsed.turns.len()));
    for (i, t) in parsed.turns.iter().enumerate() {
        let here = picked.is_some_and(|p| std::ptr::eq(p, t));
        let when = match &t.when {
            When::TurnIndex(n) => format!("turn {}", n + 1),
            When::ToolResultFor(name) => format!("result of tool {name}"),
            When::MessageContains(text) => format!("message contains \"{text}\""),
        };
        let mut answer: Vec<String> = t
            .completion
            .tool_calls
            .iter()
            .map(|c| format!("calls {}", c.name))
            .collect();
        if !t.completion.text.is_empty() {
            answer.push(format!("\"{}\"", t.completion.text));
        }
        let marker = if here { "▶" } else { " " };
        let style = if here { theme::SELECTED } else { Style::new() };
        out.line(Line::from(vec![
            Span::styled(format!("{marker} {:>2}  ", i + 1), style),
            Span::styled(format!("when {when}"), theme::DIM),
            Span::styled(format!("  → {}", answer.join(", ")), style),
        ]));
    }
    out.finish()
}

fn reply(
    out: &mut DocBuilder,
    ex: &Exchange,
    a: &Analysis,
    thinking: bool,
    names: &HashMap<String, String>,
) {
    let live = !ex.state.is_finished();
    let Some(reply) = &a.reply else {
        if live {
            out.line(Line::styled(
                format!("  {}", strings::WAITING_REPLY),
                theme::LIVE,
            ));
        }
        return;
    };
    let message = Message::new("assistant", reply.parts.clone());
    let mut list = bubbles(&message, names);
    if live {
        match list.last_mut() {
            Some(last) => last.label.push_str(" · streaming…"),
            None => out.line(Line::styled(
                format!("  {}", strings::WAITING_REPLY),
                theme::LIVE,
            )),
        }
    }
    for bubble in &list {
        draw(out, bubble, thinking);
    }
    if let Some(err) = &reply.error {
        error(out, err);
    }
    if let Some(stop) = &reply.stop_reason {
        let text = format!("stop: {stop}");
        let pad = out.width().saturating_sub(text_width(&text));
        out.line(Line::styled(
            format!("{}{text}", " ".repeat(pad)),
            theme::DIM,
        ));
    }
}

/// Split a message into bubbles: text-like parts together, each tool call
/// and tool result on its own.
fn bubbles<'a>(m: &'a Message, names: &HashMap<String, String>) -> Vec<Bubble<'a>> {
    let (side, style) = match m.role.as_str() {
        "assistant" | "model" => (Side::Right, theme::ASSISTANT),
        "user" => (Side::Left, theme::USER),
        "system" | "developer" => (Side::Left, theme::SYSTEM),
        _ => (Side::Left, theme::TOOL),
    };
    let mut out: Vec<Bubble<'_>> = Vec::new();
    for p in &m.parts {
        match p {
            Part::ToolCall(call) => out.push(Bubble {
                label: format!("tool call · {}", call.name),
                side: Side::Right,
                style: theme::TOOL,
                parts: vec![p],
            }),
            Part::ToolResult(r) => out.push(Bubble {
                label: format!(
                    "tool result · {}",
                    r.name
                        .as_ref()
                        .or_else(|| names.get(&r.id))
                        .unwrap_or(&r.id)
                ),
                side: Side::Left,
                style: if r.is_error {
                    theme::ERROR
                } else {
                    theme::TOOL
                },
                parts: vec![p],
            }),
            _ => match out.last_mut() {
                Some(b) if b.label == m.role => b.parts.push(p),
                _ => out.push(Bubble {
                    label: m.role.clone(),
                    side,
                    style,
                    parts: vec![p],
                }),
            },
        }
    }
    out
}

/// Frame a bubble's wrapped content and place it on its side.
fn draw(out: &mut DocBuilder, b: &Bubble<'_>, thinking: bool) {
    let width = out.width();
    let max_w = (width * 3 / 4).max(24).min(width);
    let mut inner = DocBuilder::new(u16::try_from(max_w.saturating_sub(4)).unwrap_or(u16::MAX));
    for p in &b.parts {
        parts::part(&mut inner, p, thinking);
    }
    let body = inner.finish().into_lines();
    let content_w = body.iter().map(Line::width).max().unwrap_or(0);
    let w = (content_w + 4).max(text_width(&b.label) + 6).min(max_w);
    let indent = match b.side {
        Side::Left => String::new(),
        Side::Right => " ".repeat(width.saturating_sub(w)),
    };
    let label_fill = w.saturating_sub(text_width(&b.label) + 5);
    out.raw(Line::from(vec![
        Span::raw(indent.clone()),
        Span::styled(
            format!("╭─ {} {}╮", b.label, "─".repeat(label_fill)),
            b.style,
        ),
    ]));
    for line in body {
        let pad = w.saturating_sub(line.width() + 4);
        let mut spans = vec![Span::raw(indent.clone()), Span::styled("│ ", b.style)];
        spans.extend(line.spans);
        spans.push(Span::raw(" ".repeat(pad)));
        spans.push(Span::styled(" │", b.style));
        out.raw(Line::from(spans));
    }
    out.raw(Line::from(vec![
        Span::raw(indent),
        Span::styled(format!("╰{}╯", "─".repeat(w.saturating_sub(2))), b.style),
    ]));
}

/// The system prompt across the pane, folded after a few lines.
fn banner(out: &mut DocBuilder, system: &str) {
    let width = out.width();
    let title = " system ";
    let side = width.saturating_sub(text_width(title)) / 2;
    let rule = |n: usize| "┄".repeat(n);
    out.raw(Line::styled(
        format!(
            "{}{title}{}",
            rule(side),
            rule(width.saturating_sub(side + title.len()))
        ),
        theme::SYSTEM,
    ));
    let mut text = DocBuilder::new(u16::try_from(width).unwrap_or(u16::MAX));
    text.text(system, theme::SYSTEM);
    let lines = text.finish().into_lines();
    let hidden = lines.len().saturating_sub(SYSTEM_LINES);
    for line in lines.into_iter().take(SYSTEM_LINES) {
        out.raw(line);
    }
    if hidden > 0 {
        out.line(Line::styled(strings::more_lines(hidden), theme::DIM));
    }
    out.raw(Line::styled(rule(width), theme::SYSTEM));
    out.blank();
}

fn error(out: &mut DocBuilder, err: &ApiError) {
    let kind = err.kind.as_deref().unwrap_or("error");
    let when = if err.mid_stream { " (mid-stream)" } else { "" };
    let status = err.status.map(|s| format!(" {s}")).unwrap_or_default();
    out.line(Line::styled(
        format!("✗{status} {kind}{when}: {}", err.message),
        theme::ERROR,
    ));
}
