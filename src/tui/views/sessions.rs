//! The Sessions screen: each conversation a swim-lane of turn chips (tokens,
//! cost, MCP calls caused), a sub-agent's lane indented under its parent,
//! what changed at the selected turn and the MCP calls it made, a chart of
//! the context per turn with the selected turn's breakdown and running
//! cost, totals, and a strip of the requests that belong to no conversation.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::capture::Records;
use crate::tui::app::App;
use crate::tui::doc::text_width;
use crate::tui::sessions::{Lane, Sessions, Turn};
use crate::tui::{strings, theme};

use super::text::{cut, fit};

/// Rows one lane takes on screen.
pub const LANE_ROWS: u16 = 4;

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App, store: &dyn Records) {
    let s = &app.sessions;
    let area = if s.diff.shown {
        let panel = area.height / 2;
        let lanes = Rect {
            height: area.height - panel,
            ..area
        };
        let below = Rect {
            y: area.y + lanes.height,
            height: panel,
            ..area
        };
        frame.render_widget(Paragraph::new(diff_lines(&s.diff.lines, below)), below);
        lanes
    } else {
        area
    };
    let width = usize::from(area.width);
    let mut lines = vec![totals(s, width)];
    if s.lanes.is_empty() {
        lines.push(Line::styled(
            format!(" {}", strings::NO_THREADS_YET),
            theme::DIM,
        ));
    }
    let visible = usize::from(area.height.saturating_sub(1) / LANE_ROWS).max(1);
    for (i, lane) in s.lanes.iter().enumerate().skip(s.offset).take(visible) {
        lines.extend(lane_lines(lane, i == s.lane, s.turn, width));
    }
    if !s.unscoped.is_empty() {
        lines.extend(unscoped(s, store, s.lane == s.lanes.len(), width));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// The "what changed" panel: a rule, then the diff lines coloured.
fn diff_lines(lines: &[String], area: Rect) -> Vec<Line<'static>> {
    let width = usize::from(area.width);
    let mut out = vec![Line::styled("─".repeat(width), theme::DIM)];
    out.extend(lines.iter().take(usize::from(area.height)).map(|l| {
        let style = match l.chars().next() {
            Some('+') => theme::ADDED,
            Some('-') => theme::ERROR,
            Some('@') => theme::DIM,
            Some(' ') => Style::new(),
            _ => theme::HEADER,
        };
        Line::styled(cut(l, width), style)
    }));
    out
}

fn totals(s: &Sessions, width: usize) -> Line<'static> {
    let tokens: u64 = s.lanes.iter().map(Lane::tokens).sum();
    let costs: Vec<(f64, bool)> = s.lanes.iter().filter_map(Lane::cost).collect();
    let cost = price((costs.iter().map(|c| c.0).sum(), costs.iter().any(|c| c.1)));
    let text = format!(
        " {} conversation(s) · {} tok · {}",
        s.lanes.len(),
        strings::tokens(tokens),
        cost
    );
    Line::styled(cut(&text, width), theme::HEADER)
}

/// `$0.0123`, or `$0.0123+` when some turn's price is unknown.
fn price((usd, unknown): (f64, bool)) -> String {
    let mut s = strings::cost(usd);
    if unknown {
        s.push('+');
    }
    s
}

fn lane_lines(lane: &Lane, selected: bool, turn: usize, width: usize) -> Vec<Line<'static>> {
    let right = match lane.cost() {
        Some(cost) => format!(
            "{} turn(s) · {} tok · {} ",
            lane.turns.len(),
            strings::tokens(lane.tokens()),
            price(cost)
        ),
        None => format!("{} call(s) ", lane.turns.len()),
    };
    let label_w = width.saturating_sub(text_width(&right) + 2);
    let style = if selected {
        theme::TITLE
    } else {
        theme::HEADER
    };
    let label = match lane.parent_turn {
        Some(parent) => format!("  ↳ from #{parent} · {}", lane.label),
        None => lane.label.clone(),
    };
    let head = Line::from(vec![
        Span::styled(format!(" {}", fit(&label, label_w)), style),
        Span::styled(format!(" {right}"), theme::DIM),
    ]);
    let chip = |i: usize| {
        let t = &lane.turns[i];
        let mut text = match (t.priced, t.cost) {
            (false, _) => format!("#{}", t.id),
            (true, Some(c)) => format!(
                "#{} {} {}",
                t.id,
                strings::tokens(t.tokens),
                strings::cost(c)
            ),
            (true, None) => format!("#{} {} ?", t.id, strings::tokens(t.tokens)),
        };
        if !t.mcp.is_empty() {
            text.push_str(&format!(" ⚙{}", t.mcp.len()));
        }
        text
    };
    let chosen = lane.turns.get(turn).filter(|_| selected);
    let changes = chosen.map(turn_story).unwrap_or_default();
    vec![
        head,
        chip_row(lane.turns.len(), selected.then_some(turn), width, chip),
        Line::styled(
            format!("   {}", cut(&changes, width.saturating_sub(3))),
            theme::ADDED,
        ),
        context_chart(lane, chosen, width),
    ]
}

/// What changed at a turn, then the MCP calls it caused.
fn turn_story(t: &Turn) -> String {
    let mut parts = t.changes.clone();
    if !t.mcp.is_empty() {
        let calls: Vec<String> = t
            .mcp
            .iter()
            .map(|(id, tool)| format!("{tool} #{id}"))
            .collect();
        parts.push(format!("MCP: {}", calls.join(", ")));
    }
    parts.join(" · ")
}

/// Bars for the context of each turn (height: input tokens), then the
/// selected turn's split and the running cost. Blank without usage.
fn context_chart(lane: &Lane, chosen: Option<&Turn>, width: usize) -> Line<'static> {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let inputs: Vec<Option<u64>> = lane
        .turns
        .iter()
        .map(|t| t.context.map(|(r, w, f, _)| r + w + f))
        .collect();
    let max = inputs.iter().flatten().copied().max().unwrap_or(0);
    if max == 0 {
        return Line::default();
    }
    let detail = chosen
        .and_then(|t| t.context.map(|c| (c, t.running_cost)))
        .map(|((read, write, fresh, out), running)| {
            format!(
                "  read {} · write {} · fresh {} · out {} · so far {}",
                strings::tokens(read),
                strings::tokens(write),
                strings::tokens(fresh),
                strings::tokens(out),
                strings::cost(running)
            )
        })
        .unwrap_or_default();
    let room = width.saturating_sub(text_width(&detail) + 9).max(1);
    let skip = inputs.len().saturating_sub(room);
    let bars: String = inputs[skip..]
        .iter()
        .map(|i| match i {
            Some(v) => BARS[((*v * 7) / max) as usize],
            None => ' ',
        })
        .collect();
    Line::from(vec![
        Span::styled("   ctx ", theme::DIM),
        Span::styled(bars, theme::KEY),
        Span::styled(detail, theme::DIM),
    ])
}

/// Chips left to right, starting up to two before the selected one when
/// room allows; only the visible chips are built, however long the lane.
fn chip_row(
    count: usize,
    selected: Option<usize>,
    width: usize,
    chip: impl Fn(usize) -> String,
) -> Line<'static> {
    let sel = selected.unwrap_or(0).min(count.saturating_sub(1));
    let chip_w = |i: usize| text_width(&chip(i)) + 2;
    let mut start = sel;
    let mut used = chip_w(sel) + 4;
    while start > 0 && start + 2 > sel && used + chip_w(start - 1) + 3 <= width {
        start -= 1;
        used += chip_w(start) + 3;
    }
    let mut spans = vec![Span::raw(if start > 0 { " ‹ " } else { " " })];
    let mut used = text_width(&spans[0].content);
    for i in start..count {
        let text = format!("[{}]", chip(i));
        let sep = if i > start { 3 } else { 0 };
        if i > sel && used + sep + text_width(&text) + 2 > width {
            spans.push(Span::styled(" ›", theme::DIM));
            break;
        }
        if sep > 0 {
            spans.push(Span::styled(" → ", theme::DIM));
        }
        used += sep + text_width(&text);
        let style = if Some(i) == selected {
            theme::SELECTED
        } else {
            Style::new()
        };
        spans.push(Span::styled(text, style));
    }
    Line::from(spans)
}

fn unscoped(s: &Sessions, store: &dyn Records, selected: bool, width: usize) -> Vec<Line<'static>> {
    let style = if selected {
        theme::TITLE
    } else {
        theme::HEADER
    };
    let head = Line::styled(
        format!(" {} ({})", strings::UNSCOPED, s.unscoped.len()),
        style,
    );
    let chip = |i: usize| {
        let id = s.unscoped[i];
        let label = store.get(id).map_or(String::new(), |r| {
            let r = &r.exchange.request;
            cut(&format!(" {} {}{}", r.method, r.host, r.path), 20)
        });
        format!("#{id}{label}")
    };
    vec![
        head,
        chip_row(s.unscoped.len(), selected.then_some(s.turn), width, chip),
    ]
}
