//! The SSE Timeline tab: the stream's numbers, a sparkline of the gaps
//! between events (a stall stands out as a tall bar), one row per event with
//! its elapsed time, type and summary, and the reassembled message below.

use ratatui::text::{Line, Span};

use crate::llm::{Analysis, Timeline, TimelineEvent};
use crate::tui::doc::{Doc, DocBuilder, text_width};
use crate::tui::{strings, theme};

use super::parts;
use super::text::{cut, fit};

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
/// Width of the event-type column.
const KIND_W: usize = 26;

pub fn build(a: &Analysis, width: u16) -> Doc {
    let mut out = DocBuilder::new(width);
    let Some(t) = &a.timeline else {
        out.line(Line::styled(strings::NO_EVENTS, theme::DIM));
        return out.finish();
    };
    out.line(Line::styled(stats(t), theme::HEADER));
    let gaps = gaps(&t.events);
    out.line(Line::from(vec![
        Span::styled("gaps ", theme::DIM),
        Span::styled(sparkline(&gaps, out.width().saturating_sub(5)), theme::LIVE),
    ]));
    out.blank();
    out.section(&format!("Events ({})", t.events.len()));
    let stall = stall_index(&gaps);
    let width = out.width();
    for (i, e) in t.events.iter().enumerate() {
        let gap = gaps.get(i).copied().filter(|_| Some(i) == stall);
        out.raw(event_row(e, gap, width));
    }
    if let Some(reply) = &a.reply {
        out.blank();
        out.section("Reassembled message");
        for p in &reply.parts {
            parts::part(&mut out, p, true);
        }
        if let Some(stop) = &reply.stop_reason {
            out.line(Line::styled(format!("stop: {stop}"), theme::DIM));
        }
    }
    out.finish()
}

/// `42 events · ttft 612ms · 54.2 tok/s · largest gap 380ms at +0.95s`
fn stats(t: &Timeline) -> String {
    let ms = |v: f64| strings::duration_us((v * 1000.0).round() as u64);
    let n = t.events.len();
    let mut parts = vec![format!("{n} event{}", if n == 1 { "" } else { "s" })];
    if let Some(v) = t.ttft_ms {
        parts.push(format!("ttft {}", ms(v)));
    }
    if let Some(v) = t.output_tokens_per_s {
        parts.push(format!("{v:.1} tok/s"));
    }
    if let Some(g) = t.largest_gap_ms {
        let at = t
            .largest_gap_at_ms
            .map(|a| format!(" at +{:.2}s", a / 1000.0))
            .unwrap_or_default();
        parts.push(format!("largest gap {}{at}", ms(g)));
    }
    if t.approximate {
        parts.push(strings::APPROXIMATE.to_string());
    }
    parts.join(" · ")
}

/// Milliseconds since the previous event, per event (0 for the first).
fn gaps(events: &[TimelineEvent]) -> Vec<f64> {
    let mut prev: Option<f64> = None;
    events
        .iter()
        .map(|e| {
            let gap = match (prev, e.elapsed_ms) {
                (Some(p), Some(now)) => (now - p).max(0.0),
                _ => 0.0,
            };
            if e.elapsed_ms.is_some() {
                prev = e.elapsed_ms;
            }
            gap
        })
        .collect()
}

/// The event that ended the longest gap, when it stands out.
fn stall_index(gaps: &[f64]) -> Option<usize> {
    let (i, max) = gaps
        .iter()
        .copied()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    (max > 0.0).then_some(i)
}

/// One bar per event; with more events than columns, each bar is the
/// largest gap of its bucket so a stall never averages away.
pub fn sparkline(gaps: &[f64], width: usize) -> String {
    if gaps.is_empty() || width == 0 {
        return String::new();
    }
    let per = gaps.len().div_ceil(width);
    let buckets: Vec<f64> = gaps
        .chunks(per)
        .map(|c| c.iter().copied().fold(0.0, f64::max))
        .collect();
    let max = buckets.iter().copied().fold(0.0, f64::max);
    buckets
        .iter()
        .map(|g| {
            if max <= 0.0 {
                return BARS[0];
            }
            let level = ((g / max) * (BARS.len() - 1) as f64).round() as usize;
            BARS[level.min(BARS.len() - 1)]
        })
        .collect()
}

/// One event on one row (cut to `width`); the event that ended the
/// longest stall says so.
fn event_row(e: &TimelineEvent, stall: Option<f64>, width: usize) -> Line<'static> {
    let elapsed = e.elapsed_ms.map_or("       ?".to_string(), |ms| {
        format!("+{:>7.3}s", ms / 1000.0)
    });
    let lead = format!("{elapsed}  {} ", fit(&e.kind, KIND_W));
    let room = width.saturating_sub(text_width(&lead));
    let mut spans = vec![
        Span::styled(format!("{elapsed}  "), theme::DIM),
        Span::styled(format!("{} ", fit(&e.kind, KIND_W)), theme::HEADER_NAME),
    ];
    match stall {
        Some(g) => {
            // Written as the header's "largest gap" is, so the two agree.
            let gap = strings::duration_us((g * 1000.0).round() as u64);
            let text = format!("◂ {gap} gap · {}", e.summary);
            spans.push(Span::styled(cut(&text, room), theme::WARN));
        }
        None => spans.push(Span::raw(cut(&e.summary, room))),
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_keeps_a_stall_visible_when_bucketed() {
        assert_eq!(sparkline(&[0.0, 10.0, 80.0, 10.0], 10), "▁▂█▂");
        let mut gaps = vec![1.0; 100];
        gaps[57] = 500.0;
        let line = sparkline(&gaps, 10);
        assert_eq!(line.chars().count(), 10);
        assert_eq!(line.chars().filter(|c| *c == '█').count(), 1);
    }

    #[test]
    fn stall_is_the_largest_gap() {
        assert_eq!(stall_index(&[0.0, 3.0, 9.0, 1.0]), Some(2));
        assert_eq!(stall_index(&[0.0, 0.0]), None);
    }
}
