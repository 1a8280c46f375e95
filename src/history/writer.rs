//! The history writer: a capture sink on its own thread. It gathers what
//! finished in the last [`BATCH_WINDOW`] and writes it in one transaction
//! (so a `kill -9` loses at most that window), masks secrets as exports do,
//! keeps a batch that failed (a full disk, a lock held too long) and tries
//! again every second, and prunes the oldest runs when the file outgrows
//! its cap.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, params};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::blocks::Pending;
use super::pace::Pace;
use super::rows::insert;
use super::start::RunInfo;
use super::status::HistoryStatus;
use super::{HistoryError, open};
use crate::capture::{Record, SinkMsg};

/// How long finished exchanges wait to share a transaction.
const BATCH_WINDOW: Duration = Duration::from_millis(50);
/// How often an open batch takes in what finished since: exchanges of
/// 512 KiB arriving 1,300 a second had left up to 33 MB waiting in the
/// channel for a 50 ms window.
const PACK_TICK: Duration = Duration::from_millis(5);
/// The most exchanges, and the most JSON, written in one transaction: a
/// long backlog goes in several transactions, none holding the file's
/// lock for long.
const BATCH_MAX: usize = 4096;
const BATCH_MAX_BYTES: usize = 4 * 1024 * 1024;
/// A failed write is tried again after this.
const RETRY: Duration = Duration::from_secs(1);
/// Exchanges (and bytes of their compressed blocks) held in memory while
/// the database refuses them; the oldest go first beyond this, counted as
/// dropped.
const PENDING_MAX: usize = 10_000;
const PENDING_MAX_BYTES: usize = 256 * 1024 * 1024;

/// Open `path` (creating it) and record a new run: the writer for it.
pub(super) fn open_run(
    path: &Path,
    run: &RunInfo,
    max_bytes: u64,
    status: Arc<HistoryStatus>,
) -> Result<Writer, HistoryError> {
    let conn = open::writable(path)?;
    conn.execute(
        "INSERT INTO runs (started_at, listen, version, pid) VALUES (?1, ?2, ?3, ?4)",
        params![
            chrono::Utc::now().to_rfc3339(),
            run.listen,
            run.version,
            std::process::id()
        ],
    )
    .map_err(|e| HistoryError::Open {
        path: path.to_path_buf(),
        message: format!("cannot record this run: {e}"),
    })?;
    let run_id = conn.last_insert_rowid();
    status.set_run(run_id);
    Ok(Writer {
        conn,
        run_id,
        max_bytes,
        status,
        path: path.to_path_buf(),
        pending: Pending::new(),
        pace: Pace::new(),
    })
}

pub(super) struct Writer {
    conn: Connection,
    run_id: i64,
    max_bytes: u64,
    status: Arc<HistoryStatus>,
    path: PathBuf,
    /// Finished exchanges not yet written, masked and packed.
    pending: Pending,
    pace: Pace,
}

impl Writer {
    pub(super) async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<SinkMsg>,
        mut end: oneshot::Receiver<()>,
    ) {
        let mut deadline: Option<Instant> = None;
        loop {
            if deadline.is_none() {
                // Idle: sleep until something arrives.
                tokio::select! {
                    msg = rx.recv() => match msg {
                        Some(SinkMsg::Finished(record)) => {
                            self.queue(&record);
                            deadline = Some(Instant::now() + BATCH_WINDOW);
                        }
                        Some(SinkMsg::Flush(done)) => {
                            deadline = self.write();
                            let _ = done.send(());
                            continue;
                        }
                        None => break,
                    },
                    _ = &mut end => break,
                }
            }
            // A batch is open. The channel is not watched (so exchanges
            // finishing meanwhile are sent without waking this thread, and
            // without a system call on the relay's side), but it is emptied
            // every PACK_TICK: what waits in it holds whole exchanges, what
            // is packed only their compressed documents.
            let close = deadline.unwrap_or_else(Instant::now);
            tokio::select! {
                _ = tokio::time::sleep_until(close.min(Instant::now() + PACK_TICK)) => {}
                _ = &mut end => break,
            }
            self.pace.restart();
            let (flushes, closed) = self.take_waiting(&mut rx);
            if Instant::now() < close && flushes.is_empty() && !closed {
                continue;
            }
            deadline = self.write();
            for done in flushes {
                let _ = done.send(());
            }
            if closed {
                break;
            }
        }
        // Whatever arrived before the end is written now.
        let (flushes, _) = self.take_waiting(&mut rx);
        self.write();
        self.end_run();
        for done in flushes {
            let _ = done.send(());
        }
    }

    /// Queue every exchange already sent; the flushes among them are
    /// answered once the batch is written. True when every sender is gone.
    fn take_waiting(
        &mut self,
        rx: &mut mpsc::UnboundedReceiver<SinkMsg>,
    ) -> (Vec<oneshot::Sender<()>>, bool) {
        let mut flushes = Vec::new();
        loop {
            match rx.try_recv() {
                Ok(SinkMsg::Finished(record)) => {
                    self.queue(&record);
                    // A long backlog goes in several transactions, not one
                    // that holds the lock (and the memory) for long.
                    if (self.pending.rows() >= BATCH_MAX
                        || self.pending.json_bytes() >= BATCH_MAX_BYTES)
                        && self.status.last_error().is_none()
                    {
                        self.write();
                    }
                }
                Ok(SinkMsg::Flush(done)) => flushes.push(done),
                Err(mpsc::error::TryRecvError::Empty) => return (flushes, false),
                Err(mpsc::error::TryRecvError::Disconnected) => return (flushes, true),
            }
        }
    }

    fn queue(&mut self, record: &Record) {
        self.pace.breathe();
        self.status.release_backlog(super::backlog::cost(record));
        self.pending.push(record);
        let dropped = self.pending.shed(PENDING_MAX, PENDING_MAX_BYTES);
        if dropped > 0 {
            self.status.note_dropped(dropped);
        }
        self.status.note_pending(self.pending.rows());
    }

    /// Write what is pending; when to try again, if anything is left.
    fn write(&mut self) -> Option<Instant> {
        if self.pending.rows() == 0 {
            return None;
        }
        match insert(
            &mut self.conn,
            self.run_id,
            &mut self.pending,
            &mut self.pace,
        ) {
            Ok(()) => {
                let n = self.pending.rows();
                self.pending.clear();
                self.status.note_saved(n);
                self.status.note_pending(0);
                if self.status.note_error(None) {
                    tracing::warn!("history: writing to {} again", self.path.display());
                }
                self.prune();
                None
            }
            Err(e) => {
                let message = describe(&e);
                if self.status.note_error(Some(message.clone())) {
                    tracing::warn!(
                        "history: cannot write to {}: {message}; keeping {} exchange(s) in memory and trying again",
                        self.path.display(),
                        self.pending.rows()
                    );
                }
                Some(Instant::now() + RETRY)
            }
        }
    }

    /// Remove the oldest runs while the file is over its cap, and say so.
    fn prune(&mut self) {
        let Ok(mut size) = used_bytes(&self.conn) else {
            return;
        };
        while size > self.max_bytes {
            let oldest: Option<(i64, String, i64)> = self
                .conn
                .query_row(
                    "SELECT id, started_at, exchanges FROM runs WHERE id != ?1 ORDER BY id LIMIT 1",
                    [self.run_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .ok();
            let Some((id, started, count)) = oldest else {
                break;
            };
            if delete_run(&mut self.conn, id).is_err() {
                break;
            }
            let _ = self.conn.execute_batch("PRAGMA incremental_vacuum");
            self.status.note_pruned();
            tracing::warn!(
                "history: removed run {id} (started {started}, {count} exchanges) to keep {} under {:.1} MiB (--history-max-bytes)",
                self.path.display(),
                self.max_bytes as f64 / (1024.0 * 1024.0)
            );
            size = used_bytes(&self.conn).unwrap_or(0);
        }
    }

    fn end_run(&mut self) {
        let _ = self.conn.execute(
            "UPDATE runs SET ended_at = ?1 WHERE id = ?2",
            params![chrono::Utc::now().to_rfc3339(), self.run_id],
        );
    }
}

/// Remove a run and its exchanges, in one transaction (the writer's
/// connection does not enforce the foreign key, so it cascades by hand).
pub(super) fn delete_run(conn: &mut Connection, id: i64) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    let (first, last) = super::schema::run_keys(id);
    tx.execute(
        "DELETE FROM exchanges WHERE rowid BETWEEN ?1 AND ?2",
        [first, last],
    )?;
    tx.execute("DELETE FROM doc_blocks WHERE run_id = ?1", [id])?;
    tx.execute("DELETE FROM runs WHERE id = ?1", [id])?;
    tx.commit()
}

/// Bytes the database uses (free pages excluded).
fn used_bytes(conn: &Connection) -> rusqlite::Result<u64> {
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let free: i64 = conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
    let size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    Ok(((pages - free).max(0) * size) as u64)
}

fn describe(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(f, _) => match f.code {
            rusqlite::ErrorCode::DiskFull => "the disk is full".into(),
            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked => {
                "the database is locked by another process".into()
            }
            rusqlite::ErrorCode::ReadOnly => "the database became read-only".into(),
            rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase => {
                "the database is corrupt".into()
            }
            _ => e.to_string(),
        },
        _ => e.to_string(),
    }
}
