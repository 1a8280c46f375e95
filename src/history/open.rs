//! Opening the history file: created owner-only (0600) before SQLite sees
//! it, WAL mode (readers never block the writer; a killed process leaves a
//! consistent file), a busy timeout so two llmspy processes can share it,
//! and a clear error for a file that is not a database.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::{HistoryError, schema};

/// How long a write waits for another process holding the lock.
const BUSY: Duration = Duration::from_secs(5);

/// Open (creating it if needed) for writing.
pub fn writable(path: &Path) -> Result<Connection, HistoryError> {
    create_private(path)?;
    let mut conn = Connection::open(path).map_err(|e| HistoryError::open(path, e))?;
    configure(&conn, path)?;
    // Freed pages go back to the file system after pruning.
    conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")
        .map_err(|e| HistoryError::open(path, e))?;
    use_wal(&conn, path)?;
    // WAL + NORMAL: a killed process loses nothing committed; only a power
    // cut may lose the last transactions.
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(|e| HistoryError::open(path, e))?;
    // Copy the log into the database every 32 MiB instead of every 4 MiB:
    // the pages a busy run rewrites (the last table and index pages) are
    // copied once per checkpoint, so fewer checkpoints mean less writing.
    conn.pragma_update(None, "wal_autocheckpoint", 8192)
        .map_err(|e| HistoryError::open(path, e))?;
    // Statement journals (kept while a row is inserted, in case the
    // statement must be undone) stay in memory instead of a temporary file:
    // writing that file was a quarter of the writer's time.
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(|e| HistoryError::open(path, e))?;
    // The writer only ever adds exchanges to its own run, and removes a
    // run's exchanges itself before the run: checking the foreign key on
    // every insert made SQLite keep a statement journal for each row.
    conn.pragma_update(None, "foreign_keys", "OFF")
        .map_err(|e| HistoryError::open(path, e))?;
    schema::migrate(&mut conn).map_err(|e| e.at(path))?;
    Ok(conn)
}

/// Open an existing history to read it.
pub fn readable(path: &Path) -> Result<Connection, HistoryError> {
    if path.is_dir() {
        return Err(HistoryError::Open {
            path: path.to_path_buf(),
            message: super::IS_A_DIRECTORY.into(),
        });
    }
    if !path.is_file() {
        return Err(HistoryError::Missing {
            path: path.to_path_buf(),
        });
    }
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .or_else(|_| Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY))
    .map_err(|e| HistoryError::open(path, e))?;
    configure(&conn, path)?;
    let found: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| HistoryError::open(path, e))?;
    if found > schema::VERSION {
        return Err(HistoryError::Newer {
            found,
            supported: schema::VERSION,
        }
        .at(path));
    }
    if found < schema::VERSION && !conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(true) {
        schema::migrate(&mut conn).map_err(|e| e.at(path))?;
    }
    Ok(conn)
}

/// Switch the file to WAL. While another connection has the file open (two
/// llmspy processes opening a new history together), SQLite answers this
/// switch with BUSY at once instead of waiting in its busy handler, so it
/// is retried here until the same deadline: SQLite offers nothing to wait
/// on. Once one process has switched, the others find WAL and return.
fn use_wal(conn: &Connection, path: &Path) -> Result<(), HistoryError> {
    let deadline = std::time::Instant::now() + BUSY;
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Ok(()) => return Ok(()),
            Err(e)
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => return Err(HistoryError::open(path, e)),
        }
    }
}

fn configure(conn: &Connection, path: &Path) -> Result<(), HistoryError> {
    conn.busy_timeout(BUSY)
        .map_err(|e| HistoryError::open(path, e))?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(|e| HistoryError::open(path, e))?;
    // Reading the schema fails at once on a file that is not a database.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| HistoryError::open(path, e))?;
    Ok(())
}

/// Create the file with mode 0600 if it does not exist (SQLite gives its
/// `-wal` and `-shm` files the same mode), in directories of mode 0700 if
/// they must be made; an existing file that others may read is made
/// private: it holds what the agents said.
fn create_private(path: &Path) -> Result<(), HistoryError> {
    if path.exists() {
        tighten(path);
        return Ok(());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::private::create_dirs(dir).map_err(|source| HistoryError::CreateDir {
            dir: dir.to_path_buf(),
            source,
        })?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        // Another llmspy created it a moment ago.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(HistoryError::Create {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Take group and other access off the database and its `-wal` and `-shm`
/// files. Not ours to change (another user's file, a read-only mount): left
/// as it is.
fn tighten(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut files = vec![path.to_path_buf()];
        for suffix in ["-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            files.push(name.into());
        }
        for file in files {
            if let Ok(meta) = std::fs::metadata(&file)
                && meta.permissions().mode() & 0o077 != 0
            {
                let mode = meta.permissions().mode() & !0o077;
                let _ = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &std::path::Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn an_existing_readable_history_is_made_private_and_new_directories_are() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("shared.sqlite");
        std::fs::write(&old, b"").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        super::writable(&old).expect("opens");
        assert_eq!(mode(&old), 0o600);

        let new = dir.path().join("a/b/history.sqlite");
        super::writable(&new).expect("creates");
        assert_eq!(mode(&new), 0o600);
        assert_eq!(mode(&dir.path().join("a/b")), 0o700);
    }
}
