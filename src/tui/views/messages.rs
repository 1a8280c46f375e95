//! The Messages tab: what the request asked, in full — system prompt, every
//! message with its parts, the tool definitions, parameters, and notes on
//! anything the parser found partial or odd.

use ratatui::text::{Line, Span};

use crate::llm::{Analysis, Message, Params, ToolDef};
use crate::tui::doc::{Doc, DocBuilder};
use crate::tui::{pretty, theme};

use super::parts;

pub fn build(a: &Analysis, width: u16) -> Doc {
    let mut out = DocBuilder::new(width);
    let req = &a.request;
    if let Some(system) = &req.system {
        out.section("System");
        out.text(system, theme::SYSTEM);
        out.blank();
    }
    out.section(&format!("Messages ({})", req.messages.len()));
    for (i, m) in req.messages.iter().enumerate() {
        message(&mut out, i, m);
    }
    if !req.tools.is_empty() {
        out.section(&format!("Tools ({})", req.tools.len()));
        for tool in &req.tools {
            tool_def(&mut out, tool);
        }
    }
    out.section("Parameters");
    out.line(Line::raw(params(a, &req.params)));
    notes(&mut out, a);
    out.finish()
}

fn role_style(role: &str) -> ratatui::style::Style {
    match role {
        "user" => theme::USER,
        "assistant" | "model" => theme::ASSISTANT,
        "system" | "developer" => theme::SYSTEM,
        _ => theme::TOOL,
    }
}

fn message(out: &mut DocBuilder, i: usize, m: &Message) {
    out.line(Line::from(vec![
        Span::styled(format!("#{} ", i + 1), theme::DIM),
        Span::styled(m.role.clone(), role_style(&m.role).patch(theme::HEADER)),
    ]));
    for p in &m.parts {
        // The request's own thinking is history: shown in full here.
        parts::part(out, p, true);
    }
    out.blank();
}

fn tool_def(out: &mut DocBuilder, tool: &ToolDef) {
    let mut spans = vec![Span::styled(
        tool.name.clone(),
        theme::TOOL.patch(theme::HEADER),
    )];
    if let Some(kind) = &tool.kind {
        spans.push(Span::styled(format!(" [{kind}]"), theme::DIM));
    }
    if let Some(d) = &tool.description {
        spans.push(Span::raw(format!(" — {d}")));
    }
    out.line(Line::from(spans));
    if let Some(schema) = &tool.schema {
        pretty::json(out, schema);
    }
    out.blank();
}

/// `model claude-sonnet-4 · max_tokens 4096 · temperature 0.7 · stream on`
fn params(a: &Analysis, p: &Params) -> String {
    let mut parts = vec![format!("model {}", a.model.as_deref().unwrap_or("?"))];
    if let Some(n) = p.max_tokens {
        parts.push(format!("max_tokens {n}"));
    }
    if let Some(t) = p.temperature {
        parts.push(format!("temperature {t}"));
    }
    if let Some(t) = p.top_p {
        parts.push(format!("top_p {t}"));
    }
    parts.push(format!("stream {}", if a.stream { "on" } else { "off" }));
    if let Some(r) = &p.reasoning {
        parts.push(format!("reasoning {r}"));
    }
    parts.join(" · ")
}

/// What the parser could not fully read, if anything.
pub fn notes(out: &mut DocBuilder, a: &Analysis) {
    if a.notes.is_empty() {
        return;
    }
    out.blank();
    out.section("Notes");
    for n in &a.notes {
        out.line(Line::styled(format!("⚠ {}", n.message), theme::WARN));
    }
}
