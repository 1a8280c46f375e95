//! gRPC bodies for reading: the length-prefixed messages a gRPC (or
//! gRPC-Web) body is made of, and each message's protobuf fields read
//! without a schema, as `protoc --decode_raw` does: field numbers, numbers
//! and text, nested messages where the bytes parse as one.
//!
//! A message is a flag byte (bit 0: compressed; bit 7, gRPC-Web only: a
//! trailers frame), a big-endian u32 length, then that many bytes. Pure
//! code: no IO, and it never panics on what it is given (a fuzz-style
//! property test holds it to that).

/// True for the content types whose bodies are length-prefixed messages:
/// gRPC's and gRPC-Web's binary form, not gRPC-Web's base64 `-text` form.
pub fn is_framed(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        let text_form = ct
            .trim_start()
            .get(..GRPC_WEB_TEXT.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(GRPC_WEB_TEXT));
        crate::exchange::is_grpc_content_type(ct) && !text_form
    })
}

const GRPC_WEB_TEXT: &str = "application/grpc-web-text";

/// One frame of a gRPC body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    /// Compressed with the message's `grpc-encoding`.
    pub compressed: bool,
    /// A gRPC-Web trailers frame (`grpc-status: 0` lines) rather than a
    /// message.
    pub trailers: bool,
    pub payload: &'a [u8],
    /// Where the message ends in the body: with the body's arrival
    /// stamps, when it had all arrived.
    pub end: usize,
}

/// The messages of a body, and how many bytes after the last whole one
/// did not make a message (a body cut by the capture cap, or not gRPC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framed<'a> {
    pub messages: Vec<Message<'a>>,
    pub left: usize,
}

/// Split `body` into its messages.
pub fn messages(body: &[u8]) -> Framed<'_> {
    let mut messages = Vec::new();
    let mut rest = body;
    while let [flag, a, b, c, d, after @ ..] = rest {
        let len = u32::from_be_bytes([*a, *b, *c, *d]) as usize;
        if after.len() < len {
            break;
        }
        let (payload, next) = after.split_at(len);
        messages.push(Message {
            compressed: flag & 1 == 1,
            trailers: flag & 0x80 != 0,
            payload,
            end: body.len() - next.len(),
        });
        rest = next;
    }
    Framed {
        messages,
        left: rest.len(),
    }
}

/// A protobuf field's value, by wire type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    /// Length-delimited: text, bytes, a nested message or packed numbers;
    /// without the schema only the bytes say which.
    Bytes(&'a [u8]),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    pub number: u64,
    pub value: Value<'a>,
}

/// The fields of `bytes` read as one protobuf message, or None unless
/// every byte belongs to a well-formed field (groups, long gone from
/// protobuf, count as not well-formed).
pub fn fields(bytes: &[u8]) -> Option<Vec<Field<'_>>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (key, after) = varint(rest)?;
        let number = key >> 3;
        if number == 0 || number > MAX_FIELD_NUMBER {
            return None;
        }
        let (value, after) = match key & 7 {
            0 => {
                let (v, after) = varint(after)?;
                (Value::Varint(v), after)
            }
            1 => {
                let (v, after) = split(after, 8)?;
                (
                    Value::Fixed64(u64::from_le_bytes(v.try_into().ok()?)),
                    after,
                )
            }
            2 => {
                let (len, after) = varint(after)?;
                let (v, after) = split(after, usize::try_from(len).ok()?)?;
                (Value::Bytes(v), after)
            }
            5 => {
                let (v, after) = split(after, 4)?;
                (
                    Value::Fixed32(u32::from_le_bytes(v.try_into().ok()?)),
                    after,
                )
            }
            _ => return None,
        };
        out.push(Field { number, value });
        rest = after;
    }
    Some(out)
}

/// The largest field number protobuf allows (2^29 - 1).
const MAX_FIELD_NUMBER: u64 = (1 << 29) - 1;

fn varint(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, &bytes[i + 1..]));
        }
    }
    None
}

fn split(bytes: &[u8], n: usize) -> Option<(&[u8], &[u8])> {
    (bytes.len() >= n).then(|| bytes.split_at(n))
}

/// One line of a message's outline: how deep it sits and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub depth: usize,
    pub text: String,
}

/// Nested messages deeper than this are shown as bytes.
const MAX_DEPTH: usize = 16;
/// Text and bytes longer than this are cut (the Raw tab's hex shows all).
const MAX_SHOWN: usize = 2048;

/// `payload` as `protoc --decode_raw` would print it, a line per field:
/// `1: 42`, `2: "text"`, `3 {` … `}`; None when it is not one protobuf
/// message.
pub fn outline(payload: &[u8]) -> Option<Vec<Line>> {
    let fields = fields(payload)?;
    let mut out = Vec::new();
    write_fields(&fields, 0, &mut out);
    Some(out)
}

fn write_fields(fields: &[Field<'_>], depth: usize, out: &mut Vec<Line>) {
    for field in fields {
        let n = field.number;
        let text = match field.value {
            Value::Varint(v) => format!("{n}: {v}"),
            Value::Fixed64(v) => format!("{n}: 0x{v:016x}"),
            Value::Fixed32(v) => format!("{n}: 0x{v:08x}"),
            Value::Bytes(bytes) => match nested(bytes, depth) {
                Some(inner) => {
                    out.push(Line {
                        depth,
                        text: format!("{n} {{"),
                    });
                    write_fields(&inner, depth + 1, out);
                    "}".to_string()
                }
                None => format!("{n}: {}", shown_bytes(bytes)),
            },
        };
        out.push(Line { depth, text });
    }
}

/// `bytes` as a nested message, when they read as one and are not text:
/// text reads as a message more often than not (`hi` is field 13, 105).
fn nested(bytes: &[u8], depth: usize) -> Option<Vec<Field<'_>>> {
    if depth >= MAX_DEPTH || bytes.is_empty() || as_text(bytes).is_some() {
        return None;
    }
    fields(bytes)
}

/// Text: UTF-8 with no control characters but line breaks and tabs.
fn as_text(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?;
    let printable = |c: char| !c.is_control() || matches!(c, '\n' | '\r' | '\t');
    text.chars().all(printable).then_some(text)
}

fn shown_bytes(bytes: &[u8]) -> String {
    if let Some(text) = as_text(bytes) {
        let cut: String = text.chars().take(MAX_SHOWN).collect();
        let more = if cut.len() < text.len() { "…" } else { "" };
        return format!("{}{more}", serde_json::Value::String(cut));
    }
    let hex: String = bytes
        .iter()
        .take(MAX_SHOWN / 2)
        .map(|b| format!("{b:02x}"))
        .collect();
    let more = if bytes.len() > MAX_SHOWN / 2 {
        "…"
    } else {
        ""
    };
    format!("<{hex}{more}> ({} bytes)", bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| format!("{}{}", "  ".repeat(l.depth), l.text))
            .collect()
    }

    #[test]
    fn a_body_splits_into_its_messages_and_what_is_left() {
        let body = [
            &[0u8, 0, 0, 0, 2][..],
            b"hi",
            &[1, 0, 0, 0, 0],
            &[0x80, 0, 0, 0, 1],
            b"x",
            &[0, 0, 0, 0, 9, 1, 2],
        ]
        .concat();
        let framed = messages(&body);
        let got: Vec<(bool, bool, &[u8], usize)> = framed
            .messages
            .iter()
            .map(|m| (m.compressed, m.trailers, m.payload, m.end))
            .collect();
        assert_eq!(
            got,
            [
                (false, false, &b"hi"[..], 7),
                (true, false, &b""[..], 12),
                (false, true, &b"x"[..], 18)
            ]
        );
        assert_eq!(framed.left, 7, "a message declaring 9 bytes with 2 there");
    }

    #[test]
    fn framed_bodies_are_grpc_and_grpc_web_binary_not_its_text_form() {
        for (ct, framed) in [
            (Some("application/grpc"), true),
            (Some("Application/GRPC+proto"), true),
            (Some("application/grpc-web+proto"), true),
            (Some("application/grpc-web-text+proto"), false),
            (Some("application/json"), false),
            (None, false),
        ] {
            assert_eq!(is_framed(ct), framed, "{ct:?}");
        }
    }

    #[test]
    fn a_message_reads_as_protoc_decode_raw_would() {
        // 1: "pong", 2: 300, 3 { 1: 7 }, 4: fixed32, 5: fixed64, 6: bytes
        let payload = [
            &[0x0a, 4][..],
            b"pong",
            &[0x10, 0xac, 0x02],
            &[0x1a, 2, 0x08, 7],
            &[0x25, 1, 0, 0, 0],
            &[0x29, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f],
            &[0x32, 2, 0xff, 0x00],
        ]
        .concat();
        let lines = outline(&payload).expect("a message");
        assert_eq!(
            texts(&lines),
            [
                "1: \"pong\"",
                "2: 300",
                "3 {",
                "  1: 7",
                "}",
                "4: 0x00000001",
                "5: 0x3ff8000000000000",
                "6: <ff00> (2 bytes)",
            ]
        );
    }

    #[test]
    fn text_stays_text_though_it_would_parse_as_a_message() {
        // "hi" is also field 13 with the varint 105.
        let payload = [&[0x0a, 2][..], b"hi"].concat();
        assert_eq!(texts(&outline(&payload).expect("a message")), ["1: \"hi\""]);
    }

    #[test]
    fn what_is_not_protobuf_is_none() {
        for bad in [
            &[0x0a, 5, b'h'][..], // length past the end
            &[0x00, 1],           // field number 0
            &[0x0b, 1],           // a group
            &[0x08, 0x80, 0x80],  // a varint that never ends
            &[0x08; 1],           // a key without its value
        ] {
            assert_eq!(fields(bad), None, "{bad:?}");
        }
    }

    proptest::proptest! {
        /// Whatever the bytes, reading them ends without a panic.
        #[test]
        fn any_bytes_are_read_without_panicking(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            let framed = messages(&bytes);
            for m in &framed.messages {
                let _ = outline(m.payload);
            }
            let _ = outline(&bytes);
        }
    }
}
