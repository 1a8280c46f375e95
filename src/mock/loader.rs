//! Reading expectation files (`--init PATH`, `load_expectations_from_file`):
//! the one file in `mock` that touches the file system. A directory loads
//! every `*.json` in it, sorted by name. All or nothing: the first broken
//! file is reported with its path, the JSON path and what was expected,
//! and nothing is returned.

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
}

/// Load the expectations in `path` (a file or a directory of them).
pub fn load(path: &Path) -> Result<Vec<Expectation>, LoadError> {
    let read_err = |source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    };
    if !path.is_dir() {
        return load_file(path);
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
        all.extend(load_file(&file)?);
    }
    Ok(all)
}

fn load_file(path: &Path) -> Result<Vec<Expectation>, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
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
