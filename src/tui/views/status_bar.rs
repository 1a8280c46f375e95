//! The status bar: where llmspy listens, counts, tokens and cost of what is
//! shown, and either a message or key hints. An open text field takes its
//! place, with a line above it pointing at a filter error.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::App;
use crate::tui::doc::text_width;
use crate::tui::input::{Field, FieldKind};
use crate::tui::keymap;
use crate::tui::layout::Areas;
use crate::tui::{strings, theme};

use super::text::cut;

pub fn render(frame: &mut Frame<'_>, areas: &Areas, app: &App) {
    match &app.field {
        Some(field) => {
            render_field(frame, areas.status, field);
            if let (Some(area), Some(err)) = (areas.input_error, &field.error) {
                frame.render_widget(Paragraph::new(error_line(field, err, area.width)), area);
            }
        }
        None => render_summary(frame, areas.status, app),
    }
}

fn prompt(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Filter => strings::FILTER_PROMPT,
        FieldKind::Search => strings::SEARCH_PROMPT,
        FieldKind::ExportPath => strings::PATH_PROMPT,
    }
}

fn render_field(frame: &mut Frame<'_>, area: Rect, field: &Field) {
    let p = prompt(field.kind);
    let pw = u16::try_from(text_width(p)).unwrap_or(0).min(area.width);
    frame.render_widget(Paragraph::new(Span::styled(p, theme::KEY)), area);
    let text_area = Rect {
        x: area.x + pw,
        width: area.width - pw,
        ..area
    };
    frame.render_widget(&field.text, text_area);
}

/// `        ^ at column 7: expected a value after ~m`
fn error_line(field: &Field, err: &crate::filter::FilterError, width: u16) -> Line<'static> {
    let caret_at = text_width(prompt(field.kind)) + err.column.saturating_sub(1);
    // The caret under the fault, then the hint, as far as they fit.
    let with_hint = format!("^ {err} {}", strings::FILTER_ERROR_HINT);
    let bare = format!("^ {err}");
    let fits = |m: &str| caret_at + text_width(m) <= usize::from(width);
    let text = match (fits(&with_hint), fits(&bare)) {
        (true, _) => format!("{}{with_hint}", " ".repeat(caret_at)),
        (false, true) => format!("{}{bare}", " ".repeat(caret_at)),
        (false, false) => err.to_string(),
    };
    Line::styled(cut(&text, usize::from(width)), theme::ERROR)
}

fn render_summary(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let width = usize::from(area.width);
    let summary = summary(app);
    // A message wins over the summary's tail; hints only take spare room.
    let (left, right, right_style) = match &app.flash {
        Some(f) => {
            let right = cut(&f.text, width.saturating_sub(1));
            let left = cut(&summary, width.saturating_sub(text_width(&right) + 1));
            let style = if f.error { theme::ERROR } else { theme::FLASH };
            (left, right, style)
        }
        None => {
            let left = cut(&summary, width);
            let room = width.saturating_sub(text_width(&left) + 1);
            (left, hints(app, room), theme::STATUS)
        }
    };
    let gap = width.saturating_sub(text_width(&left) + text_width(&right));
    let line = Line::from(vec![
        Span::raw(left),
        Span::raw(" ".repeat(gap)),
        Span::styled(right, right_style),
    ]);
    frame.render_widget(Paragraph::new(line).style(theme::STATUS), area);
}

/// ` 127.0.0.1:1080 │ 12/40 shown · 0 evicted · 1 failed │ 12.3k tok · $0.0421 `
fn summary(app: &App) -> String {
    let t = &app.list.totals;
    let place = match (&app.info.listen, &app.info.source) {
        (Some(_), _) if app.viewing_run().is_some() => {
            format!("history run {}", app.viewing_run().unwrap_or_default())
        }
        (Some(addr), _) => addr.clone(),
        (None, Some(path)) => path.display().to_string(),
        (None, None) => strings::APP.to_string(),
    };
    let cost = match (t.cost_unknown, t.cost) {
        (0, known) => strings::cost(known),
        (_, known) if known.abs() < 1e-9 => strings::COST_UNKNOWN_SHORT.to_string(),
        // Some prices are unknown: the sum is a floor.
        (_, known) => format!("{}+", strings::cost(known)),
    };
    let sinks: String = app
        .info
        .sink_status
        .iter()
        .map(|status| format!("│ {} ", status()))
        .collect();
    format!(
        " {place} │ {}/{} shown · {} evicted · {} failed │ {} tok · {cost} {sinks}",
        t.shown,
        t.total,
        t.evicted,
        t.failed,
        strings::tokens(t.tokens)
    )
}

/// Key hints, the everywhere-keys (help first) before the pane's own; only
/// whole hints that fit in `room` columns.
fn hints(app: &App, room: usize) -> String {
    let mut scopes = app.scopes();
    scopes.rotate_right(1);
    let mut out = String::new();
    for (key, word) in keymap::hints(&scopes) {
        let hint = format!("{key} {word}  ");
        if text_width(&out) + text_width(&hint) > room {
            break;
        }
        out.push_str(&hint);
    }
    out
}
