//! History that survives restarts: every finished exchange in a SQLite
//! database (the data directory's `history.sqlite` by default), one row
//! per exchange with its analysis summary in columns, the masked exchanges
//! themselves as native JSON packed into compressed blocks; one row per
//! run of llmspy.
//!
//! The writer ([`start::begin`]) is a capture sink on its own thread:
//! batched transactions, never in the relay's way; a full disk or a locked
//! or corrupt file is one warning, and writing resumes when it can. The
//! reader ([`reader`]) lists runs, sums usage, and loads exchanges back for
//! export and `llmspy open`.

mod backlog;
mod blocks;
mod open;
mod pace;
pub mod reader;
mod rows;
mod schema;
pub mod start;
pub mod status;
pub mod writer;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub use reader::{RunRow, StatRow};
pub use start::{History, RunInfo, Starting, begin, begin_with_backlog, start};
pub use status::HistoryStatus;

/// The file every llmspy writes unless told otherwise.
pub const DEFAULT_FILE: &str = "history.sqlite";

/// The default cap on the file's size: oldest runs are pruned beyond it.
pub const DEFAULT_MAX_BYTES: u64 = 2 * 1024 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot create the history file {path}")]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot create the history's directory {dir}")]
    CreateDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Open { path: PathBuf, message: String },
    #[error("no history at {path}")]
    Missing { path: PathBuf },
    #[error(
        "the history file has schema version {found}, newer than this llmspy understands ({supported}); use a newer llmspy or another --history file"
    )]
    Newer { found: i64, supported: i64 },
    #[error(
        "{path}: the history file was written by a newer llmspy (schema {found}, this one reads up to {supported})"
    )]
    NewerAt {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("history database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("cannot start the history writer's thread")]
    Thread(#[source] std::io::Error),
    #[error("history run {run}, exchange {id}: {message}")]
    Row { run: i64, id: u64, message: String },
}

/// What is said when `--history` names a directory.
const IS_A_DIRECTORY: &str = "it is a directory: --history takes a file (e.g. DIR/history.sqlite)";

impl HistoryError {
    /// Say what went wrong opening `path`, in words a user can act on.
    fn open(path: &Path, e: rusqlite::Error) -> HistoryError {
        let message = match &e {
            rusqlite::Error::SqliteFailure(f, _) => match f.code {
                rusqlite::ErrorCode::NotADatabase => {
                    "not a SQLite database (corrupt, or another kind of file): move it aside or choose another --history FILE".to_string()
                }
                rusqlite::ErrorCode::DatabaseCorrupt => {
                    "the database is corrupt: move it aside (llmspy starts a new one) or choose another --history FILE".to_string()
                }
                rusqlite::ErrorCode::CannotOpen if path.is_dir() => {
                    IS_A_DIRECTORY.to_string()
                }
                rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::ReadOnly => format!(
                    "cannot open it for writing ({e}); is the directory read-only? choose another --history FILE, or --no-history"
                ),
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked => {
                    "locked by another process for too long".to_string()
                }
                _ => e.to_string(),
            },
            _ => e.to_string(),
        };
        HistoryError::Open {
            path: path.to_path_buf(),
            message,
        }
    }

    /// Attach the file's path to an error that lacks it.
    fn at(self, path: &Path) -> HistoryError {
        match self {
            HistoryError::Newer { found, supported } => HistoryError::NewerAt {
                path: path.to_path_buf(),
                found,
                supported,
            },
            HistoryError::Sql(e) => HistoryError::open(path, e),
            other => other,
        }
    }
}

/// Does `path` start like a SQLite database?
pub fn is_database(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head == b"SQLite format 3\0")
}
