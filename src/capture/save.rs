//! `--save FILE`: append each finished exchange as one JSON line, at once, so
//! a killed process loses nothing already finished. The file is created
//! readable by its owner only, and secrets are masked as in exports unless
//! the user keeps them (`--save-secrets`). Also reads such files (and JSON
//! arrays of exchanges) back for `llmspy open`.
//!
//! Each line carries `"llmspyFormat": N` ([`FORMAT`]). Fields that an older
//! reader may ignore are added without a new number; the number goes up only
//! when an older reader would misread a line. So a line without the field
//! (written before it existed) or with an older number is read as is, and a
//! newer number is refused by line, naming both versions, rather than read
//! wrong.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use tokio::sync::mpsc;

use super::{Sink, SinkMsg};
use crate::exchange::Exchange;
use crate::export::{native, native_write};

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("cannot open {path} for appending captures")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read capture file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}:{line}: written by a newer llmspy (save format {found}; this one reads up to {FORMAT}): upgrade llmspy to read it"
    )]
    NewerFormat {
        path: PathBuf,
        line: usize,
        found: u64,
    },
    #[error("{path}:{line}: not an llmspy exchange: {reason}")]
    Parse {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

/// The version of the saved line format this llmspy writes and reads.
pub const FORMAT: u64 = 1;

/// The field naming a line's format version.
const FORMAT_FIELD: &str = "llmspyFormat";

/// One saved line: the native exchange, its format version first, and a
/// newline.
fn line(ex: &Exchange) -> Vec<u8> {
    let lead = format!("\"{FORMAT_FIELD}\":{FORMAT},");
    let mut line = Vec::with_capacity(1024 + ex.captured_bytes());
    native_write::write_after(lead.as_bytes(), ex, &mut line);
    line.push(b'\n');
    line
}

/// Whether secrets reach the `--save` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secrets {
    Mask,
    Keep,
}

/// Open `path` for appending and write every exchange received, one per line.
/// Runs on a blocking thread so file IO never touches the runtime's workers.
pub fn spawn_writer(path: &Path, secrets: Secrets) -> Result<Sink, SaveError> {
    let file = crate::private::append(path).map_err(|source| SaveError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let (tx, mut rx) = mpsc::unbounded_channel::<SinkMsg>();
    let path = path.to_path_buf();
    std::thread::Builder::new()
        .name("llmspy-save".into())
        .spawn(move || {
            let mut file = file;
            while let Some(msg) = rx.blocking_recv() {
                match msg {
                    SinkMsg::Finished(record) => {
                        let ex = match secrets {
                            Secrets::Mask => crate::redact::masked(&record.exchange),
                            Secrets::Keep => std::borrow::Cow::Borrowed(&record.exchange),
                        };
                        if let Err(e) = write_line(&mut file, &ex) {
                            tracing::error!("writing {}: {e}", path.display());
                        }
                    }
                    SinkMsg::Flush(done) => {
                        let _ = done.send(());
                    }
                }
            }
        })
        .map_err(|source| SaveError::Open {
            path: PathBuf::new(),
            source,
        })?;
    Ok(Sink::new(tx))
}

fn write_line(file: &mut File, ex: &Exchange) -> std::io::Result<()> {
    // One write per line keeps lines whole even if the process dies mid-way.
    file.write_all(&line(ex))?;
    file.flush()
}

/// Load exchanges from a `--save` file (JSON lines) or a JSON array.
pub fn load(path: &Path) -> Result<Vec<Exchange>, SaveError> {
    let file = File::open(path).map_err(|source| SaveError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    read(path, BufReader::new(file))
}

/// [`load`] from any reader; `path` only names it in errors. JSON lines are
/// parsed one at a time, so a large capture is never held twice as text.
pub fn read(path: &Path, mut reader: impl BufRead) -> Result<Vec<Exchange>, SaveError> {
    let read_err = |source| SaveError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut first = String::new();
    reader.read_line(&mut first).map_err(read_err)?;
    if first.trim_start().starts_with('[') {
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut reader, &mut rest).map_err(read_err)?;
        first.push_str(&rest);
        return parse_array(path, &first);
    }
    if first.trim() == "{"
        || (first.trim_start().starts_with('{') && !first.trim_end().ends_with('}'))
    {
        // A pretty-printed JSON document: a HAR file.
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut reader, &mut rest).map_err(read_err)?;
        first.push_str(&rest);
        return parse_document(path, &first);
    }
    let mut out = Vec::new();
    let mut line_no = 1;
    let mut line = first;
    loop {
        if !line.trim().is_empty() {
            out.push(parse_line(path, line_no, &line)?);
        }
        line.clear();
        line_no += 1;
        if reader.read_line(&mut line).map_err(read_err)? == 0 {
            break;
        }
    }
    Ok(out)
}

fn parse_line(path: &Path, line: usize, text: &str) -> Result<Exchange, SaveError> {
    let err = |reason: String| SaveError::Parse {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let mut value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| err(e.to_string()))?;
    if let Some(found) = newer_format(&mut value) {
        return Err(SaveError::NewerFormat {
            path: path.to_path_buf(),
            line,
            found,
        });
    }
    native::parse_exchange(value).map_err(err)
}

/// Takes the format field off a saved line; `Some(version)` when it is newer
/// than this llmspy reads.
fn newer_format(value: &mut serde_json::Value) -> Option<u64> {
    let found = value.as_object_mut()?.remove(FORMAT_FIELD)?.as_u64()?;
    (found > FORMAT).then_some(found)
}

fn parse_document(path: &Path, text: &str) -> Result<Vec<Exchange>, SaveError> {
    let err = |line: usize, reason: String| SaveError::Parse {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| err(e.line(), e.to_string()))?;
    if crate::export::har_import::is_har(&value) {
        return crate::export::har_import::exchanges(&value).map_err(|e| err(0, e));
    }
    native::parse_exchange(value)
        .map(|ex| vec![ex])
        .map_err(|e| err(1, e))
}

fn parse_array(path: &Path, text: &str) -> Result<Vec<Exchange>, SaveError> {
    let err = |line: usize, reason: String| SaveError::Parse {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let values: Vec<serde_json::Value> =
        serde_json::from_str(text).map_err(|e| err(e.line(), e.to_string()))?;
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| native::parse_exchange(v).map_err(|e| err(0, format!("element {i}: {e}"))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(ex: &Exchange) -> String {
        let text = String::from_utf8(super::line(ex)).expect("UTF-8");
        text.trim_end_matches('\n').to_string()
    }

    fn read_text(text: &str) -> Result<Vec<Exchange>, SaveError> {
        read(Path::new("t.jsonl"), text.as_bytes())
    }

    #[test]
    fn lines_carry_the_format_and_read_back() {
        let ex = super::super::store::tests_support::sample(7);
        let text = line(&ex);
        assert!(text.starts_with(r#"{"llmspyFormat":1,"id":7,"#), "{text}");
        let back = read_text(&text).expect("reads");
        assert_eq!(back.first().map(|e| e.id), Some(7));
    }

    #[test]
    fn lines_without_the_format_are_read_as_before() {
        let ex = super::super::store::tests_support::sample(3);
        let text = serde_json::to_string(&native::to_json(&ex)).expect("serialises");
        assert_eq!(read_text(&text).expect("reads").len(), 1);
    }

    #[test]
    fn a_newer_format_is_refused_naming_both_versions() {
        let ex = super::super::store::tests_support::sample(3);
        let text = line(&ex).replace(r#""llmspyFormat":1"#, r#""llmspyFormat":9"#);
        let err = read_text(&format!("{}\n{text}\n", line(&ex))).expect_err("refused");
        assert_eq!(
            err.to_string(),
            "t.jsonl:2: written by a newer llmspy (save format 9; this one reads up to 1): upgrade llmspy to read it"
        );
    }
}
