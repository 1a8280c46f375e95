//! The WebSocket tab: one row per message — when it arrived, which way it
//! went (`↑` sent, `↓` received), its opcode, size and the start of its
//! payload (a Realtime event's `type` first).

use ratatui::text::{Line, Span};

use crate::exchange::{Direction, Exchange, Payload, WsMessage, opcode};
use crate::tui::doc::{Doc, DocBuilder, text_width};
use crate::tui::{strings, theme};

use super::text::{cut, fit, fit_right};

/// Bytes of a binary payload shown as hex.
const HEX_SHOWN: usize = 24;

pub fn build(ex: &Exchange, width: u16) -> Doc {
    let mut out = DocBuilder::new(width);
    let Some(ws) = ex.websocket.as_deref() else {
        out.line(Line::styled(strings::NO_WS_MESSAGES, theme::DIM));
        return out.finish();
    };
    let (sent, received) = ws.counts();
    out.section(&format!(
        "Messages ({} · ↑{sent} ↓{received})",
        sent + received
    ));
    let width = out.width();
    for m in &ws.messages {
        out.raw(row(m, width));
    }
    let unlisted = ws.unlisted_sent + ws.unlisted_received;
    if unlisted > 0 {
        let text = format!(
            "… {unlisted} more not listed (↑{} ↓{})",
            ws.unlisted_sent, ws.unlisted_received
        );
        out.line(Line::styled(text, theme::DIM));
    }
    if let Some(note) = &ws.note {
        out.line(Line::styled(format!("⚠ {note}"), theme::WARN));
    }
    out.finish()
}

/// `+  0.013s ↑ text     13 B  {"type":"response.create"}`
fn row(m: &WsMessage, width: usize) -> Line<'static> {
    let arrow_style = match m.direction {
        Direction::Send => theme::USER,
        Direction::Receive => theme::ASSISTANT,
    };
    let lead = format!(
        "+{:>8.3}s {} {} {} ",
        m.at_us as f64 / 1e6,
        m.direction.arrow(),
        fit(&opcode::label(m.opcode), 6),
        fit_right(&strings::bytes(m.size), 8),
    );
    let room = width.saturating_sub(text_width(&lead));
    let mut spans = vec![
        Span::styled(format!("+{:>8.3}s ", m.at_us as f64 / 1e6), theme::DIM),
        Span::styled(format!("{} ", m.direction.arrow()), arrow_style),
        Span::styled(
            format!("{} ", fit(&opcode::label(m.opcode), 6)),
            theme::HEADER_NAME,
        ),
        Span::styled(
            format!("{} ", fit_right(&strings::bytes(m.size), 8)),
            theme::DIM,
        ),
    ];
    let (kind, rest) = summary(m);
    let mut used = 0;
    if let Some(kind) = kind {
        let kind = cut(&kind, room);
        used = text_width(&kind) + 1;
        spans.push(Span::styled(format!("{kind} "), theme::TOOL));
    }
    let mut rest = cut(&rest, room.saturating_sub(used));
    if m.truncated && text_width(&rest) + used < room {
        rest.push('…');
    }
    spans.push(Span::raw(rest));
    Line::from(spans)
}

/// A Realtime (or any JSON) event's `type`, and the payload on one line.
fn summary(m: &WsMessage) -> (Option<String>, String) {
    match (&m.payload, m.opcode) {
        (Payload::Text(t), _) => {
            let kind = serde_json::from_str::<serde_json::Value>(t)
                .ok()
                .and_then(|v| v.get("type")?.as_str().map(str::to_string));
            (kind, t.replace(['\n', '\r', '\t'], " "))
        }
        (Payload::Binary(b), opcode::CLOSE) => (None, close_reason(b)),
        (Payload::Binary(b), _) => (None, hex(b)),
    }
}

/// `1000 normal` from a close payload: a 2-byte code, then a UTF-8 reason.
fn close_reason(b: &[u8]) -> String {
    match b {
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            format!("{code} {}", String::from_utf8_lossy(reason))
                .trim_end()
                .to_string()
        }
        _ => String::new(),
    }
}

fn hex(b: &[u8]) -> String {
    let mut s: Vec<String> = b
        .iter()
        .take(HEX_SHOWN)
        .map(|x| format!("{x:02x}"))
        .collect();
    if b.len() > HEX_SHOWN {
        s.push("…".into());
    }
    s.join(" ")
}
