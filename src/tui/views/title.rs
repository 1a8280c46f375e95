//! The title bar: the screens (clickable), the active filter and mode badges.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::App;
use crate::tui::doc::text_width;
use crate::tui::layout::Screen;
use crate::tui::{strings, theme};

use super::text::cut;

const PREFIX: &str = " llmspy ";
const SCREENS: [(Screen, &str); 3] = [
    (Screen::Traffic, "Traffic"),
    (Screen::Sessions, "Sessions"),
    (Screen::Library, "Library"),
];

/// Which screen label is at column `x` of the title bar.
pub fn screen_at(x: u16) -> Option<Screen> {
    let mut start = text_width(PREFIX);
    for (screen, label) in SCREENS {
        let end = start + label.len() + 2;
        if (start..end).contains(&usize::from(x)) {
            return Some(screen);
        }
        start = end;
    }
    None
}

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let mut spans = vec![Span::styled(PREFIX, theme::TITLE)];
    for (screen, label) in SCREENS {
        let style = if app.screen == screen {
            theme::TAB_ACTIVE
        } else {
            theme::TAB
        };
        spans.push(Span::styled(format!(" {label} "), style));
    }
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let badges = badges(app);
    let room = usize::from(area.width).saturating_sub(used + 1);
    let badge_text = cut(&badges, room);
    let gap = room.saturating_sub(text_width(&badge_text));
    spans.push(Span::raw(" ".repeat(gap + 1)));
    spans.push(Span::styled(badge_text, theme::DIM));
    frame.render_widget(Paragraph::new(Line::from(spans)).style(Style::new()), area);
}

fn badges(app: &App) -> String {
    let mut parts = Vec::new();
    if !app.filter.is_all() {
        parts.push(format!(
            "{}{}",
            strings::FILTER_PROMPT,
            app.filter.source().trim()
        ));
    }
    let marked = app.list.scope.marked.len();
    if marked > 0 {
        parts.push(strings::marked(marked));
    }
    if app.list.scope.marked_only {
        parts.push(strings::MARKED_ONLY.to_string());
    }
    if app.list.follow {
        parts.push(strings::FOLLOW_BADGE.to_string());
    }
    parts.push(match (&app.info.source, app.viewing_run()) {
        (_, Some(run)) => strings::run_badge(run),
        (Some(path), None) => format!("{} {}", strings::OPENED_BADGE, path.display()),
        (None, None) => strings::LIVE_BADGE.to_string(),
    });
    format!("{} ", parts.join(" │ "))
}
