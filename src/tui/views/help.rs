//! The `?` screen: every key from the key table, grouped by where it works,
//! and the filter language.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::tui::keymap::{BINDINGS, Scope};
use crate::tui::{strings, theme};

use super::text::fit;

/// Scopes in the order the help lists them.
const ORDER: [Scope; 9] = [
    Scope::Global,
    Scope::List,
    Scope::Detail,
    Scope::Conversation,
    Scope::Sessions,
    Scope::Library,
    Scope::CopyMenu,
    Scope::Input,
    Scope::Help,
];

const KEY_COLUMN: usize = 25;

/// The help text, one entry per line.
pub fn lines() -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for scope in ORDER {
        out.push(Line::styled(scope.title(), theme::TITLE));
        for b in BINDINGS.iter().filter(|b| b.scope == scope) {
            let keys: Vec<String> = b.keys.iter().map(|k| k.label()).collect();
            out.push(Line::from(vec![
                Span::styled(
                    fit(&format!("  {}", keys.join(" ")), KEY_COLUMN),
                    theme::KEY,
                ),
                Span::raw(b.help),
            ]));
        }
        out.push(Line::default());
    }
    out.push(Line::styled(strings::FILTER_HELP_TITLE, theme::TITLE));
    for (syntax, meaning) in strings::FILTER_SYNTAX {
        out.push(Line::from(vec![
            Span::styled(fit(&format!("  {syntax}"), KEY_COLUMN), theme::KEY),
            Span::raw(*meaning),
        ]));
    }
    out
}

/// The box the help is drawn in, for a terminal of `size`.
fn frame_rect(size: Rect) -> Rect {
    let margin_x = if size.width > 100 { size.width / 8 } else { 0 };
    Rect::new(
        size.x + margin_x,
        size.y + 1,
        size.width - 2 * margin_x,
        size.height.saturating_sub(2),
    )
}

/// The largest useful scroll offset.
pub fn max_scroll(size: Rect) -> usize {
    let inner = usize::from(frame_rect(size).height.saturating_sub(2));
    lines().len().saturating_sub(inner)
}

pub fn render(frame: &mut Frame<'_>, size: Rect, scroll: usize) {
    let area = frame_rect(size);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(strings::HELP_TITLE)
        .title_style(theme::TITLE);
    let lines = lines();
    let start = scroll.min(lines.len());
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(lines[start..].to_vec()).block(block), area);
}
