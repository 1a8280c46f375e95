//! A gRPC body in the Raw tab: each message on a line of its own (its
//! size, whether it came compressed), then its protobuf fields read
//! without a schema, indented by nesting. What does not read as protobuf
//! is shown as its text, or as hex.

use ratatui::text::Line;

use crate::exchange::{Chunk, Headers, header};
use crate::grpc;

use super::doc::DocBuilder;
use super::{strings, theme};

/// Lines of fields shown per body: a body of many large messages would
/// otherwise lay out for seconds. Past it, messages show their size alone.
const MAX_LINES: usize = 5_000;

/// Append the messages of `bytes` (a body that `grpc::is_framed`) to `out`, each
/// with when it had all arrived when `chunks` stamp the body's frames.
pub fn body(out: &mut DocBuilder, headers: &Headers, bytes: &[u8], chunks: &[Chunk]) {
    let framed = grpc::messages(bytes);
    let encoding = header(headers, "grpc-encoding");
    let mut shown = 0;
    for (i, message) in framed.messages.iter().enumerate() {
        let kind = if message.trailers {
            "trailers"
        } else {
            "message"
        };
        let how = if message.compressed {
            format!(", {}", encoding.unwrap_or("compressed"))
        } else {
            String::new()
        };
        let size = strings::bytes(message.payload.len() as u64);
        let at = arrived(chunks, message.end)
            .map(|us| format!(", at {}", strings::duration_us(us)))
            .unwrap_or_default();
        out.line(Line::styled(
            format!("── {kind} {} ({size}{how}{at})", i + 1),
            theme::DIM,
        ));
        if shown >= MAX_LINES {
            continue;
        }
        shown += payload(out, message, encoding);
    }
    if framed.left > 0 {
        out.line(Line::styled(
            strings::grpc_left_over(framed.left),
            theme::WARN,
        ));
    }
}

/// When the body's first `end` bytes had arrived, in µs since the request
/// started: the stamp of the frame that brought the last of them.
fn arrived(chunks: &[Chunk], end: usize) -> Option<u64> {
    let end = end as u64;
    chunks
        .iter()
        .find(|c| c.offset + c.len >= end)
        .map(|c| c.at_us)
}

/// One message's lines; how many it wrote.
fn payload(out: &mut DocBuilder, message: &grpc::Message<'_>, encoding: Option<&str>) -> usize {
    let decoded;
    let mut bytes = message.payload;
    if message.compressed {
        decoded = crate::content::decode(encoding, bytes);
        if decoded.applied.is_none() {
            out.line(Line::styled(strings::GRPC_NOT_DECOMPRESSED, theme::WARN));
            return 1;
        }
        bytes = &decoded.bytes;
    }
    if message.trailers {
        let text = String::from_utf8_lossy(bytes);
        text.lines()
            .for_each(|l| out.line(Line::raw(l.to_string())));
        return text.lines().count();
    }
    match grpc::outline(bytes) {
        Some(lines) if !lines.is_empty() => {
            for line in lines.iter().take(MAX_LINES) {
                let indent = "  ".repeat(line.depth);
                out.line(Line::raw(format!("{indent}{}", line.text)));
            }
            lines.len().min(MAX_LINES)
        }
        Some(_) => 0,
        // Not protobuf: its text, or its bytes as hex.
        None => match std::str::from_utf8(bytes) {
            Ok(text) => {
                super::pretty::text_or_json(out, text);
                text.lines().count()
            }
            Err(_) => {
                super::pretty::binary(out, bytes);
                1 + bytes.len().min(super::pretty::HEX_PREVIEW) / 16
            }
        },
    }
}
