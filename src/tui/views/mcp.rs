//! The MCP tab (filled from the MCP analysis).

use ratatui::text::Line;

use crate::exchange::Exchange;
use crate::tui::doc::{Doc, DocBuilder};
use crate::tui::rows::RowInfo;
use crate::tui::{strings, theme};

pub fn build(_ex: &Exchange, _info: &RowInfo, width: u16) -> Doc {
    let mut out = DocBuilder::new(width);
    out.line(Line::styled(strings::NOT_ANALYSED, theme::DIM));
    out.finish()
}
