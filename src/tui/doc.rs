//! A detail tab's content, built once per (exchange revision, tab, width) and
//! cached: lines are wrapped to the pane's width up front, so drawing a frame
//! only slices the visible rows, however large the body.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// Pre-wrapped, styled lines.
#[derive(Debug, Clone, Default)]
pub struct Doc {
    pub lines: Vec<Line<'static>>,
}

impl Doc {
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Rows whose text contains `needle`, ignoring case.
    pub fn find(&self, needle: &str) -> Vec<usize> {
        let needle = needle.to_lowercase();
        if needle.is_empty() {
            return Vec::new();
        }
        self.lines
            .iter()
            .enumerate()
            .filter(|(_, line)| line_text(line).to_lowercase().contains(&needle))
            .map(|(i, _)| i)
            .collect()
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

fn char_width(c: char) -> usize {
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
}

impl DocBuilder {
    pub fn new(width: u16) -> Self {
        DocBuilder {
            width: usize::from(width.max(8)),
            lines: Vec::new(),
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

    /// Add text that may hold newlines, in one style.
    pub fn text(&mut self, text: &str, style: Style) {
        for l in text.split('\n') {
            let l = l.strip_suffix('\r').unwrap_or(l);
            self.line(Line::from(Span::styled(l.replace('\t', "    "), style)));
        }
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

    pub fn finish(self) -> Doc {
        Doc { lines: self.lines }
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
    fn find_ignores_case() {
        let mut b = DocBuilder::new(40);
        b.text("Alpha\nbeta\nALPHABET", Style::new());
        assert_eq!(b.finish().find("alpha"), vec![0, 2]);
    }
}
