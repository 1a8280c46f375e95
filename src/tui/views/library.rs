//! The Library screen: expectations, and the Export form.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::tui::app::App;
use crate::tui::library::{ExportField, LibraryTab, What, format_label};
use crate::tui::{strings, theme};

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let mut lines = vec![tabs(app.library.tab), Line::default()];
    match app.library.tab {
        LibraryTab::Expectations => {
            lines.push(Line::styled(strings::NO_EXPECTATIONS, theme::DIM));
        }
        LibraryTab::Export => lines.extend(export_form(app)),
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

fn tabs(active: LibraryTab) -> Line<'static> {
    let tab = |t: LibraryTab, label: &'static str| {
        let style = if t == active {
            theme::TAB_ACTIVE
        } else {
            theme::TAB
        };
        Span::styled(format!(" {label} "), style)
    };
    Line::from(vec![
        Span::raw(" "),
        tab(LibraryTab::Expectations, "Expectations"),
        tab(LibraryTab::Export, "Export"),
    ])
}

fn count(app: &App, what: What) -> usize {
    match what {
        What::All => app.list.totals.total,
        What::Filtered => app.list.len(),
        What::Marked => app.list.scope.marked.len(),
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
    match &lib.result {
        Some(Ok(msg)) => lines.push(Line::styled(format!("   {msg}"), theme::OK)),
        Some(Err(msg)) => lines.push(Line::styled(format!("   {msg}"), theme::ERROR)),
        None => {}
    }
    lines
}
