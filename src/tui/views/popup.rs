//! Small pop-ups: the `y` copy menu.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::tui::app::App;
use crate::tui::keymap::{BINDINGS, Scope};
use crate::tui::{strings, theme};

pub fn copy_menu(frame: &mut Frame<'_>, size: Rect, _app: &App) {
    let items: Vec<Line<'static>> = BINDINGS
        .iter()
        .filter(|b| b.scope == Scope::CopyMenu)
        .map(|b| {
            let keys: Vec<String> = b.keys.iter().map(|k| k.label()).collect();
            Line::from(vec![
                Span::styled(format!(" {:<6}", keys.join("/")), theme::KEY),
                Span::raw(b.help),
            ])
        })
        .collect();
    let width = items.iter().map(Line::width).max().unwrap_or(20) as u16 + 3;
    let height = items.len() as u16 + 2;
    let area = Rect::new(
        size.x + size.width.saturating_sub(width) / 2,
        size.y + size.height.saturating_sub(height) / 2,
        width.min(size.width),
        height.min(size.height),
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .title(strings::COPY_TITLE)
        .title_style(theme::TITLE);
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(items).block(block), area);
}
