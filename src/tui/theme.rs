//! Colours and styles, in one place so views agree and a theme change is one
//! edit. Only the 16 ANSI colours are used, so light and dark terminals and
//! tmux all render them with the user's own palette.

use ratatui::style::{Color, Modifier, Style};

pub const TITLE: Style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
pub const HEADER: Style = Style::new().add_modifier(Modifier::BOLD);
pub const DIM: Style = Style::new().fg(Color::DarkGray);
pub const SELECTED: Style = Style::new().add_modifier(Modifier::REVERSED);
/// The selection when its pane does not have the keyboard.
pub const SELECTED_UNFOCUSED: Style = Style::new().add_modifier(Modifier::UNDERLINED);
pub const MARKED: Style = Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD);
pub const ERROR: Style = Style::new().fg(Color::Red);
pub const WARN: Style = Style::new().fg(Color::Yellow);
pub const OK: Style = Style::new().fg(Color::Green);
pub const REDIRECT: Style = Style::new().fg(Color::Cyan);
/// Answered by a mock expectation rather than the upstream.
pub const MOCK: Style = Style::new().fg(Color::LightBlue);
pub const LIVE: Style = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);
pub const KEY: Style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
pub const TAB_ACTIVE: Style = Style::new()
    .fg(Color::Black)
    .bg(Color::Cyan)
    .add_modifier(Modifier::BOLD);
pub const TAB: Style = Style::new();
pub const STATUS: Style = Style::new().bg(Color::DarkGray).fg(Color::White);
pub const FLASH: Style = Style::new().bg(Color::Blue).fg(Color::White);
pub const SEARCH_HIT: Style = Style::new().bg(Color::Yellow).fg(Color::Black);
pub const HEADER_NAME: Style = Style::new().fg(Color::Blue).add_modifier(Modifier::BOLD);
pub const SECRET: Style = Style::new().fg(Color::Magenta);
pub const JSON_KEY: Style = Style::new().fg(Color::Blue);
pub const JSON_STRING: Style = Style::new().fg(Color::Green);
pub const JSON_NUMBER: Style = Style::new().fg(Color::Magenta);
pub const JSON_LITERAL: Style = Style::new().fg(Color::Yellow);
pub const USER: Style = Style::new().fg(Color::Green);
pub const ASSISTANT: Style = Style::new().fg(Color::Cyan);
pub const SYSTEM: Style = Style::new().fg(Color::Yellow);
pub const TOOL: Style = Style::new().fg(Color::Magenta);
pub const THINKING: Style = Style::new()
    .fg(Color::DarkGray)
    .add_modifier(Modifier::ITALIC);
pub const ADDED: Style = Style::new().fg(Color::Green);
pub const REMOVED: Style = Style::new().fg(Color::Red);

/// Colour of an HTTP status code.
pub fn status(code: u16) -> Style {
    match code {
        200..=299 => OK,
        300..=399 => REDIRECT,
        400..=499 => WARN,
        _ => ERROR,
    }
}
