//! How one streamed answer renders each exchange: the API's own JSON, an
//! export format written into the answer, a Bruno zip written into a
//! scratch file, or an OpenAPI document folded and written at the end.

use std::collections::HashMap;
use std::fs::File;

use serde_json::Value;

use super::super::params::{RetrieveParams, RetrieveType};
use super::super::render;
use crate::capture::Record;
use crate::engine::BoxError;
use crate::export::bruno::BrunoZip;
use crate::export::openapi::Builder;
use crate::export::stream::{Exporter, JsonArray, Meta, host_order};
use crate::export::{Format, Options};

pub(super) enum Writer {
    /// The API's own JSON: the `retrieve` objects, in a bare array.
    Json { array: JsonArray, redact: bool },
    /// HAR or Postman, written into the answer as it goes.
    Export(Exporter<'static>),
    /// Bruno: a zip needs its end written before it can be sent.
    Bruno {
        zip: BrunoZip<File>,
        options: Options<'static>,
    },
    /// OpenAPI: folded as it goes, written at the end.
    OpenApi {
        builder: Builder,
        options: Options<'static>,
        /// Each id's place in the paths given to the builder.
        index: HashMap<u64, usize>,
    },
}

fn options(params: &RetrieveParams) -> Options<'static> {
    Options {
        redact: params.redacts(),
        assistant_text: Some(&render::assistant_text),
        ..Options::default()
    }
}

/// What each kind of answer shows of a record: a request log has no
/// answers to show.
fn shown(kind: RetrieveType, mut record: Record) -> Record {
    if kind == RetrieveType::Requests {
        record.exchange.response = None;
        record.exchange.chunks.clear();
    }
    record
}

impl Writer {
    pub(super) fn new(params: &RetrieveParams, metas: &[Meta]) -> Result<Self, BoxError> {
        let options = options(params);
        Ok(match params.format {
            Format::Json => Writer::Json {
                array: JsonArray::bare(),
                redact: params.redacts(),
            },
            Format::Bruno => Writer::Bruno {
                zip: BrunoZip::new(scratch_file()?, &options)?,
                options,
            },
            Format::OpenApi => {
                let paths: Vec<&str> = metas.iter().map(|m| m.path.as_str()).collect();
                Writer::OpenApi {
                    builder: Builder::new(&paths),
                    options,
                    index: metas.iter().enumerate().map(|(i, m)| (m.id, i)).collect(),
                }
            }
            format => Writer::Export(
                Exporter::new(format, options, metas).ok_or("this format does not stream")?,
            ),
        })
    }

    /// The ids in the order they are written.
    pub(super) fn order(&self, metas: &[Meta]) -> Vec<u64> {
        match self {
            Writer::Json { .. } | Writer::OpenApi { .. } => metas.iter().map(|m| m.id).collect(),
            Writer::Export(exporter) => exporter.order().to_vec(),
            Writer::Bruno { .. } => host_order(metas),
        }
    }

    pub(super) fn begin(&self, out: &mut Vec<u8>) {
        match self {
            Writer::Json { array, .. } => array.begin(out),
            Writer::Export(exporter) => exporter.begin(out),
            Writer::Bruno { .. } | Writer::OpenApi { .. } => {}
        }
    }

    pub(super) fn item(
        &mut self,
        kind: RetrieveType,
        record: Record,
        out: &mut Vec<u8>,
    ) -> Result<(), BoxError> {
        // The API's JSON redacts the whole exchange, then shows its parts.
        let mut record = match self {
            Writer::Json { .. } => record,
            _ => shown(kind, record),
        };
        match self {
            Writer::Json { array, redact } => {
                if *redact {
                    crate::redact::mask(&mut record.exchange);
                }
                let value: Value = match kind {
                    RetrieveType::Requests => render::request_json(&record),
                    _ => render::exchange_json(&record),
                };
                Ok(array.push(&value, out)?)
            }
            Writer::Export(exporter) => Ok(exporter.item(&record.exchange, out)?),
            Writer::Bruno { zip, options } => {
                if options.redact {
                    crate::redact::mask(&mut record.exchange);
                }
                Ok(zip.add(&record.exchange, options)?)
            }
            Writer::OpenApi {
                builder,
                options,
                index,
            } => {
                if options.redact {
                    crate::redact::mask(&mut record.exchange);
                }
                if let Some(i) = index.get(&record.exchange.id) {
                    builder.add_at(*i, record.exchange, options);
                }
                Ok(())
            }
        }
    }

    /// The end of the answer into `out`, or the scratch file holding all of it.
    pub(super) fn finish(self, out: &mut Vec<u8>) -> Result<Option<File>, BoxError> {
        match self {
            Writer::Json { array, .. } => array.finish(out),
            Writer::Export(mut exporter) => exporter.finish(out),
            Writer::Bruno { zip, .. } => return Ok(Some(zip.finish()?)),
            Writer::OpenApi {
                builder, options, ..
            } => {
                serde_json::to_writer_pretty(&mut *out, &builder.finish(&options))?;
                out.push(b'\n');
            }
        }
        Ok(None)
    }
}

/// A private temporary file, unlinked at once: its bytes live until it is
/// closed, and no one else can open it.
fn scratch_file() -> std::io::Result<File> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "llmspy-export-{}-{}.zip",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let path = std::env::temp_dir().join(name);
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create_new(true);
    let file = crate::private::open(&mut options, &path)?;
    let _ = std::fs::remove_file(&path);
    Ok(file)
}
