//! The Conversation tab (filled from the LLM analysis).

use ratatui::text::Line;

use crate::exchange::Exchange;
use crate::tui::doc::{Doc, DocBuilder};
use crate::tui::{strings, theme};

pub fn build(_ex: &Exchange, _thinking: bool, width: u16) -> Doc {
    let mut out = DocBuilder::new(width);
    out.line(Line::styled(strings::NOT_ANALYSED, theme::DIM));
    out.finish()
}

pub fn build_scripted(_ex: &Exchange, width: u16) -> Doc {
    let mut out = DocBuilder::new(width);
    out.line(Line::styled(strings::NOT_ANALYSED, theme::DIM));
    out.finish()
}
