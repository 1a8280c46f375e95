//! The usage strip above an LLM exchange's tabs: who answered, how much it
//! cost and how fast it came. Items that do not fit are left out whole
//! rather than cut mid-word.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::exchange::Exchange;
use crate::llm::Analysis;
use crate::tui::analysis;
use crate::tui::doc::text_width;
use crate::tui::rows::{RowInfo, UsageExtras};
use crate::tui::{strings, theme};

const SEP: &str = " · ";

pub fn render(
    frame: &mut Frame<'_>,
    area: Rect,
    ex: &Exchange,
    info: &RowInfo,
    analysis: Option<&Analysis>,
) {
    let extras = analysis.map(analysis::extras).unwrap_or_default();
    let width = usize::from(area.width);
    let lines = vec![
        line(who(ex, info, &extras), width),
        line(usage(info, &extras), width),
    ];
    frame.render_widget(Paragraph::new(lines), area);
}

/// Items joined by ` · `, as many as fit in `width` (the first always).
fn line(items: Vec<(String, Style)>, width: usize) -> Line<'static> {
    let mut spans = Vec::new();
    let mut used = 0;
    for (i, (text, style)) in items.into_iter().enumerate() {
        let sep = if i == 0 { 0 } else { text_width(SEP) };
        let w = text_width(&text) + sep;
        if i > 0 && used + w > width {
            break;
        }
        if i > 0 {
            spans.push(Span::styled(SEP, theme::DIM));
        }
        used += w;
        spans.push(Span::styled(text, style));
    }
    Line::from(spans)
}

/// `anthropic · claude-sonnet-4 · stop end_turn · ttft 412ms · 54 tok/s`
fn who(ex: &Exchange, info: &RowInfo, u: &UsageExtras) -> Vec<(String, Style)> {
    let mut items = vec![
        (info.kind_label().to_string(), theme::TITLE),
        (
            info.facts.model.clone().unwrap_or_else(|| "?".into()),
            theme::HEADER,
        ),
    ];
    if let Some(err) = &u.error {
        items.push((err.clone(), theme::ERROR));
    }
    if let Some(stop) = &u.stop_reason {
        items.push((format!("stop {stop}"), Style::new()));
    } else if !ex.state.is_finished() {
        items.push((strings::STREAMING.to_string(), theme::LIVE));
    }
    if let Some(t) = u.ttft_us {
        items.push((format!("ttft {}", strings::duration_us(t)), Style::new()));
    }
    if let Some(tps) = u.tokens_per_sec {
        items.push((format!("{tps:.0} tok/s"), Style::new()));
    }
    items
}

/// `in 1.2k · out 356 · cache read 900 · cache write 0 · $0.0123`
fn usage(info: &RowInfo, u: &UsageExtras) -> Vec<(String, Style)> {
    let count = |label: &str, n: Option<u64>| {
        let n = n.map_or("?".into(), strings::tokens);
        (format!("{label} {n}"), Style::new())
    };
    let cost = info
        .cost
        .map_or(strings::COST_UNKNOWN.to_string(), strings::cost);
    // Cost first after the counts: it matters more than the cache split.
    let mut items = vec![
        count("in", info.tokens_in),
        count("out", info.tokens_out),
        (cost, theme::HEADER),
    ];
    if u.cache_read.is_some() || u.cache_write.is_some() {
        items.push(count("cache read", u.cache_read));
        items.push(count("cache write", u.cache_write));
    }
    if let Some(r) = u.reasoning {
        items.push(count("reasoning", Some(r)));
    }
    items
}
