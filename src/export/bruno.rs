//! Bruno collection: a .zip holding `bruno.json` and one `.bru` file per
//! exchange, in a folder per host, written in Bruno's own block syntax
//! (`meta { … }`, `post { url … }`, `headers { … }`, `body:json { … }`,
//! `docs { … }`).
//!
//! Text blocks end at a line that starts with `}`, so every line of a body
//! or note is indented by two spaces (Bruno strips them when reading).

mod example;
mod form;

use std::io::{Cursor, Seek, Write};

use super::postman::{by_host, request_name};
use super::view::{self, BodyView};
use super::{ExportError, Options, notes};
use crate::exchange::Exchange;

/// Methods with their own block keyword; any other goes in `http { method }`.
const METHOD_BLOCKS: [&str; 9] = [
    "get", "post", "put", "delete", "patch", "options", "head", "connect", "trace",
];

/// The collection as (path inside the zip, file contents), in zip order:
/// `.bru` text, and the files multipart forms send.
pub fn files(exchanges: &[Exchange], options: &Options) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![("bruno.json".to_string(), config(options).into_bytes())];
    for (folder_seq, (host, group)) in by_host(exchanges).into_iter().enumerate() {
        let (path, text) = folder_entry(&host, folder_seq + 1);
        out.push((path, text.into_bytes()));
        for (i, ex) in group.iter().enumerate() {
            out.extend(request_entries(&host, ex, i + 1, options));
        }
    }
    out
}

/// `bruno.json`, written by hand so the key order is Bruno's own, whatever
/// serde_json's map ordering.
fn config(options: &Options) -> String {
    format!(
        "{{\n  \"version\": \"1\",\n  \"name\": {},\n  \"type\": \"collection\",\n  \"ignore\": [\"node_modules\", \".git\"]\n}}\n",
        serde_json::Value::from(options.title)
    )
}

fn folder_entry(host: &str, seq: usize) -> (String, String) {
    (format!("{}/folder.bru", slug(host)), folder_file(host, seq))
}

/// A request's `.bru` file, then the files its form sends, if any.
fn request_entries(
    host: &str,
    ex: &Exchange,
    seq: usize,
    options: &Options,
) -> Vec<(String, Vec<u8>)> {
    let name = format!("{seq:03}-{}", slug(&request_name(ex)));
    let folder = slug(host);
    let form = form::of(ex, &format!("{folder}/files/{name}"));
    let text = request_file(ex, seq, options, form.as_ref().map(|f| f.block.as_str()));
    let mut out = vec![(format!("{folder}/{name}.bru"), text.into_bytes())];
    out.extend(form.into_iter().flat_map(|f| f.files));
    out
}

/// The collection zipped, ready to import into Bruno or run with `bru run`.
pub fn to_zip(exchanges: &[Exchange], options: &Options) -> Result<Vec<u8>, ExportError> {
    let mut zip = BrunoZip::new(Cursor::new(Vec::new()), options)?;
    for (_, group) in by_host(exchanges) {
        for ex in group {
            zip.add(ex, options)?;
        }
    }
    Ok(zip.finish()?.into_inner())
}

/// A Bruno zip written one exchange at a time, to any seekable writer (a
/// file, for exports larger than memory should hold). Exchanges must come
/// grouped by host, hosts in order of first appearance, as [`to_zip`] and
/// [`super::stream::Meta`]'s ordering give them.
pub struct BrunoZip<W: Write + Seek> {
    zip: zip::ZipWriter<W>,
    file_options: zip::write::SimpleFileOptions,
    /// The host folder being written, its number, and the requests in it.
    folder: Option<(String, usize)>,
    folders: usize,
}

impl<W: Write + Seek> BrunoZip<W> {
    pub fn new(writer: W, options: &Options) -> Result<Self, ExportError> {
        let mut out = BrunoZip {
            zip: zip::ZipWriter::new(writer),
            // A fixed timestamp keeps the archive byte-identical for the same input.
            file_options: zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .last_modified_time(zip::DateTime::default()),
            folder: None,
            folders: 0,
        };
        out.file("bruno.json".into(), config(options).as_bytes())?;
        Ok(out)
    }

    /// One exchange's request file, after its host's folder file when it
    /// opens a new host.
    pub fn add(&mut self, ex: &Exchange, options: &Options) -> Result<(), ExportError> {
        let host = view::authority(ex);
        let seq = match &mut self.folder {
            Some((h, n)) if *h == host => {
                *n += 1;
                *n
            }
            _ => {
                self.folders += 1;
                let (path, text) = folder_entry(&host, self.folders);
                self.file(path, text.as_bytes())?;
                self.folder = Some((host.clone(), 1));
                1
            }
        };
        for (path, bytes) in request_entries(&host, ex, seq, options) {
            self.file(path, &bytes)?;
        }
        Ok(())
    }

    pub fn finish(self) -> Result<W, ExportError> {
        self.zip.finish().map_err(ExportError::Zip)
    }

    fn file(&mut self, path: String, bytes: &[u8]) -> Result<(), ExportError> {
        self.zip
            .start_file(path, self.file_options)
            .map_err(ExportError::Zip)?;
        self.zip
            .write_all(bytes)
            .map_err(|e| ExportError::Zip(e.into()))
    }
}

fn folder_file(host: &str, seq: usize) -> String {
    format!("meta {{\n  name: {}\n  seq: {seq}\n}}\n", one_line(host))
}

/// One `.bru` request file; `form` is its body as a multipart form block,
/// when it is one.
fn request_file(ex: &Exchange, seq: usize, options: &Options, form: Option<&str>) -> String {
    let r = &ex.request;
    let body = BodyView::of(&r.headers, &r.body);
    let mode = if form.is_some() {
        "multipartForm"
    } else {
        body_mode(&body)
    };
    let mut blocks = vec![
        format!(
            "meta {{\n  name: {}\n  type: http\n  seq: {seq}\n}}",
            one_line(&format!("{} #{}", request_name(ex), ex.id))
        ),
        method_block(ex, mode),
    ];
    let query: Vec<(String, String)> = raw_query(&r.path);
    if !query.is_empty() {
        blocks.push(dictionary("params:query", &query));
    }
    let headers: Vec<(String, String)> = view::replay_headers(&r.headers)
        .into_iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("host"))
        // A form's content type names the captured body's boundary; Bruno
        // writes the form anew with a boundary of its own, and says so.
        .filter(|(n, _)| form.is_none() || !n.eq_ignore_ascii_case("content-type"))
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    if !headers.is_empty() {
        blocks.push(dictionary("headers", &headers));
    }
    if let Some(form) = form {
        blocks.push(form.to_string());
    } else if let (Some(text), Some(tag)) = (body.text.as_deref(), body_tag(mode)) {
        blocks.push(text_block(tag, text));
    }
    let example = example::block(ex);
    blocks.push(text_block("docs", &docs(ex, options, example.is_none())));
    blocks.extend(example);
    blocks.join("\n\n") + "\n"
}

/// Bruno's body mode: `json`, `text` or `none` (empty or binary bodies).
fn body_mode(body: &BodyView) -> &'static str {
    match &body.text {
        Some(t) if t.is_empty() => "none",
        Some(_) if body.json().is_some() => "json",
        Some(_) => "text",
        None => "none",
    }
}

fn body_tag(mode: &str) -> Option<&'static str> {
    match mode {
        "json" => Some("body:json"),
        "text" => Some("body:text"),
        _ => None,
    }
}

fn method_block(ex: &Exchange, mode: &str) -> String {
    let method = ex.request.method.to_ascii_lowercase();
    let fields = format!(
        "  url: {}\n  body: {mode}\n  auth: none",
        one_line(&ex.url())
    );
    if METHOD_BLOCKS.contains(&method.as_str()) {
        format!("{method} {{\n{fields}\n}}")
    } else {
        format!(
            "http {{\n  method: {}\n{fields}\n}}",
            one_line(&ex.request.method)
        )
    }
}

/// llmspy's note and the response status, shown in Bruno's Docs tab; the
/// response itself too when it could not be saved as an example.
fn docs(ex: &Exchange, options: &Options, with_body: bool) -> String {
    let mut out = notes::note(ex, options);
    let Some(resp) = &ex.response else {
        return out;
    };
    let status = format!("{} {}", resp.status, view::status_text(resp.status));
    if !with_body {
        out.push_str(&format!(
            "\n\nResponse: {} (saved as the example).",
            status.trim_end()
        ));
        return out;
    }
    out.push_str(&format!("\n\nResponse: {}\n", status.trim_end()));
    for (n, v) in view::replay_headers(&resp.headers) {
        out.push_str(&format!("\n    {n}: {v}"));
    }
    let body = BodyView::of(&resp.headers, &resp.body);
    match &body.text {
        Some(t) if !t.is_empty() => {
            out.push_str("\n\n```\n");
            out.push_str(t.trim_end());
            out.push_str("\n```");
        }
        Some(_) => {}
        None => out.push_str(&format!("\n\n({} bytes of binary body)", body.bytes.len())),
    }
    out
}

/// `name=value` pairs of the query, still percent-encoded, so the values
/// match the URL Bruno sends byte for byte.
fn raw_query(path: &str) -> Vec<(String, String)> {
    let Some(q) = view::split_path(path).1 else {
        return Vec::new();
    };
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn dictionary(tag: &str, pairs: &[(String, String)]) -> String {
    let lines: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("  {}: {}", key(k), one_line(v)))
        .collect();
    format!("{tag} {{\n{}\n}}", lines.join("\n"))
}

/// A dictionary key, quoted when it holds characters Bruno's grammar
/// would read as structure (`:`, spaces, braces, a leading `~`).
fn key(k: &str) -> String {
    let plain = !k.is_empty()
        && !k.starts_with('~')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.$@!#%&*+/=?^|".contains(c));
    if plain {
        k.to_string()
    } else {
        format!("\"{}\"", k.replace('"', "\\\""))
    }
}

/// Single-line values: a newline would end the value early, so it is
/// written as an escape a reader still recognises.
fn one_line(v: &str) -> String {
    v.replace('\r', "\\r").replace('\n', "\\n")
}

fn text_block(tag: &str, text: &str) -> String {
    let body: Vec<String> = text
        .lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("  {l}")
            }
        })
        .collect();
    format!("{tag} {{\n{}\n}}", body.join("\n"))
}

/// A file or folder name: letters, digits, `.`, `_`, `-`; at most 60.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed: String = out.trim_matches('-').chars().take(60).collect();
    if trimmed.is_empty() {
        "request".to_string()
    } else {
        trimmed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe_file_names() {
        assert_eq!(slug("POST /v1/messages"), "POST-v1-messages");
        assert_eq!(slug("127.0.0.1:8080"), "127.0.0.1-8080");
        assert_eq!(slug("///"), "request");
    }

    #[test]
    fn keys_are_quoted_when_needed() {
        assert_eq!(key("content-type"), "content-type");
        assert_eq!(key("a:b"), "\"a:b\"");
        assert_eq!(key("~x"), "\"~x\"");
        assert_eq!(key("say \"hi\""), "\"say \\\"hi\\\"\"");
    }

    #[test]
    fn text_blocks_indent_every_line() {
        assert_eq!(
            text_block("docs", "a\n}\n\nb"),
            "docs {\n  a\n  }\n\n  b\n}"
        );
    }
}
