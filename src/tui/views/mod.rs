//! Views: functions of the prepared state that draw. They never change the
//! model, and they touch only what is visible (a window of rows, a slice of a
//! cached document).

pub mod conversation;
pub mod detail;
pub mod help;
pub mod library;
pub mod mcp;
pub mod messages;
pub mod parts;
pub mod popup;
pub mod raw;
pub mod sessions;
pub mod status_bar;
pub mod text;
pub mod timeline;
pub mod title;
pub mod traffic;
pub mod usage_strip;
pub mod ws_messages;

use ratatui::Frame;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::capture::Records;
use crate::exchange::Exchange;
use crate::llm::Analysis;

use super::app::{App, Overlay};
use super::detail::Tab;
use super::doc::{Doc, DocBuilder};
use super::layout::Screen;
use super::rows::RowInfo;
use super::theme;

/// Draw the whole screen from prepared state.
pub fn draw(frame: &mut Frame<'_>, app: &App, store: &dyn Records) {
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

/// How a tab's document is built.
#[derive(Debug, Clone, Copy)]
pub struct TabOptions<'a> {
    /// The scripted conversation expectation that answered, if any.
    pub script: Option<&'a serde_json::Value>,
    /// Show secret header values.
    pub reveal: bool,
    /// Expand thinking blocks.
    pub thinking: bool,
    pub width: u16,
}

/// Build the document of one detail tab (cached by the caller).
pub fn build_tab(
    tab: Tab,
    ex: &Exchange,
    info: &RowInfo,
    analysis: Option<&Analysis>,
    opts: TabOptions<'_>,
) -> Doc {
    let width = opts.width;
    match (tab, analysis) {
        (Tab::Raw, _) => raw::build(ex, opts.reveal, width),
        (Tab::WebSocket, _) => ws_messages::build(ex, width),
        (Tab::Messages, Some(a)) => messages::build(a, width),
        (Tab::Conversation, Some(a)) => conversation::build(ex, a, opts.thinking, width),
        (Tab::Scripted, _) => conversation::build_scripted(ex, opts.script, width),
        (Tab::Timeline, Some(a)) => timeline::build(a, width),
        (Tab::Mcp, Some(a)) => mcp::build(a, info, width),
        (_, None) => not_analysed(width),
    }
}

fn not_analysed(width: u16) -> Doc {
    let mut out = DocBuilder::new(width);
    out.line(Line::styled(super::strings::NOT_ANALYSED, theme::DIM));
    out.finish()
}
