//! The detail pane: a one-line summary of the exchange, the usage strip for
//! LLM traffic, the tab bar, and the visible slice of the tab's document with
//! search matches highlighted.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::capture::Records;
use crate::exchange::Exchange;
use crate::tui::app::{App, Focus};
use crate::tui::detail::Tab;
use crate::tui::doc::text_width;
use crate::tui::layout::DetailAreas;
use crate::tui::{strings, theme};

use super::text::cut;
use super::usage_strip;

pub fn render(frame: &mut Frame<'_>, areas: DetailAreas, app: &App, store: &dyn Records) {
    let record = app.detail.id.and_then(|id| store.get(id));
    let Some(ex) = record.map(|r| &r.exchange) else {
        let msg = Line::styled(strings::NO_SELECTION, theme::DIM);
        frame.render_widget(Paragraph::new(msg), areas.head);
        return;
    };
    let head = head(ex, app.detail.reveal, areas.head.width);
    frame.render_widget(Paragraph::new(head), areas.head);
    let info = record.and_then(|r| app.rows.get(r));
    if let (Some(area), Some(info)) = (areas.usage, info) {
        usage_strip::render(frame, area, ex, info, app.detail.analysis());
    }
    frame.render_widget(Paragraph::new(tab_bar(app, areas.tabs.width)), areas.tabs);
    document(frame, areas.doc, app);
}

/// `#12 POST api.anthropic.com/v1/messages → 200 · 1.2s`
fn head(ex: &Exchange, reveal: bool, width: u16) -> Line<'static> {
    let outcome = match (&ex.response, ex.state.failure()) {
        (_, Some(f)) => format!("✗ {}", f.kind.label()),
        (Some(r), None) => match r.grpc_status() {
            Some(g) if !g.is_ok() => format!("{} gRPC {}", r.status, g.name()),
            _ => r.status.to_string(),
        },
        (None, None) => "…".into(),
    };
    let took = ex
        .duration_us()
        .map(strings::duration_us)
        .unwrap_or_default();
    let text = format!(
        "#{} {} {}{} → {outcome} {took}",
        ex.id,
        ex.request.method,
        ex.request.authority(),
        crate::tui::secrets::shown_path(&ex.request.path, reveal)
    );
    Line::styled(cut(&text, usize::from(width)), theme::HEADER)
}

/// The text of a tab's label in the bar.
fn tab_label(i: usize, tab: Tab) -> String {
    format!(" {} {} ", i + 1, tab.label())
}

/// Which tab is at column `x` (relative to the bar's start).
pub fn tab_at(tabs: &[Tab], x: u16) -> Option<Tab> {
    let mut start = 0;
    for (i, tab) in tabs.iter().enumerate() {
        let end = start + text_width(&tab_label(i, *tab));
        if (start..end).contains(&usize::from(x)) {
            return Some(*tab);
        }
        start = end;
    }
    None
}

fn tab_bar(app: &App, width: u16) -> Line<'static> {
    let focused = app.focus == Focus::Detail;
    let mut spans: Vec<Span<'static>> = app
        .detail
        .tabs
        .iter()
        .enumerate()
        .map(|(i, tab)| {
            let style = match (app.detail.tab == Some(*tab), focused) {
                (true, true) => theme::TAB_ACTIVE,
                (true, false) => theme::SELECTED_UNFOCUSED.patch(theme::HEADER),
                (false, _) => theme::TAB,
            };
            Span::styled(tab_label(i, *tab), style)
        })
        .collect();
    let search = &app.detail.search;
    if !search.query.is_empty() {
        let used: usize = spans.iter().map(|s| s.width()).sum();
        let info = if search.hits.is_empty() {
            format!("/{} {}", search.query, strings::NO_MATCHES)
        } else {
            format!(
                "/{} {}",
                search.query,
                strings::matches(search.current + 1, search.hits.len())
            )
        };
        let room = usize::from(width).saturating_sub(used + 1);
        let info = cut(&info, room);
        let gap = room.saturating_sub(text_width(&info));
        spans.push(Span::raw(" ".repeat(gap + 1)));
        spans.push(Span::styled(info, theme::DIM));
    }
    Line::from(spans)
}

fn document(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let Some(doc) = app.detail.doc() else { return };
    let start = app.detail.scroll.min(doc.len());
    let end = (start + usize::from(area.height)).min(doc.len());
    let query = app.detail.search.query.to_ascii_lowercase();
    let mut lines = doc.rows(start..end);
    if !query.is_empty() {
        for l in &mut lines {
            *l = highlight(l, &query);
        }
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// `line` with every (ASCII case-insensitive) occurrence of `query` marked.
fn highlight(line: &Line<'static>, query: &str) -> Line<'static> {
    let mut out = Vec::new();
    for span in &line.spans {
        let text = span.content.as_ref();
        let lower = text.to_ascii_lowercase();
        let mut at = 0;
        while let Some(found) = lower[at..].find(query) {
            let (s, e) = (at + found, at + found + query.len());
            if s > at {
                out.push(Span::styled(text[at..s].to_string(), span.style));
            }
            out.push(Span::styled(
                text[s..e].to_string(),
                span.style.patch(theme::SEARCH_HIT),
            ));
            at = e;
        }
        if at < text.len() {
            out.push(Span::styled(text[at..].to_string(), span.style));
        }
    }
    Line::from(out).style(line.style.patch(Style::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::doc::line_text;

    #[test]
    fn highlight_splits_spans_at_matches() {
        let line = Line::from(vec![Span::raw("Hello "), Span::raw("hello world")]);
        let out = highlight(&line, "hello");
        assert_eq!(line_text(&out), "Hello hello world");
        let hits = out
            .spans
            .iter()
            .filter(|s| s.style == theme::SEARCH_HIT)
            .count();
        assert_eq!(hits, 2);
    }

    #[test]
    fn tab_hit_testing_matches_the_bar() {
        let tabs = [Tab::Messages, Tab::Raw];
        assert_eq!(tab_at(&tabs, 0), Some(Tab::Messages));
        assert_eq!(tab_at(&tabs, 11), Some(Tab::Messages));
        assert_eq!(tab_at(&tabs, 12), Some(Tab::Raw));
        assert_eq!(tab_at(&tabs, 40), None);
    }
}
