//! Exports written piece by piece: a document's opening, then one item per
//! exchange, then its closing, so a large capture never exists as one
//! document in memory. The bytes are exactly those of the whole document
//! pretty-printed at once (the same as [`super::render`]).
//!
//! Native JSON (and the API's JSON answers), HAR and Postman stream; a
//! Postman collection needs each exchange's host and start time first (its
//! folders and id), which [`Meta`] carries without the bodies. A Bruno zip
//! is written exchange by exchange too ([`super::bruno::BrunoZip`]), but
//! into a seekable writer, and an OpenAPI document is folded exchange by
//! exchange ([`super::openapi::Builder`]) and written at the end: it holds
//! schemas, one example per body kind and the samples' heads, not bodies.

use serde_json::{Value, json};

use super::{ExportError, Format, Options, har, native_item, postman, view};
use crate::exchange::Exchange;
use crate::redact;

/// A JSON array written one item at a time, inside the pretty-printed
/// document it belongs to.
#[derive(Debug, Clone)]
pub struct JsonArray {
    /// The document up to and including the array's `[`.
    head: String,
    /// From the array's `]` to the end of the document, newline included.
    tail: String,
    /// Spaces before each item's lines.
    indent: String,
    items: usize,
}

impl JsonArray {
    /// A document that is the array itself.
    pub fn bare() -> Self {
        JsonArray {
            head: "[".into(),
            tail: "]\n".into(),
            indent: "  ".into(),
            items: 0,
        }
    }

    /// The array `"key": []` of `doc` (which must have it, empty, once).
    pub fn inside(doc: &Value, key: &str) -> Option<Self> {
        let text = serde_json::to_string_pretty(doc).ok()?;
        let hole = format!("\"{key}\": []");
        let at = text.find(&hole)?;
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let depth = at - line_start;
        let open = at + hole.len() - 1;
        Some(JsonArray {
            head: text[..open].to_string(),
            tail: format!("{}\n", &text[open..]),
            indent: " ".repeat(depth + 2),
            items: 0,
        })
    }

    pub fn begin(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.head.as_bytes());
    }

    /// One item, pretty-printed at its depth. Pretty JSON escapes newlines
    /// inside strings, so every newline is structure and gets the indent.
    pub fn push(&mut self, item: &Value, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        let text = serde_json::to_string_pretty(item)?;
        out.extend_from_slice(if self.items == 0 { b"\n" } else { b",\n" });
        out.extend_from_slice(self.indent.as_bytes());
        let newline = format!("\n{}", self.indent);
        out.extend_from_slice(text.replace('\n', &newline).as_bytes());
        self.items += 1;
        Ok(())
    }

    /// The closing; the indent of the `]` is two less than the items'.
    pub fn finish(&self, out: &mut Vec<u8>) {
        if self.items > 0 {
            out.push(b'\n');
            out.extend_from_slice(&self.indent.as_bytes()[2..]);
        }
        out.extend_from_slice(self.tail.as_bytes());
    }

    pub fn items(&self) -> usize {
        self.items
    }

    /// Start the next item: an object (`item`) holding the array `key`,
    /// returned to stream into. Close it with its own [`JsonArray::finish`].
    pub fn open_child(&mut self, item: &Value, key: &str, out: &mut Vec<u8>) -> Option<JsonArray> {
        let child = JsonArray::inside(item, key)?;
        let pad = format!("\n{}", self.indent);
        let child = JsonArray {
            head: child.head.replace('\n', &pad),
            tail: child.tail.trim_end_matches('\n').replace('\n', &pad),
            indent: format!("{}{}", self.indent, child.indent),
            items: 0,
        };
        out.extend_from_slice(if self.items == 0 { b"\n" } else { b",\n" });
        out.extend_from_slice(self.indent.as_bytes());
        child.begin(out);
        self.items += 1;
        Some(child)
    }
}

/// What a streamed export must know of each exchange before writing the
/// first: small, without bodies.
#[derive(Debug, Clone)]
pub struct Meta {
    pub id: u64,
    pub started_us: i64,
    /// `host[:port]`, as exports show it.
    pub authority: String,
    /// The request path (OpenAPI's templates are made from all of them).
    pub path: String,
}

impl Meta {
    pub fn of(ex: &Exchange) -> Meta {
        Meta {
            id: ex.id,
            started_us: ex.started_at.timestamp_micros(),
            authority: view::authority(ex),
            path: ex.request.path.clone(),
        }
    }
}

/// Ids grouped by host, hosts in order of first appearance (the folders of
/// Postman and Bruno).
pub fn host_order(metas: &[Meta]) -> Vec<u64> {
    let mut groups: Vec<(&str, Vec<u64>)> = Vec::new();
    for m in metas {
        match groups.iter_mut().find(|(h, _)| *h == m.authority) {
            Some((_, ids)) => ids.push(m.id),
            None => groups.push((&m.authority, vec![m.id])),
        }
    }
    groups.into_iter().flat_map(|(_, ids)| ids).collect()
}

/// An export in a streamable format: [`Exporter::item`] per exchange, in
/// [`Exporter::order`], between [`Exporter::begin`] and [`Exporter::finish`].
pub struct Exporter<'a> {
    format: Format,
    options: Options<'a>,
    array: JsonArray,
    order: Vec<u64>,
    /// Postman: the host folder being written.
    folder: Option<(String, JsonArray)>,
}

impl<'a> Exporter<'a> {
    /// None for the formats that do not stream (OpenAPI, Bruno).
    pub fn new(format: Format, options: Options<'a>, metas: &[Meta]) -> Option<Self> {
        let ids = || metas.iter().map(|m| m.id).collect();
        let (array, order) = match format {
            Format::Json => (JsonArray::bare(), ids()),
            Format::Har => (
                JsonArray::inside(&har::to_har(&[], &options), "entries")?,
                ids(),
            ),
            Format::Postman => {
                let uuid = postman::stable_uuid(metas.iter().map(|m| (m.id, m.started_us)));
                let doc = json!({ "info": postman::info(metas.len(), uuid, &options), "item": [] });
                (JsonArray::inside(&doc, "item")?, host_order(metas))
            }
            Format::OpenApi | Format::Bruno => return None,
        };
        Some(Exporter {
            format,
            options,
            array,
            order,
            folder: None,
        })
    }

    /// The ids to pass to [`Exporter::item`], in this order.
    pub fn order(&self) -> &[u64] {
        &self.order
    }

    pub fn begin(&self, out: &mut Vec<u8>) {
        self.array.begin(out);
    }

    /// One exchange, redacted unless the options say otherwise.
    pub fn item(&mut self, ex: &Exchange, out: &mut Vec<u8>) -> Result<(), ExportError> {
        let redacted;
        let ex = if self.options.redact {
            redacted = redact::masked(ex);
            &*redacted
        } else {
            ex
        };
        let format = self.format;
        let fail = |source| ExportError::Serialize { format, source };
        let value = match self.format {
            Format::Har => har::entry(ex, &self.options),
            Format::Postman => {
                let item = postman::item(ex, &self.options);
                let folder = self.folder_for(&view::authority(ex), out);
                return folder.push(&item, out).map_err(fail);
            }
            _ => match native_item(ex, &self.options) {
                Some(v) => v,
                None => return Ok(()),
            },
        };
        self.array.push(&value, out).map_err(fail)
    }

    /// The Postman folder for `host`, closing the previous one.
    fn folder_for(&mut self, host: &str, out: &mut Vec<u8>) -> &mut JsonArray {
        if self.folder.as_ref().is_some_and(|(h, _)| h != host) {
            self.close_folder(out);
        }
        if self.folder.is_none() {
            let folder = json!({ "name": host, "item": [] });
            let array = self.array.open_child(&folder, "item", out);
            // The folder object always has its array.
            self.folder = array.map(|a| (host.to_string(), a));
        }
        match &mut self.folder {
            Some((_, array)) => array,
            None => &mut self.array,
        }
    }

    fn close_folder(&mut self, out: &mut Vec<u8>) {
        if let Some((_, array)) = self.folder.take() {
            array.finish(out);
        }
    }

    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.close_folder(out);
        self.array.finish(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn streamed(mut array: JsonArray, items: &[Value]) -> String {
        let mut out = Vec::new();
        array.begin(&mut out);
        for item in items {
            array.push(item, &mut out).unwrap();
        }
        array.finish(&mut out);
        String::from_utf8(out).unwrap()
    }

    fn whole(doc: &Value) -> String {
        serde_json::to_string_pretty(doc).unwrap() + "\n"
    }

    #[test]
    fn a_bare_array_streams_as_it_prints() {
        let items = [json!({"a": [1, {"b": "x\ny"}]}), json!([]), json!("s")];
        for n in 0..=items.len() {
            let part = &items[..n];
            assert_eq!(streamed(JsonArray::bare(), part), whole(&json!(part)));
        }
    }

    #[test]
    fn an_array_inside_a_document_streams_as_it_prints() {
        let doc = |entries: &[Value]| json!({"log": {"version": "1.2", "pages": [], "entries": entries, "comment": "c"}});
        let items = [json!({"n": 1, "o": {"p": [true]}}), json!({"n": 2})];
        for n in 0..=items.len() {
            let array = JsonArray::inside(&doc(&[]), "entries").unwrap();
            assert_eq!(streamed(array, &items[..n]), whole(&doc(&items[..n])));
        }
    }

    #[test]
    fn a_document_without_the_array_has_no_stream() {
        assert!(JsonArray::inside(&json!({"log": {}}), "entries").is_none());
    }
}
