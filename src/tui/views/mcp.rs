//! The MCP tab: method, id, tool, session and server, then the params and
//! the result or error, and every JSON-RPC message when there were more than
//! a request and its answer.

use ratatui::text::{Line, Span};
use serde_json::Value;

use crate::llm::Analysis;
use crate::mcp::{McpCall, RpcMessage, Transport};
use crate::tui::doc::{Doc, DocBuilder};
use crate::tui::rows::RowInfo;
use crate::tui::{pretty, strings, theme};

use super::messages::notes;

pub fn build(a: &Analysis, _info: &RowInfo, width: u16) -> Doc {
    let mut out = DocBuilder::new(width);
    let Some(call) = &a.mcp else {
        out.line(Line::styled(strings::NOT_ANALYSED, theme::DIM));
        return out.finish();
    };
    out.line(headline(call));
    out.line(Line::styled(details(call), theme::DIM));
    if let Some(s) = &call.server {
        let name = s.title.as_deref().or(s.name.as_deref()).unwrap_or("?");
        let version = s.version.as_deref().unwrap_or("");
        out.line(Line::raw(format!("server: {name} {version}")));
    }
    if let Some(params) = &call.params {
        out.blank();
        out.section("Params");
        pretty::json(&mut out, params);
    }
    outcome(&mut out, call);
    if call.sent.len() + call.received.len() > 2 {
        out.blank();
        out.section("Messages");
        for m in &call.sent {
            out.line(message_line("→", m));
        }
        for m in &call.received {
            out.line(message_line("←", m));
        }
    }
    notes(&mut out, a);
    out.finish()
}

/// `tools/call get_weather` in bold, `✗ error` when it failed.
fn headline(call: &McpCall) -> Line<'static> {
    let method = call.method.clone().unwrap_or_else(|| "(no request)".into());
    let mut spans = vec![Span::styled(method, theme::TITLE)];
    if let Some(tool) = &call.tool {
        spans.push(Span::styled(format!(" {tool}"), theme::TOOL));
    }
    if call.is_error {
        spans.push(Span::styled(" ✗ error", theme::ERROR));
    }
    Line::from(spans)
}

/// `id 3 · session 4f2… · protocol 2025-06-18 · json reply`
fn details(call: &McpCall) -> String {
    let mut parts = Vec::new();
    if let Some(id) = &call.id {
        parts.push(format!("id {id}"));
    }
    if let Some(s) = &call.session_id {
        parts.push(format!("session {s}"));
    }
    if let Some(p) = &call.protocol_version {
        parts.push(format!("protocol {p}"));
    }
    parts.push(
        match call.transport {
            Transport::Json => "json reply",
            Transport::Sse => "sse reply",
            Transport::LegacySse => "legacy sse stream",
            // 202 to a notification; also a 200 to a DELETE, or a GET
            // stream that carried nothing.
            Transport::Accepted => "reply without a body",
            Transport::Pending => "no reply yet",
        }
        .to_string(),
    );
    parts.join(" · ")
}

fn outcome(out: &mut DocBuilder, call: &McpCall) {
    if let Some(err) = &call.error {
        out.blank();
        out.section("Error");
        out.line(Line::styled(
            format!("{}: {}", err.code, err.message),
            theme::ERROR,
        ));
        if let Some(data) = &err.data {
            pretty::json(out, data);
        }
    } else if let Some(result) = &call.result {
        out.blank();
        out.section("Result");
        pretty::json(out, result);
    }
}

fn message_line(arrow: &str, m: &RpcMessage) -> Line<'static> {
    let text = match m {
        RpcMessage::Request { id, method, .. } => format!("request {method} #{}", id_text(id)),
        RpcMessage::Notification { method, .. } => format!("notification {method}"),
        RpcMessage::Response { id, .. } => format!("response #{}", id_text(id)),
        RpcMessage::Error { id, error } => format!("error #{}: {}", id_text(id), error.message),
        RpcMessage::Invalid { reason } => format!("invalid: {reason}"),
    };
    Line::from(vec![
        Span::styled(format!("{arrow} "), theme::DIM),
        Span::raw(text),
    ])
}

fn id_text(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
