//! A detail tab's content, built once per (exchange revision, tab, width) and
//! cached. Short parts are wrapped to the pane's width up front; long texts
//! (bodies, message texts) are [`Block`]s laid out on demand, so building a
//! tab costs an index of a large body and drawing a frame styles only the
//! visible rows.

use std::ops::Range;

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::block::Block;
pub use super::block::Colour;

/// Pre-wrapped lines, or a text laid out when its rows are asked for.
#[derive(Debug, Clone)]
enum Part {
    Lines(Vec<Line<'static>>),
    Block(Block),
}

impl Part {
    fn len(&self) -> usize {
        match self {
            Part::Lines(lines) => lines.len(),
            Part::Block(block) => block.len(),
        }
    }
}

/// Rows of styled text at a fixed width.
#[derive(Debug, Clone, Default)]
pub struct Doc {
    parts: Vec<Part>,
    /// The first row of each part, then the row count.
    starts: Vec<usize>,
}

impl Doc {
    pub fn len(&self) -> usize {
        self.starts.last().copied().unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rows `range` (clamped to the document), ready to draw.
    pub fn rows(&self, range: Range<usize>) -> Vec<Line<'static>> {
        let end = range.end.min(self.len());
        let mut out = Vec::with_capacity(end.saturating_sub(range.start));
        let first = self.starts.partition_point(|&s| s <= range.start);
        for (i, part) in self.parts.iter().enumerate().skip(first.saturating_sub(1)) {
            let base = self.starts[i];
            if base >= end {
                break;
            }
            let local = range.start.saturating_sub(base)..end - base;
            match part {
                Part::Lines(lines) => {
                    out.extend_from_slice(&lines[local.start..local.end.min(lines.len())])
                }
                Part::Block(block) => block.rows(local, &mut out),
            }
        }
        out
    }

    /// Every row, for a document shown inside another (a bubble).
    pub fn into_lines(self) -> Vec<Line<'static>> {
        self.rows(0..self.len())
    }

    /// Rows whose text contains `needle`, ignoring case.
    pub fn find(&self, needle: &str) -> Vec<usize> {
        let needle = needle.to_lowercase();
        if needle.is_empty() {
            return Vec::new();
        }
        let mut hits = Vec::new();
        for (part, &base) in self.parts.iter().zip(&self.starts) {
            match part {
                Part::Lines(lines) => hits.extend(
                    lines
                        .iter()
                        .enumerate()
                        .filter(|(_, line)| line_text(line).to_lowercase().contains(&needle))
                        .map(|(i, _)| base + i),
                ),
                Part::Block(block) => block.find(&needle, base, &mut hits),
            }
        }
        hits
    }
}

/// The plain text of a line.
pub fn line_text(line: &Line<'_>) -> String {
    line.spans.iter().map(|s| s.content.as_ref()).collect()
}

/// Display width of a string in terminal columns.
pub fn text_width(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        Span::raw(s).width()
    }
}

pub(super) fn char_width(c: char) -> usize {
    if c.is_ascii() {
        usize::from(!c.is_ascii_control())
    } else {
        let mut buf = [0u8; 4];
        Span::raw(&*c.encode_utf8(&mut buf)).width()
    }
}

/// Builds a [`Doc`], wrapping every line it is given to `width` columns.
#[derive(Debug)]
pub struct DocBuilder {
    width: usize,
    lines: Vec<Line<'static>>,
    parts: Vec<Part>,
}

impl DocBuilder {
    pub fn new(width: u16) -> Self {
        DocBuilder {
            width: usize::from(width.max(8)),
            lines: Vec::new(),
            parts: Vec::new(),
        }
    }

    pub fn width(&self) -> usize {
        self.width
    }

    /// Add a line, wrapped.
    pub fn line(&mut self, line: Line<'static>) {
        if line.width() <= self.width {
            self.lines.push(line);
        } else {
            let style = line.style;
            for mut row in wrap(line.spans, self.width) {
                row.style = style;
                self.lines.push(row);
            }
        }
    }

    /// Add text that may hold newlines, in one style (tabs as four spaces).
    pub fn text(&mut self, text: &str, style: Style) {
        self.block(text.to_string(), Colour::Plain(style));
    }

    /// Add text whose lines are coloured and wrapped only when shown:
    /// each line as [`DocBuilder::line`] would add it.
    pub fn block(&mut self, text: String, colour: Colour) {
        self.flush();
        self.parts
            .push(Part::Block(Block::new(text, colour, self.width)));
    }

    /// A section rule: `── Title ─────────`.
    pub fn section(&mut self, title: &str) {
        let rule = "─".repeat(self.width.saturating_sub(text_width(title) + 4));
        self.raw(Line::from(vec![
            Span::styled(format!("── {title} "), super::theme::HEADER),
            Span::styled(rule, super::theme::DIM),
        ]));
    }

    pub fn blank(&mut self) {
        self.lines.push(Line::default());
    }

    /// Add an already-wrapped line as is (e.g. a bubble border).
    pub fn raw(&mut self, line: Line<'static>) {
        self.lines.push(line);
    }

    fn flush(&mut self) {
        if !self.lines.is_empty() {
            self.parts
                .push(Part::Lines(std::mem::take(&mut self.lines)));
        }
    }

    pub fn finish(mut self) -> Doc {
        self.flush();
        let mut starts = Vec::with_capacity(self.parts.len() + 1);
        let mut total = 0;
        for part in &self.parts {
            starts.push(total);
            total += part.len();
        }
        starts.push(total);
        Doc {
            parts: self.parts,
            starts,
        }
    }
}

/// Wrap styled spans into lines of at most `width` columns, breaking after a
/// space where one is near, otherwise mid-word.
pub fn wrap(spans: Vec<Span<'static>>, width: usize) -> Vec<Line<'static>> {
    let chars: Vec<(char, Style)> = spans
        .iter()
        .flat_map(|s| s.content.chars().map(move |c| (c, s.style)))
        .collect();
    let mut out = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        let end = row_end(&chars[start..], width) + start;
        out.push(rebuild(&chars[start..end]));
        start = end;
    }
    if out.is_empty() {
        out.push(Line::default());
    }
    out
}

/// How many chars of `chars` fit on one row of `width` columns.
fn row_end(chars: &[(char, Style)], width: usize) -> usize {
    let mut used = 0;
    let mut last_space = None;
    for (i, (c, _)) in chars.iter().enumerate() {
        let w = char_width(*c);
        if used + w > width {
            // Prefer a break after a space in the second half of the row.
            return match last_space {
                Some(s) if s > width / 2 => s + 1,
                _ => i.max(1),
            };
        }
        used += w;
        if *c == ' ' {
            last_space = Some(i);
        }
    }
    chars.len()
}

fn rebuild(chars: &[(char, Style)]) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut text = String::new();
    let mut style = chars.first().map(|(_, s)| *s).unwrap_or_default();
    for (c, s) in chars {
        if *s != style {
            spans.push(Span::styled(std::mem::take(&mut text), style));
            style = *s;
        }
        text.push(*c);
    }
    spans.push(Span::styled(text, style));
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Line<'_>]) -> Vec<String> {
        lines.iter().map(line_text).collect()
    }

    #[test]
    fn wraps_at_spaces_and_mid_word() {
        let lines = wrap(vec![Span::raw("hello brave new world")], 12);
        assert_eq!(texts(&lines), ["hello brave ", "new world"]);
        let lines = wrap(vec![Span::raw("abcdefghij")], 4);
        assert_eq!(texts(&lines), ["abcd", "efgh", "ij"]);
    }

    #[test]
    fn keeps_styles_across_breaks() {
        let red = Style::new().fg(ratatui::style::Color::Red);
        let lines = wrap(vec![Span::raw("ab"), Span::styled("cdef", red)], 3);
        assert_eq!(texts(&lines), ["abc", "def"]);
        assert_eq!(lines[0].spans[1].style, red);
        assert_eq!(lines[1].spans[0].style, red);
    }

    #[test]
    fn wide_chars_count_double() {
        let lines = wrap(vec![Span::raw("日本語テキスト")], 6);
        assert_eq!(texts(&lines), ["日本語", "テキス", "ト"]);
    }

    #[test]
    fn rows_and_matches_run_across_parts() {
        let mut b = DocBuilder::new(10);
        b.raw(Line::raw("head"));
        b.text("one two three four\nfive", Style::new());
        b.raw(Line::raw("tail"));
        let doc = b.finish();
        let all = texts(&doc.rows(0..doc.len()));
        assert_eq!(all, ["head", "one two ", "three four", "five", "tail"]);
        assert_eq!(texts(&doc.rows(2..4)), all[2..4]);
        assert_eq!(texts(&doc.rows(4..99)), ["tail"]);
        assert!(doc.rows(9..12).is_empty());
        assert_eq!(doc.find("T"), vec![1, 2, 4]);
    }

    #[test]
    fn find_ignores_case() {
        let mut b = DocBuilder::new(40);
        b.text("Alpha\nbeta\nALPHABET", Style::new());
        assert_eq!(b.finish().find("alpha"), vec![0, 2]);
    }
}
