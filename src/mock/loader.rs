//! Reading expectation files (`--init PATH`, `load_expectations_from_file`):
//! the one file in `mock` that touches the file system. A directory loads
//! every `*.json` in it, sorted by name. All or nothing: the first broken
//! file is reported with its path, the JSON path and what was expected,
//! and nothing is returned.
//!
//! Only regular files are read, up to [`MAX_FILE_BYTES`]: a path such as
//! `/dev/zero` is refused rather than read for ever. The control plane
//! passes its own reader ([`load_with`]) that also keeps every file inside
//! its files root.

use std::path::{Path, PathBuf};

use super::MockError;
use super::expectation::{self, Expectation};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read expectations from {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not JSON: {problem}")]
    Json { path: PathBuf, problem: String },
    // The problem is part of the message (not a `source`), so it is said
    // once however the error is printed.
    #[error("{path}: {problem}")]
    Invalid { path: PathBuf, problem: MockError },
    #[error("{path}: no *.json files in this directory")]
    Empty { path: PathBuf },
    #[error("{path}: not a regular file")]
    NotRegular { path: PathBuf },
    #[error("{path}: larger than {MAX_FILE_BYTES} bytes")]
    TooLarge { path: PathBuf },
    /// The caller's reader refused the file; its reason, whole.
    #[error("{0}")]
    Refused(String),
}

/// Largest expectation file read.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Reads one file's text; see [`load_with`].
pub type ReadFile<'a> = &'a dyn Fn(&Path) -> Result<String, LoadError>;

/// Load the expectations in `path` (a file or a directory of them).
pub fn load(path: &Path) -> Result<Vec<Expectation>, LoadError> {
    load_with(path, &read_regular)
}

/// [`load`], reading each file with `read`.
pub fn load_with(path: &Path, read: ReadFile<'_>) -> Result<Vec<Expectation>, LoadError> {
    let read_err = |source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    };
    if !path.is_dir() {
        return load_file(path, read);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(read_err)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("json"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(LoadError::Empty {
            path: path.to_path_buf(),
        });
    }
    let mut all = Vec::new();
    for file in files {
        all.extend(load_file(&file, read)?);
    }
    Ok(all)
}

/// A regular file's text, up to [`MAX_FILE_BYTES`]. Checked before opening:
/// opening a FIFO would wait for a writer.
pub fn read_regular(path: &Path) -> Result<String, LoadError> {
    use std::io::Read;
    let read_err = |source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    if !meta.is_file() {
        return Err(LoadError::NotRegular {
            path: path.to_path_buf(),
        });
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .map_err(read_err)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(read_err)?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(LoadError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    Ok(text)
}

fn load_file(path: &Path, read: ReadFile<'_>) -> Result<Vec<Expectation>, LoadError> {
    let text = read(path)?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| LoadError::Json {
        path: path.to_path_buf(),
        problem: e.to_string(),
    })?;
    let stem = path
        .file_stem()
        .map_or_else(|| "file".into(), |s| s.to_string_lossy().into_owned());
    expectation::parse_document(&doc, &format!("{stem}-")).map_err(|problem| LoadError::Invalid {
        path: path.to_path_buf(),
        problem,
    })
}
