//! Exporters: pure functions from captured exchanges to bytes in one of five
//! formats — llmspy's native JSON, HAR 1.2, OpenAPI 3, a Postman v2.1
//! collection and a Bruno collection (.zip).
//!
//! [`render`] is the single entry point: it redacts secrets first (unless
//! told not to) and hands the exchanges to the format's module. No IO here:
//! callers write the bytes where they belong.

pub mod bruno;
pub mod described;
pub mod expectations;
pub mod har;
pub mod har_import;
mod har_ws;
pub mod multipart;
pub mod native;
pub mod native_write;
mod notes;
pub mod openapi;
pub mod postman;
pub mod rfc3339;
pub mod stream;
pub mod view;
pub mod websocket_json;

use std::fmt;
use std::str::FromStr;

use crate::exchange::Exchange;
use crate::redact;

/// The reassembled assistant text of a streamed (or plain) LLM response,
/// supplied by the caller — usually `crate::llm`'s analysis — so exporters
/// show it without depending on the parsers.
pub type AssistantText<'a> = &'a dyn Fn(&Exchange) -> Option<String>;

/// How to export.
#[derive(Clone, Copy)]
pub struct Options<'a> {
    /// Replace credentials with `***REDACTED***` (the default).
    pub redact: bool,
    /// Reassembled assistant text per exchange, where one is known.
    pub assistant_text: Option<AssistantText<'a>>,
    /// Name of the collection or API document.
    pub title: &'a str,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            redact: true,
            assistant_text: None,
            title: "llmspy capture",
        }
    }
}

impl fmt::Debug for Options<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("redact", &self.redact)
            .field("assistant_text", &self.assistant_text.is_some())
            .field("title", &self.title)
            .finish()
    }
}

impl Options<'_> {
    /// The reassembled assistant text for `ex`, when the caller knows it.
    pub fn assistant_text_of(&self, ex: &Exchange) -> Option<String> {
        self.assistant_text.and_then(|f| f(ex))
    }
}

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// llmspy's own JSON: an array of exchanges, loadable by `llmspy open`.
    Json,
    Har,
    OpenApi,
    Postman,
    Bruno,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Json,
        Format::Har,
        Format::OpenApi,
        Format::Postman,
        Format::Bruno,
    ];

    /// The name accepted by [`FromStr`] and shown in messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "JSON",
            Format::Har => "HAR",
            Format::OpenApi => "OPENAPI",
            Format::Postman => "POSTMAN",
            Format::Bruno => "BRUNO",
        }
    }

    /// File name ending, without a leading dot.
    pub fn file_extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Har => "har",
            Format::OpenApi => "openapi.json",
            Format::Postman => "postman.json",
            Format::Bruno => "bruno.zip",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Har => "application/json",
            Format::Bruno => "application/zip",
            Format::Json | Format::OpenApi | Format::Postman => "application/json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = ExportError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| ExportError::UnknownFormat(wanted.to_string()))
    }
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("unknown export format {0:?}; accepted: JSON, HAR, OPENAPI, POSTMAN, BRUNO (any case)")]
    UnknownFormat(String),
    #[error("could not serialise the {format} export")]
    Serialize {
        format: Format,
        #[source]
        source: serde_json::Error,
    },
    #[error("could not build the Bruno zip")]
    Zip(#[source] zip::result::ZipError),
}

/// Export `exchanges` in `format`, redacted unless `options.redact` is off.
pub fn render(
    format: Format,
    exchanges: &[Exchange],
    options: &Options,
) -> Result<Vec<u8>, ExportError> {
    let redacted;
    let exchanges = if options.redact {
        redacted = redact::redact_all(exchanges).0;
        &redacted[..]
    } else {
        exchanges
    };
    let doc = match format {
        Format::Bruno => return bruno::to_zip(exchanges, options),
        Format::Json => native_array(exchanges, options),
        Format::Har => har::to_har(exchanges, options),
        Format::OpenApi => openapi::to_openapi(exchanges, options),
        Format::Postman => postman::to_collection(exchanges, options),
    };
    let mut bytes = serde_json::to_vec_pretty(&doc)
        .map_err(|source| ExportError::Serialize { format, source })?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// The native form: a JSON array of [`native::to_json`], which
/// `capture::save::load` reads back. Where the caller knows an exchange's
/// reassembled assistant text it is added as `assistantText`, a field the
/// loader ignores.
pub fn native_array(exchanges: &[Exchange], options: &Options) -> serde_json::Value {
    let items = exchanges.iter().filter_map(|ex| native_item(ex, options));
    serde_json::Value::Array(items.collect())
}

/// One exchange of [`native_array`].
pub fn native_item(ex: &Exchange, options: &Options) -> Option<serde_json::Value> {
    let mut value = serde_json::to_value(native::to_json(ex)).ok()?;
    if let (Some(text), Some(map)) = (options.assistant_text_of(ex), value.as_object_mut()) {
        map.insert("assistantText".into(), serde_json::Value::String(text));
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_parse_in_any_case() {
        for (text, want) in [
            ("json", Format::Json),
            ("HAR", Format::Har),
            ("OpenApi", Format::OpenApi),
            (" postman ", Format::Postman),
            ("bruno", Format::Bruno),
        ] {
            assert_eq!(text.parse::<Format>().unwrap(), want, "{text}");
        }
        for f in Format::ALL {
            assert_eq!(f.to_string().parse::<Format>().unwrap(), f);
        }
    }

    #[test]
    fn unknown_format_lists_the_accepted_values() {
        let err = "yaml".parse::<Format>().unwrap_err().to_string();
        assert!(err.contains("\"yaml\""), "{err}");
        assert!(err.contains("JSON, HAR, OPENAPI, POSTMAN, BRUNO"), "{err}");
    }

    #[test]
    fn extensions_and_content_types() {
        assert_eq!(Format::Har.file_extension(), "har");
        assert_eq!(Format::Bruno.content_type(), "application/zip");
        assert_eq!(Format::OpenApi.file_extension(), "openapi.json");
    }
}
