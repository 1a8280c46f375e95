//! The usage strip above an LLM exchange's tabs: who answered, how much it
//! cost and how fast it came.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::exchange::Exchange;
use crate::llm::Analysis;
use crate::tui::analysis;
use crate::tui::rows::{RowInfo, UsageExtras};
use crate::tui::{strings, theme};

pub fn render(
    frame: &mut Frame<'_>,
    area: Rect,
    ex: &Exchange,
    info: &RowInfo,
    analysis: Option<&Analysis>,
) {
    let extras = analysis.map(analysis::extras).unwrap_or_default();
    let lines = vec![who(ex, info, &extras), usage(info, &extras)];
    frame.render_widget(Paragraph::new(lines), area);
}

fn sep() -> Span<'static> {
    Span::styled(" · ", theme::DIM)
}

/// `anthropic · claude-sonnet-4 · end_turn · ttft 412ms · 54 tok/s`
fn who(ex: &Exchange, info: &RowInfo, u: &UsageExtras) -> Line<'static> {
    let mut spans = vec![
        Span::styled(info.kind_label().to_string(), theme::TITLE),
        sep(),
        Span::styled(
            info.facts.model.clone().unwrap_or_else(|| "?".into()),
            theme::HEADER,
        ),
    ];
    if let Some(stop) = &u.stop_reason {
        spans.extend([sep(), Span::raw(format!("stop {stop}"))]);
    } else if !ex.state.is_finished() {
        spans.extend([sep(), Span::styled(strings::STREAMING, theme::LIVE)]);
    }
    if let Some(t) = u.ttft_us {
        spans.extend([
            sep(),
            Span::raw(format!("ttft {}", strings::duration_us(t))),
        ]);
    }
    if let Some(tps) = u.tokens_per_sec {
        spans.extend([sep(), Span::raw(format!("{tps:.0} tok/s"))]);
    }
    if let Some(err) = &u.error {
        spans.extend([sep(), Span::styled(err.clone(), theme::ERROR)]);
    }
    Line::from(spans)
}

/// `in 1.2k · out 356 · cache read 900 · cache write 0 · $0.0123`
fn usage(info: &RowInfo, u: &UsageExtras) -> Line<'static> {
    let count = |label: &str, n: Option<u64>| {
        Span::raw(format!("{label} {}", n.map_or("?".into(), strings::tokens)))
    };
    let mut spans = vec![
        count("in", info.tokens_in),
        sep(),
        count("out", info.tokens_out),
    ];
    if u.cache_read.is_some() || u.cache_write.is_some() {
        spans.extend([sep(), count("cache read", u.cache_read)]);
        spans.extend([sep(), count("cache write", u.cache_write)]);
    }
    if let Some(r) = u.reasoning {
        spans.extend([sep(), count("reasoning", Some(r))]);
    }
    let cost = info
        .cost
        .map_or(strings::COST_UNKNOWN.to_string(), strings::cost);
    spans.extend([sep(), Span::styled(cost, theme::HEADER)]);
    Line::from(spans)
}
