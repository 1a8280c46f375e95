//! Views: functions of the prepared state that draw. They never change the
//! model, and they touch only what is visible (a window of rows, a slice of a
//! cached document).

pub mod conversation;
pub mod detail;
pub mod help;
pub mod library;
pub mod mcp;
pub mod messages;
pub mod popup;
pub mod raw;
pub mod sessions;
pub mod status_bar;
pub mod text;
pub mod timeline;
pub mod title;
pub mod traffic;
pub mod usage_strip;

use ratatui::Frame;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::capture::Store;
use crate::exchange::Exchange;

use super::app::{App, Overlay};
use super::detail::Tab;
use super::doc::Doc;
use super::layout::Screen;
use super::rows::RowInfo;
use super::theme;

/// Draw the whole screen from prepared state.
pub fn draw(frame: &mut Frame<'_>, app: &App, store: &Store) {
    let areas = app.areas;
    title::render(frame, areas.title, app);
    if let Some(list) = areas.list {
        traffic::render(frame, list, app, store);
    }
    if let Some(div) = areas.divider {
        let bar: Vec<Line<'_>> = (0..div.height)
            .map(|_| Line::styled("│", theme::DIM))
            .collect();
        frame.render_widget(Paragraph::new(bar), div);
    }
    if let Some(d) = areas.detail {
        detail::render(frame, d, app, store);
    } else {
        match app.screen {
            Screen::Sessions => sessions::render(frame, areas.body, app, store),
            Screen::Library => library::render(frame, areas.body, app),
            Screen::Traffic => {}
        }
    }
    status_bar::render(frame, &areas, app);
    match app.overlay {
        Some(Overlay::Help { scroll }) => help::render(frame, frame.area(), scroll),
        Some(Overlay::CopyMenu) => popup::copy_menu(frame, frame.area(), app),
        None => {}
    }
}

/// Build the document of one detail tab (cached by the caller).
pub fn build_tab(
    tab: Tab,
    ex: &Exchange,
    info: &RowInfo,
    reveal: bool,
    thinking: bool,
    width: u16,
) -> Doc {
    match tab {
        Tab::Raw => raw::build(ex, reveal, width),
        Tab::Messages => messages::build(ex, width),
        Tab::Conversation => conversation::build(ex, thinking, width),
        Tab::Scripted => conversation::build_scripted(ex, width),
        Tab::Timeline => timeline::build(ex, width),
        Tab::Mcp => mcp::build(ex, info, width),
    }
}
