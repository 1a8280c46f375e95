//! The usage strip above an LLM exchange's tabs: who answered, how much it
//! cost and how fast it came. Items that do not fit are left out whole
//! rather than cut mid-word, and a `…` says so.

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
/// Ends the strip when items did not fit.
const MORE: &str = " …";

pub fn render(
    frame: &mut Frame<'_>,
    area: Rect,
    ex: &Exchange,
    info: &RowInfo,
    analysis: Option<&Analysis>,
) {
    let extras = analysis.map(analysis::extras).unwrap_or_default();
    let width = usize::from(area.width);
    // What does not fit on the first line (a long model name in a narrow
    // pane pushes out the speed) moves to the end of the second.
    let (first, rest) = line(who(ex, info, &extras), width);
    let mut items = usage(info, &extras);
    items.extend(rest);
    let (mut second, left) = line(items.clone(), width);
    if !left.is_empty() {
        // Say that something was left out (widen the pane, or `Enter` for
        // the detail alone, to read it), in room kept for the mark.
        (second, _) = line(items, width.saturating_sub(text_width(MORE)));
        second.spans.push(Span::styled(MORE, theme::DIM));
    }
    frame.render_widget(Paragraph::new(vec![first, second]), area);
}

/// Items joined by ` · `, as many as fit in `width` (the first always),
/// and the items that did not fit.
fn line(items: Vec<(String, Style)>, width: usize) -> (Line<'static>, Vec<(String, Style)>) {
    let mut spans = Vec::new();
    let mut left = Vec::new();
    let mut used = 0;
    for (text, style) in items {
        let sep = if spans.is_empty() { 0 } else { text_width(SEP) };
        let w = text_width(&text) + sep;
        if !spans.is_empty() && used + w > width {
            left.push((text, style));
            continue;
        }
        if !spans.is_empty() {
            spans.push(Span::styled(SEP, theme::DIM));
        }
        used += w;
        spans.push(Span::styled(text, style));
    }
    (Line::from(spans), left)
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
    if let Some(note) = u.cost_note {
        items.push((note.to_string(), theme::DIM));
    }
    if u.cache_read.is_some() || u.cache_write.is_some() {
        items.push(count("cache read", u.cache_read));
        items.push(count("cache write", u.cache_write));
    }
    if let Some(r) = u.reasoning {
        items.push(count("reasoning", Some(r)));
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &Line<'_>) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn what_does_not_fit_is_handed_on_whole() {
        let item = |t: &str| (t.to_string(), Style::new());
        let items = vec![
            item("anthropic"),
            item("a-very-long-model-name"),
            item("ttft 40ms"),
        ];
        let (first, rest) = line(items, 36);
        assert_eq!(texts(&first), "anthropic · a-very-long-model-name");
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].0, "ttft 40ms");
        // The first item always shows, even when too wide.
        let (first, rest) = line(vec![item("0123456789")], 4);
        assert_eq!((texts(&first).as_str(), rest.len()), ("0123456789", 0));
    }
}
