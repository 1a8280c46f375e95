//! Bodies for reading: content-decoded, JSON pretty-printed and coloured,
//! gRPC messages read as protobuf, binary summarised. Runs once per selection (the result is cached).

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::content;
use crate::exchange::{Body, Chunk, Headers, header, is_event_stream};

use super::doc::{Colour, DocBuilder};
use super::{json_text, strings, theme};

/// Bytes of a binary body shown as hex.
pub(super) const HEX_PREVIEW: usize = 256;

/// Append a readable form of `body` to `out`.
pub fn body(out: &mut DocBuilder, headers: &Headers, body: &Body) {
    body_arrived(out, headers, body, &[]);
}

/// [`body`], for a body whose frames' arrival `chunks` recorded (a
/// response): gRPC messages then say when each had all arrived.
pub fn body_arrived(out: &mut DocBuilder, headers: &Headers, body: &Body, chunks: &[Chunk]) {
    if body.is_empty() && body.wire_size == 0 {
        out.line(Line::styled(strings::NO_BODY, theme::DIM));
        return;
    }
    let decoded = content::decode(header(headers, "content-encoding"), &body.bytes);
    if let Some(enc) = &decoded.applied {
        out.line(Line::styled(format!("[decoded {enc}]"), theme::DIM));
    }
    if let Some(note) = &decoded.note {
        out.line(Line::styled(note.clone(), theme::WARN));
    }
    if body.truncated {
        out.line(Line::styled(
            strings::truncated(body.bytes.len(), body.wire_size),
            theme::WARN,
        ));
    }
    let ct = header(headers, "content-type");
    if crate::grpc::is_framed(ct) {
        // Arrival stamps count wire bytes: of no use once decoded.
        let chunks = if decoded.applied.is_some() {
            &[]
        } else {
            chunks
        };
        return super::grpc_body::body(out, headers, &decoded.bytes, chunks);
    }
    match std::str::from_utf8(&decoded.bytes) {
        Ok(text) if is_event_stream(ct) => event_stream(out, text),
        Ok(text) => text_or_json(out, text),
        Err(_) => binary(out, &decoded.bytes),
    }
}

/// Pretty JSON (keys in the order sent) when the text is JSON, else the
/// text as is.
pub fn text_or_json(out: &mut DocBuilder, text: &str) {
    let trimmed = text.trim_start();
    let looks_json = trimmed.starts_with('{') || trimmed.starts_with('[');
    match looks_json.then(|| json_text::reindent(text)).flatten() {
        Some(pretty) => out.block(pretty, Colour::Json),
        None => out.text(text, Style::new()),
    }
}

/// A parsed value as coloured, indented JSON (keys sorted).
pub fn json(out: &mut DocBuilder, value: &serde_json::Value) {
    out.block(json_text::pretty_sorted(value), Colour::Json);
}

/// Colour one line of pretty-printed JSON.
pub fn json_line(line: &str) -> Line<'static> {
    let spans: Vec<Span<'static>> = json_runs(line)
        .map(|(range, style)| Span::styled(line[range].to_string(), style))
        .collect();
    Line::from(spans)
}

/// The tokens of a line of pretty-printed JSON: byte ranges and styles.
pub fn json_runs(line: &str) -> impl Iterator<Item = (std::ops::Range<usize>, Style)> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        let rest = &line[at..];
        if rest.is_empty() {
            return None;
        }
        let (len, style) = json_token(rest);
        let len = len.max(1).min(rest.len());
        at += len;
        Some((at - len..at, style))
    })
}

/// Length and style of the token at the start of `s`.
fn json_token(s: &str) -> (usize, Style) {
    let first = s.chars().next().unwrap_or(' ');
    match first {
        '"' => {
            let len = string_len(s);
            let is_key = s[len..].trim_start().starts_with(':');
            let style = if is_key {
                theme::JSON_KEY
            } else {
                theme::JSON_STRING
            };
            (len, style)
        }
        '-' | '0'..='9' => (
            span_while(s, |c| c.is_ascii_alphanumeric() || "+-.".contains(c)),
            theme::JSON_NUMBER,
        ),
        't' | 'f' | 'n' => (
            span_while(s, |c| c.is_ascii_alphabetic()),
            theme::JSON_LITERAL,
        ),
        _ => (
            span_while(s, |c| !matches!(c, '"' | '-' | '0'..='9' | 't' | 'f' | 'n')),
            Style::new(),
        ),
    }
}

/// Byte length of the JSON string at the start of `s`, quotes included.
fn string_len(s: &str) -> usize {
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return i + 1,
            _ => {}
        }
    }
    s.len()
}

fn span_while(s: &str, keep: impl Fn(char) -> bool) -> usize {
    s.char_indices()
        .find(|(_, c)| !keep(*c))
        .map_or(s.len(), |(i, _)| i)
}

/// SSE / NDJSON text with the field names picked out.
fn event_stream(out: &mut DocBuilder, text: &str) {
    out.block(text.to_string(), Colour::Events);
}

/// The length of the `field:` an SSE line starts with, if it names one.
fn event_field(line: &str) -> Option<usize> {
    let (field, _) = line.split_once(':')?;
    matches!(field, "event" | "data" | "id" | "retry").then_some(field.len() + 1)
}

/// One line of an event stream.
pub fn event_line(line: &str) -> Line<'static> {
    match event_field(line) {
        Some(n) => Line::from(vec![
            Span::styled(line[..n].to_string(), theme::HEADER_NAME),
            Span::raw(line[n..].to_string()),
        ]),
        None => Line::raw(line.to_string()),
    }
}

/// The styled byte ranges of [`event_line`].
pub fn event_runs(line: &str) -> Vec<(std::ops::Range<usize>, Style)> {
    match event_field(line) {
        Some(n) => vec![(0..n, theme::HEADER_NAME), (n..line.len(), Style::new())],
        None => vec![(0..line.len(), Style::new())],
    }
}

pub(super) fn binary(out: &mut DocBuilder, bytes: &[u8]) {
    out.line(Line::styled(strings::binary(bytes.len()), theme::DIM));
    for (row, chunk) in bytes[..bytes.len().min(HEX_PREVIEW)].chunks(16).enumerate() {
        let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        let ascii: String = chunk
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() {
                    char::from(b)
                } else {
                    '.'
                }
            })
            .collect();
        out.line(Line::raw(format!(
            "{:04x}  {:<47}  {ascii}",
            row * 16,
            hex.join(" ")
        )));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::doc::line_text;

    #[test]
    fn json_line_colours_keys_strings_and_numbers() {
        let line = json_line(r#"  "model": "claude \"x\"", "n": -1.5e3, "ok": true"#);
        let styles: Vec<_> = line
            .spans
            .iter()
            .map(|s| (s.content.to_string(), s.style))
            .collect();
        assert_eq!(styles[1], (r#""model""#.to_string(), theme::JSON_KEY));
        assert_eq!(
            styles[3],
            (r#""claude \"x\"""#.to_string(), theme::JSON_STRING)
        );
        assert!(styles.contains(&("-1.5e3".to_string(), theme::JSON_NUMBER)));
        assert!(styles.contains(&("true".to_string(), theme::JSON_LITERAL)));
        assert_eq!(
            line_text(&line),
            r#"  "model": "claude \"x\"", "n": -1.5e3, "ok": true"#
        );
    }

    #[test]
    fn binary_bodies_are_summarised() {
        let mut out = DocBuilder::new(80);
        let headers = Headers::new();
        body(
            &mut out,
            &headers,
            &Body::from_bytes(vec![0xff, 0x00, 0x41]),
        );
        let rows = out.finish().rows(0..2);
        assert_eq!(line_text(&rows[0]), "(binary, 3 bytes)");
        assert!(line_text(&rows[1]).starts_with("0000  ff 00 41"));
    }
}
