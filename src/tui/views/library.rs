//! The Library screen: expectations, and the Export form.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::tui::app::App;
use crate::tui::library::{ExportField, LibraryTab, What, expectation_rows, format_label};
use crate::tui::{strings, theme};

use super::text::{fit, fit_right};

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let mut lines = vec![
        tabs(app.library.tab, app.info.history.is_some()),
        Line::default(),
    ];
    match app.library.tab {
        LibraryTab::Expectations => {
            let list = app.active_expectations();
            let room = usize::from(area.height).saturating_sub(6);
            lines.extend(expectation_lines(
                &list,
                app.library.scroll,
                room,
                usize::from(area.width),
            ));
            lines.push(Line::default());
            lines.push(Line::styled(
                format!("   {}", strings::RECORD_HINT),
                theme::DIM,
            ));
            lines.extend(result_line(&app.library.result));
        }
        LibraryTab::Export => lines.extend(export_form(app)),
        LibraryTab::Runs => {
            lines.extend(run_lines(app, usize::from(area.height).saturating_sub(4)))
        }
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

/// The Runs tab: live traffic, then the runs, the cursor's row marked.
fn run_lines(app: &App, room: usize) -> Vec<Line<'static>> {
    let rows = match app.run_rows() {
        Ok(rows) => rows,
        Err(e) => return vec![Line::styled(format!("   {e}"), theme::ERROR)],
    };
    let cursor = app.library.run_cursor.min(rows.len().saturating_sub(1));
    let first = cursor.saturating_sub(room.saturating_sub(1));
    let mut out: Vec<Line<'static>> = rows
        .iter()
        .enumerate()
        .skip(first)
        .take(room)
        .map(|(i, (id, text))| {
            let shown = id.is_some() && *id == app.viewing_run()
                || id.is_none() && app.viewing_run().is_none();
            let mark = if shown { "▸" } else { " " };
            let style = if i == cursor {
                theme::TAB_ACTIVE
            } else {
                Style::default()
            };
            Line::styled(format!(" {mark} {text}"), style)
        })
        .collect();
    out.push(Line::default());
    out.push(Line::styled(
        format!("   {}", strings::RUNS_HINT),
        theme::DIM,
    ));
    out
}

fn tabs(active: LibraryTab, runs: bool) -> Line<'static> {
    let tab = |t: LibraryTab, label: &'static str| {
        let style = if t == active {
            theme::TAB_ACTIVE
        } else {
            theme::TAB
        };
        Span::styled(format!(" {label} "), style)
    };
    let mut spans = vec![
        Span::raw(" "),
        tab(LibraryTab::Expectations, "Expectations"),
        tab(LibraryTab::Export, "Export"),
    ];
    if runs {
        spans.push(tab(LibraryTab::Runs, "Runs"));
    }
    Line::from(spans)
}

fn count(app: &App, what: What) -> usize {
    match what {
        What::All => app.list.totals.total,
        What::Filtered => app.list.len(),
        What::Marked => app.list.scope.marked.len(),
        What::Expectations => app.active_expectations().len(),
    }
}

/// The form's rows: field, label, value, note.
fn fields(app: &App) -> [(ExportField, &'static str, String, String); 5] {
    let lib = &app.library;
    let secrets = if lib.redact {
        strings::REDACTED
    } else {
        strings::KEPT
    };
    let n = count(app, lib.what);
    [
        (
            ExportField::What,
            "What",
            choice(lib.what.label()),
            format!("  {n} exchange(s)"),
        ),
        (
            ExportField::Format,
            "Format",
            choice(format_label(lib.format)),
            String::new(),
        ),
        (
            ExportField::Secrets,
            "Secrets",
            choice(secrets),
            String::new(),
        ),
        (
            ExportField::Path,
            "Path",
            lib.path.clone(),
            strings::EDIT_HINT.into(),
        ),
        (
            ExportField::Write,
            "",
            strings::WRITE_BUTTON.into(),
            String::new(),
        ),
    ]
}

fn choice(label: &str) -> String {
    format!("‹ {label} ›")
}

fn export_form(app: &App) -> Vec<Line<'static>> {
    let lib = &app.library;
    let mut lines: Vec<Line<'static>> = fields(app)
        .into_iter()
        .map(|(field, label, value, note)| {
            let selected = lib.field == field;
            let (marker, style) = match selected {
                true => ("›", theme::SELECTED),
                false => (" ", Style::new()),
            };
            Line::from(vec![
                Span::styled(format!(" {marker} {label:<8}"), theme::HEADER),
                Span::styled(value, style),
                Span::styled(note, theme::DIM),
            ])
        })
        .collect();
    lines.push(Line::default());
    lines.extend(result_line(&lib.result));
    lines
}

fn result_line(result: &Option<Result<String, String>>) -> Option<Line<'static>> {
    match result {
        Some(Ok(msg)) => Some(Line::styled(format!("   {msg}"), theme::OK)),
        Some(Err(msg)) => Some(Line::styled(format!("   {msg}"), theme::ERROR)),
        None => None,
    }
}

/// The expectations as a table fitted to `width`, `room` rows from
/// `scroll` on.
fn expectation_lines(
    list: &[serde_json::Value],
    scroll: usize,
    room: usize,
    width: usize,
) -> Vec<Line<'static>> {
    if list.is_empty() {
        return vec![Line::styled(strings::NO_EXPECTATIONS, theme::DIM)];
    }
    let rows = expectation_rows(list);
    let room = room.max(1);
    let scroll = scroll.min(rows.len().saturating_sub(1));
    let columns = Columns::fitted(width);
    let mut out = vec![Line::styled(
        columns.line([
            "id", "prio", "times", "method", "path", "answer", "scenario",
        ]),
        theme::HEADER,
    )];
    for r in rows.iter().skip(scroll).take(room) {
        out.push(Line::raw(columns.line([
            &r.id,
            &r.priority,
            &r.times,
            &r.method,
            &r.path,
            &r.answer,
            &r.scenario,
        ])));
    }
    if rows.len() > scroll + room {
        out.push(Line::styled(
            format!("   … {} more (j/k to scroll)", rows.len() - scroll - room),
            theme::DIM,
        ));
    }
    out
}

/// Widths of the expectation table's variable columns. The path takes what
/// the fixed columns leave; the scenario column shows only where there is
/// space for it.
struct Columns {
    path: usize,
    answer: usize,
    scenario: usize,
}

impl Columns {
    fn fitted(width: usize) -> Self {
        let scenario = if width >= 120 { 16 } else { 0 };
        let answer = if width >= 100 { 30 } else { 20 };
        // id, prio, times, method and the gaps between columns.
        let fixed = 1
            + 10
            + 1
            + 4
            + 1
            + 6
            + 2
            + 7
            + 1
            + 1
            + answer
            + usize::from(scenario > 0) * (1 + scenario);
        Columns {
            path: width.saturating_sub(fixed).max(8),
            answer,
            scenario,
        }
    }

    /// One row: id, priority, times, method, path, answer, scenario.
    fn line(&self, [id, prio, times, method, path, answer, scenario]: [&str; 7]) -> String {
        let mut text = format!(
            " {} {} {}  {} {} {}",
            fit(id, 10),
            fit_right(prio, 4),
            fit_right(times, 6),
            fit(method, 7),
            fit(path, self.path),
            fit(answer, self.answer)
        );
        if self.scenario > 0 {
            text.push(' ');
            text.push_str(&fit(scenario, self.scenario));
        }
        text
    }
}
