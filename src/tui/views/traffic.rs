//! The traffic list: one row per shown exchange, only the visible window
//! built. Columns drop out, least useful first, as the list gets narrower.

use ratatui::Frame;
use ratatui::layout::Alignment;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::capture::Records;
use crate::exchange::{Exchange, State};
use crate::tui::app::{App, Focus};
use crate::tui::rows::{Kind, RowInfo};
use crate::tui::sort::SortKey;
use crate::tui::{strings, theme};

use super::text::{fit, fit_right};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Mark,
    Id,
    Time,
    Method,
    Url,
    Status,
    /// The program that sent it; shown only when the visible rows know one.
    App,
    Kind,
    Model,
    In,
    Out,
    Cost,
    Dur,
}

/// Columns left to right with their widths (the URL takes what is left).
const COLUMNS: [(Col, usize); 13] = [
    (Col::Mark, 2),
    (Col::Id, 5),
    (Col::Time, 8),
    (Col::Method, 6),
    (Col::Url, 0),
    (Col::Status, 4),
    (Col::App, 10),
    (Col::Kind, 9),
    (Col::Model, 16),
    (Col::In, 6),
    (Col::Out, 6),
    (Col::Cost, 7),
    (Col::Dur, 6),
];

/// Dropped in this order when the list is too narrow.
const DROP_ORDER: [Col; 9] = [
    Col::App,
    Col::Kind,
    Col::Time,
    Col::Dur,
    Col::In,
    Col::Out,
    Col::Cost,
    Col::Model,
    Col::Method,
];

const MIN_URL: usize = 16;

/// The columns that fit in `width`, with the URL column's width filled in.
fn columns(width: usize, with_app: bool) -> Vec<(Col, usize)> {
    let mut cols: Vec<(Col, usize)> = COLUMNS.to_vec();
    if !with_app {
        cols.retain(|(c, _)| *c != Col::App);
    }
    let need = |cols: &[(Col, usize)]| cols.iter().map(|(_, w)| w + 1).sum::<usize>() + MIN_URL;
    for drop in DROP_ORDER {
        if need(&cols) <= width {
            break;
        }
        cols.retain(|(c, _)| *c != drop);
    }
    let fixed: usize = cols.iter().map(|(_, w)| w + 1).sum();
    let url = width.saturating_sub(fixed).max(1);
    for (c, w) in &mut cols {
        if *c == Col::Url {
            *w = url;
        }
    }
    cols
}

fn title(col: Col) -> &'static str {
    match col {
        Col::Mark => "",
        Col::Id => "#",
        Col::Time => "time",
        Col::Method => "method",
        Col::Url => "host/path",
        Col::Status => "code",
        Col::App => "app",
        Col::Kind => "kind",
        Col::Model => "model",
        Col::In => "in",
        Col::Out => "out",
        Col::Cost => "cost",
        Col::Dur => "dur",
    }
}

fn sorted_col(key: SortKey) -> Option<Col> {
    match key {
        SortKey::Arrival => Some(Col::Id),
        SortKey::Method => Some(Col::Method),
        SortKey::Host | SortKey::Path => Some(Col::Url),
        SortKey::Status => Some(Col::Status),
        SortKey::Model => Some(Col::Model),
        SortKey::TokensIn => Some(Col::In),
        SortKey::TokensOut => Some(Col::Out),
        SortKey::Cost => Some(Col::Cost),
        SortKey::Duration => Some(Col::Dur),
    }
}

fn right_aligned(col: Col) -> bool {
    matches!(col, Col::Id | Col::In | Col::Out | Col::Cost | Col::Dur)
}

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App, store: &dyn Records) {
    let rows = usize::from(area.height.saturating_sub(1));
    let window = app.list.offset..(app.list.offset + rows).min(app.list.len());
    let with_app = window.clone().any(|row| {
        app.list
            .id_at(row)
            .and_then(|id| store.get(id))
            .is_some_and(|r| r.exchange.client_app.is_some())
    });
    let cols = columns(usize::from(area.width), with_app);
    let mut lines = vec![header(&cols, app)];
    if app.list.is_empty() {
        let below = Rect {
            y: area.y + 2,
            height: area.height.saturating_sub(2),
            ..area
        };
        frame.render_widget(empty(app, store, below.width), below);
    }
    for row in window {
        let Some(id) = app.list.id_at(row) else {
            continue;
        };
        let Some((record, info)) = store.get(id).and_then(|r| Some((r, app.rows.get(r)?))) else {
            continue;
        };
        let flags = Flags {
            marked: app.list.scope.marked.contains(&id),
            selected: row == app.list.selected_row(),
        };
        let mut line = row_line(&cols, &record.exchange, info, flags, app);
        if flags.selected {
            line = line.style(selection_style(app));
        }
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// What an empty list says, and (before any traffic) how to send some.
fn empty<'a>(app: &'a App, store: &dyn Records, width: u16) -> Paragraph<'a> {
    let mut lines = vec![Line::styled(empty_text(app, store), theme::DIM)];
    if store.is_empty() && !app.info.setup.is_empty() {
        lines.push(Line::default());
        // A shell line wrapped at a space would paste as two broken
        // commands (`export` alone, then `VAR=…`): each stays on its row,
        // cut with `…` when the pane is narrower (the intro's one command
        // sets them all).
        let width = usize::from(width);
        lines.extend(
            app.info
                .setup
                .iter()
                .map(|l| Line::styled(super::text::cut(l, width), theme::KEY)),
        );
        return Paragraph::new(lines).wrap(Wrap { trim: false });
    }
    Paragraph::new(lines)
        .alignment(Alignment::Center)
        .wrap(Wrap { trim: true })
}

fn empty_text<'a>(app: &App, store: &dyn Records) -> &'a str {
    let everything_cleared = app.list.scope.cleared_through > 0
        && store
            .newest()
            .is_none_or(|r| r.exchange.id <= app.list.scope.cleared_through);
    if everything_cleared {
        strings::EMPTY_CLEARED
    } else if !store.is_empty() {
        strings::EMPTY_FILTERED
    } else if app.info.source.is_some() {
        strings::EMPTY_OPENED
    } else {
        strings::EMPTY_LIST
    }
}

fn selection_style(app: &App) -> Style {
    if app.focus == Focus::Main {
        theme::SELECTED
    } else {
        theme::SELECTED_UNFOCUSED
    }
}

fn header(cols: &[(Col, usize)], app: &App) -> Line<'static> {
    let sorted = sorted_col(app.list.sort);
    let arrow = if app.list.reverse { "▼" } else { "▲" };
    let spans: Vec<Span<'static>> = cols
        .iter()
        .map(|(col, w)| {
            let mut t = title(*col).to_string();
            let shown =
                Some(*col) == sorted && (app.list.sort != SortKey::Arrival || app.list.reverse);
            // The arrow follows the title; where the title fills its
            // column, it takes the gap after it instead of cutting it.
            let arrow_in_gap = shown && crate::tui::doc::text_width(&t) >= *w;
            if shown && !arrow_in_gap {
                t.push_str(arrow);
            }
            let text = if right_aligned(*col) {
                fit_right(&t, *w)
            } else {
                fit(&t, *w)
            };
            let gap = if arrow_in_gap { arrow } else { " " };
            Span::styled(format!("{text}{gap}"), theme::HEADER)
        })
        .collect();
    Line::from(spans)
}

/// Per-row markers in the first column.
#[derive(Debug, Clone, Copy)]
struct Flags {
    marked: bool,
    selected: bool,
}

fn row_line(
    cols: &[(Col, usize)],
    ex: &Exchange,
    info: &RowInfo,
    flags: Flags,
    app: &App,
) -> Line<'static> {
    let spans: Vec<Span<'static>> = cols
        .iter()
        .map(|(col, w)| {
            let (text, style) = cell(*col, ex, info, flags, app);
            let text = if right_aligned(*col) {
                fit_right(&text, *w)
            } else {
                fit(&text, *w)
            };
            Span::styled(format!("{text} "), style)
        })
        .collect();
    Line::from(spans)
}

fn cell(col: Col, ex: &Exchange, info: &RowInfo, flags: Flags, app: &App) -> (String, Style) {
    let plain = |s: String| (s, Style::new());
    match col {
        Col::Mark => marker(flags),
        Col::Id => (ex.id.to_string(), theme::DIM),
        Col::Time => plain(
            ex.started_at
                .with_timezone(&app.info.utc_offset)
                .format("%H:%M:%S")
                .to_string(),
        ),
        Col::Method => plain(ex.request.method.to_string()),
        Col::Url => plain(format!(
            "{}{}{}",
            message_counts(ex),
            ex.request.authority(),
            crate::tui::secrets::shown_path(&ex.request.path, false)
        )),
        Col::Status => status(ex),
        Col::App => (ex.client_app.clone().unwrap_or_default(), theme::DIM),
        Col::Kind => (info.kind_label().to_string(), theme::DIM),
        Col::Model => plain(info.model_label().to_string()),
        Col::In => plain(info.tokens_in.map(strings::tokens).unwrap_or_default()),
        Col::Out => plain(info.tokens_out.map(strings::tokens).unwrap_or_default()),
        Col::Cost => cost(info),
        Col::Dur => match ex.duration_us() {
            Some(us) => plain(strings::duration_us(us)),
            None => ("…".into(), theme::LIVE),
        },
    }
}

/// A WebSocket row leads its URL with the messages each way: `↑3 ↓12 `.
fn message_counts(ex: &Exchange) -> String {
    match ex.websocket.as_deref() {
        Some(ws) => {
            let (sent, received) = ws.counts();
            format!("↑{sent} ↓{received} ")
        }
        None if ex.is_websocket() => "↑0 ↓0 ".into(),
        None => String::new(),
    }
}

/// `›` on the selected row (visible without colour too), `●` when marked.
fn marker(flags: Flags) -> (String, Style) {
    let cursor = if flags.selected { '›' } else { ' ' };
    match flags.marked {
        true => (format!("{cursor}●"), theme::MARKED),
        false => (cursor.to_string(), Style::new()),
    }
}

/// True when a mock expectation answered (not the upstream).
fn mocked(ex: &Exchange) -> bool {
    matches!(ex.source, crate::exchange::Source::Mock { .. })
}

/// The status code with a marker: `…` in flight, `⇣` streaming, `✗` failed,
/// `◇` answered by a mock expectation; a gRPC call that failed (HTTP `200`
/// all the same) shows its gRPC code after `g`.
fn status(ex: &Exchange) -> (String, Style) {
    let code = ex.response.as_ref().map(|r| r.status);
    let code_text = code.map_or("—".to_string(), |c| c.to_string());
    let grpc_failed = || {
        let status = ex.grpc_status()?;
        (!status.is_ok()).then_some(status.code)
    };
    match (&ex.state, code) {
        (State::InFlight, _) => ("…".into(), theme::LIVE),
        (State::Streaming, _) => (format!("⇣{code_text}"), theme::LIVE),
        (State::Failed(_), _) => (format!("✗{code_text}"), theme::ERROR),
        (State::Complete, Some(_)) if let Some(g) = grpc_failed() => {
            (format!(" g{g}"), theme::ERROR)
        }
        (State::Complete, Some(c)) if mocked(ex) => (format!("◇{c}"), theme::MOCK),
        (State::Complete, Some(c)) => (format!(" {c}"), theme::status(c)),
        (State::Complete, None) => (" —".into(), theme::DIM),
    }
}

fn cost(info: &RowInfo) -> (String, Style) {
    match (info.cost, info.kind) {
        (Some(c), _) => (strings::cost(c), Style::new()),
        (None, Kind::Llm) => ("?".into(), theme::DIM),
        (None, _) => (String::new(), Style::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(width: usize) -> Vec<Col> {
        columns(width, false).into_iter().map(|(c, _)| c).collect()
    }

    #[test]
    fn narrow_lists_drop_columns_in_order() {
        assert_eq!(names(160).len(), 12);
        assert!(!names(88).contains(&Col::Kind));
        assert!(!names(88).contains(&Col::Time));
        assert!(names(88).contains(&Col::Dur));
        assert!(!names(80).contains(&Col::Dur));
        assert!(names(80).contains(&Col::Model));
        assert_eq!(names(30), vec![Col::Mark, Col::Id, Col::Url, Col::Status]);
        let total: usize = columns(80, false).iter().map(|(_, w)| w + 1).sum();
        assert_eq!(total, 80);
        let with_app: Vec<Col> = columns(160, true).into_iter().map(|(c, _)| c).collect();
        assert!(with_app.contains(&Col::App));
        assert!(
            !columns(100, true).iter().any(|(c, _)| *c == Col::App),
            "dropped first"
        );
    }
}
