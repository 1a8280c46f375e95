//! A `multipart/form-data` request as Bruno writes one: a
//! `body:multipart-form` block of fields, each file sent as `@file(path)`
//! with its bytes beside the `.bru` in the collection. A text block would
//! lose the CRLFs the body's framing needs (Bruno reads its lines back
//! joined by `\n`), and servers reject such a body.

use super::{key, slug};
use crate::exchange::{self, Exchange};
use crate::export::multipart;
use crate::export::view::BodyView;

/// The block, and the files it sends as (path in the collection, bytes).
pub(super) struct Form {
    pub block: String,
    pub files: Vec<(String, Vec<u8>)>,
}

/// `ex`'s request body as a Bruno form, when it is a whole multipart form;
/// the files go under `dir` (relative to the collection's root, which is
/// where Bruno resolves `@file` paths from).
pub(super) fn of(ex: &Exchange, dir: &str) -> Option<Form> {
    let r = &ex.request;
    let boundary = multipart::boundary(exchange::header(&r.headers, "content-type")?)?;
    let body = BodyView::of(&r.headers, &r.body);
    if body.truncated {
        return None;
    }
    let parts = multipart::parse(&body.bytes, &boundary)?;
    let mut lines = Vec::new();
    let mut files = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let text = std::str::from_utf8(part.data).ok();
        match (&part.filename, text) {
            // A field on one line is written as it is.
            (None, Some(t)) if !t.contains(['\r', '\n']) => {
                lines.push(format!("  {}: {t}", key(&part.name)));
            }
            // A file, or a field a dictionary line cannot hold (more than a
            // line, or not text): sent from a file, in a folder of its own
            // so that Bruno names it as the client did.
            (filename, _) => {
                let name = filename.as_deref().map_or_else(|| slug(&part.name), slug);
                let path = format!("{dir}-{}/{name}", i + 1);
                lines.push(format!("  {}: @file({path})", key(&part.name)));
                files.push((path, part.data.to_vec()));
            }
        }
    }
    Some(Form {
        block: format!("body:multipart-form {{\n{}\n}}", lines.join("\n")),
        files,
    })
}
