//! A long text in a document, laid out on demand: building it indexes
//! where its lines start and how many rows each wraps to (one pass, no
//! styled text), and only the rows on screen are coloured and cut. A 1 MB
//! body costs an index, not a million styled spans.
//!
//! Every row is what [`DocBuilder::line`](super::doc::DocBuilder::line)
//! makes of the same line: a line that fits is shown whole, one that does
//! not breaks where [`wrap`](super::doc::wrap) breaks it.

use std::borrow::Cow;
use std::ops::Range;

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::doc::char_width;
use super::pretty;

/// How a block's lines are coloured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Colour {
    /// One style; tabs shown as four spaces.
    Plain(Style),
    /// Pretty-printed JSON, one token per span.
    Json,
    /// SSE or NDJSON, with field names picked out.
    Events,
}

impl Colour {
    /// The line as shown when it fits on one row.
    fn line(self, shown: &str) -> Line<'static> {
        match self {
            Colour::Plain(style) => Line::from(Span::styled(shown.to_string(), style)),
            Colour::Json => pretty::json_line(shown),
            Colour::Events => pretty::event_line(shown),
        }
    }

    /// Byte ranges of `shown` and their styles, in order.
    fn runs(self, shown: &str) -> Vec<(Range<usize>, Style)> {
        match self {
            Colour::Plain(style) => vec![(0..shown.len(), style)],
            Colour::Json => pretty::json_runs(shown).collect(),
            Colour::Events => pretty::event_runs(shown),
        }
    }
}

/// Text laid out lazily at a fixed width.
#[derive(Debug, Clone)]
pub struct Block {
    text: String,
    colour: Colour,
    /// Byte offset where each line starts, then `text.len() + 1`.
    starts: Vec<usize>,
    /// First row of each line, then the row count.
    rows: Vec<usize>,
    /// Lines wider than the block, by index (ascending).
    wrapped: Vec<Wrapped>,
}

/// A line wider than its block: where it breaks, and its styles found
/// once (a long line is one long token or few, and finding them again
/// each frame would read the whole line).
#[derive(Debug, Clone)]
struct Wrapped {
    line: usize,
    /// Byte offsets in the shown line where the second and later rows start.
    cuts: Vec<usize>,
    runs: Vec<(Range<usize>, Style)>,
}

impl Block {
    /// Index `text` for `width` columns. JSON ends at its last line; other
    /// text has a line after a final newline, as `split('\n')` gives.
    pub fn new(text: String, colour: Colour, width: usize) -> Block {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        // `starts` holds where each line starts; the end is marked as if
        // one more line started after the text, except where JSON's last
        // line already ended (`lines()` has no empty line after it).
        let json_ended = colour == Colour::Json && starts.last() == Some(&text.len());
        if !json_ended {
            starts.push(text.len() + 1);
        }
        let mut block = Block {
            starts,
            text,
            colour,
            rows: Vec::new(),
            wrapped: Vec::new(),
        };
        block.lay_out(width);
        block
    }

    fn lay_out(&mut self, width: usize) {
        let lines = self.starts.len() - 1;
        let mut rows = Vec::with_capacity(lines + 1);
        let mut total = 0;
        for i in 0..lines {
            rows.push(total);
            let shown = self.shown(i);
            total += 1;
            if !self.fits(&shown, width) {
                let cuts = breaks(&shown, width);
                total += cuts.len();
                let runs = self.colour.runs(&shown);
                self.wrapped.push(Wrapped {
                    line: i,
                    cuts,
                    runs,
                });
            }
        }
        rows.push(total);
        self.rows = rows;
    }

    /// True when the line is shown whole, as `DocBuilder::line` decides.
    fn fits(&self, shown: &str, width: usize) -> bool {
        // No character is wider in columns than in UTF-8 bytes.
        if shown.len() <= width {
            return true;
        }
        let printable = shown.bytes().all(|b| (b' '..=b'~').contains(&b));
        !printable && self.colour.line(shown).width() <= width
    }

    /// Line `i` as shown: without its line ending, tabs expanded in plain
    /// text.
    fn shown(&self, i: usize) -> Cow<'_, str> {
        let line = &self.text[self.starts[i]..self.starts[i + 1] - 1];
        let line = line.strip_suffix('\r').unwrap_or(line);
        match self.colour {
            Colour::Plain(_) if line.contains('\t') => Cow::Owned(line.replace('\t', "    ")),
            _ => Cow::Borrowed(line),
        }
    }

    pub fn len(&self) -> usize {
        self.rows.last().copied().unwrap_or(0)
    }

    /// The line holding `row`.
    fn line_of(&self, row: usize) -> usize {
        self.rows.partition_point(|&first| first <= row) - 1
    }

    fn wrapped(&self, i: usize) -> Option<&Wrapped> {
        let at = self.wrapped.binary_search_by_key(&i, |w| w.line).ok()?;
        Some(&self.wrapped[at])
    }

    /// Byte range in the shown line of each of its rows in `range`.
    fn spans_of(&self, i: usize, range: Range<usize>, len: usize) -> Vec<Range<usize>> {
        let cuts = self.wrapped(i).map_or(&[][..], |w| &w.cuts);
        range
            .map(|k| {
                let start = if k == 0 { 0 } else { cuts[k - 1] };
                start..cuts.get(k).copied().unwrap_or(len)
            })
            .collect()
    }

    /// Rows `range` (clamped), appended to `out`.
    pub fn rows(&self, range: Range<usize>, out: &mut Vec<Line<'static>>) {
        let end = range.end.min(self.len());
        let mut row = range.start;
        while row < end {
            let i = self.line_of(row);
            let first = self.rows[i];
            let last = self.rows[i + 1].min(end);
            let shown = self.shown(i);
            match self.wrapped(i) {
                None => out.push(self.colour.line(&shown)),
                Some(w) => {
                    for cut in self.spans_of(i, row - first..last - first, shown.len()) {
                        out.push(styled_row(&shown, &w.runs, cut));
                    }
                }
            }
            row = last;
        }
    }

    /// Rows whose text contains `needle` (already lower-case), ignoring
    /// case, offset by `base`.
    pub fn find(&self, needle: &str, base: usize, hits: &mut Vec<usize>) {
        let mut lower = String::new();
        for i in 0..self.starts.len() - 1 {
            let shown = self.shown(i);
            // An ASCII line matches only if a row of it does.
            if shown.is_ascii() && !contains_folded(&shown, needle, &mut lower) {
                continue;
            }
            let rows = self.rows[i + 1] - self.rows[i];
            for (k, cut) in self
                .spans_of(i, 0..rows, shown.len())
                .into_iter()
                .enumerate()
            {
                let text = &shown[cut];
                let found = if text.is_ascii() {
                    contains_folded(text, needle, &mut lower)
                } else {
                    text.to_lowercase().contains(needle)
                };
                if found {
                    hits.push(base + self.rows[i] + k);
                }
            }
        }
    }
}

/// `text` lower-cased (ASCII) contains `needle`, using `buf` for the copy.
fn contains_folded(text: &str, needle: &str, buf: &mut String) -> bool {
    buf.clear();
    buf.push_str(text);
    buf.make_ascii_lowercase();
    buf.contains(needle)
}

/// One row: the part `cut` of a line, its runs' styles kept and neighbours
/// of one style joined, as [`wrap`](super::doc::wrap) rebuilds a row.
fn styled_row(shown: &str, runs: &[(Range<usize>, Style)], cut: Range<usize>) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    for (range, style) in runs {
        let (start, end) = (range.start.max(cut.start), range.end.min(cut.end));
        if start >= end {
            continue;
        }
        match spans.last_mut() {
            Some(last) if last.style == *style => {
                last.content.to_mut().push_str(&shown[start..end])
            }
            _ => spans.push(Span::styled(shown[start..end].to_string(), *style)),
        }
    }
    Line::from(spans)
}

/// Where the second and later rows of `shown` start, at `width` columns:
/// after a space in the second half of a row when there is one, otherwise
/// mid-word (the rule of [`wrap`](super::doc::wrap)).
fn breaks(shown: &str, width: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        let end = start + row_len(&shown[start..], width);
        if end >= shown.len() {
            return out;
        }
        out.push(end);
        start = end;
    }
}

/// Bytes of `s` that fit on one row of `width` columns.
fn row_len(s: &str, width: usize) -> usize {
    let mut used = 0;
    let mut last_space = None;
    for (i, (at, c)) in s.char_indices().enumerate() {
        let w = char_width(c);
        if used + w > width {
            return match last_space {
                Some((n, space)) if n > width / 2 => space + 1,
                _ if i == 0 => c.len_utf8(),
                _ => at,
            };
        }
        used += w;
        if c == ' ' {
            last_space = Some((i, at));
        }
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::doc::{DocBuilder, line_text};

    /// The rows an eager builder makes of the same text.
    fn eager(text: &str, colour: Colour, width: u16) -> Vec<Line<'static>> {
        let mut b = DocBuilder::new(width);
        let lines: Vec<&str> = match colour {
            Colour::Json => text.lines().collect(),
            _ => text.split('\n').collect(),
        };
        for l in lines {
            let l = l.strip_suffix('\r').unwrap_or(l);
            let l = match colour {
                Colour::Plain(_) => l.replace('\t', "    "),
                _ => l.to_string(),
            };
            b.line(colour.line(&l));
        }
        b.finish().into_lines()
    }

    fn lazy(text: &str, colour: Colour, width: u16) -> Vec<Line<'static>> {
        let block = Block::new(text.to_string(), colour, usize::from(width.max(8)));
        let mut out = Vec::new();
        block.rows(0..block.len(), &mut out);
        assert_eq!(out.len(), block.len());
        out
    }

    #[test]
    fn rows_are_what_the_eager_builder_makes() {
        let json = "{\n  \"name\": \"a long value with some spaces in it, wrapping\",\n  \
                    \"n\": -1.5e3,\n  \"日本\": \"日本語テキスト日本語テキスト\",\n  \"ok\": true\n}";
        let plain =
            "tab\there and a line that is long enough to wrap twice over\r\n\n日本語テキスト\n";
        let events = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{}}\n\n";
        for width in [8, 12, 17, 40, 200] {
            for (text, colour) in [
                (json, Colour::Json),
                (
                    plain,
                    Colour::Plain(Style::new().fg(ratatui::style::Color::Red)),
                ),
                (events, Colour::Events),
                ("", Colour::Plain(Style::new())),
            ] {
                assert_eq!(
                    lazy(text, colour, width),
                    eager(text, colour, width),
                    "{width} {text}"
                );
            }
        }
    }

    #[test]
    fn a_window_of_rows_starts_mid_line() {
        let text = "0123456789 ".repeat(30);
        let block = Block::new(text.clone(), Colour::Plain(Style::new()), 20);
        let all = eager(&text, Colour::Plain(Style::new()), 20);
        let mut out = Vec::new();
        block.rows(3..6, &mut out);
        assert_eq!(out, all[3..6]);
    }

    #[test]
    fn find_matches_rows_ignoring_case() {
        let block = Block::new(
            "Alpha\nbeta gamma ALPHA\nÉté alpha".into(),
            Colour::Json,
            12,
        );
        let mut hits = Vec::new();
        block.find("alpha", 10, &mut hits);
        let rows = lazy("Alpha\nbeta gamma ALPHA\nÉté alpha", Colour::Json, 12);
        let want: Vec<usize> = (0..rows.len())
            .filter(|&r| line_text(&rows[r]).to_lowercase().contains("alpha"))
            .map(|r| r + 10)
            .collect();
        assert_eq!(hits, want);
        assert_eq!(hits.len(), 3);
    }
}
