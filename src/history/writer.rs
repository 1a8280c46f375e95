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

use super::start::RunInfo;
use super::status::HistoryStatus;
use super::{HistoryError, open};
use crate::capture::{Record, SinkMsg};

/// How long finished exchanges wait to share a transaction.
const BATCH_WINDOW: Duration = Duration::from_millis(50);
const BATCH_MAX: usize = 256;
/// A failed write is tried again after this.
const RETRY: Duration = Duration::from_secs(1);
/// Exchanges held in memory while the database refuses them.
const PENDING_MAX: usize = 10_000;
/// Documents are compressed at zstd's fastest level: text still shrinks
/// well, and the writer's CPU is CPU the relay does not get.
const ZSTD_LEVEL: i32 = 1;
/// Smaller documents are stored as they are: compressing them costs more
/// time than it saves space.
const COMPRESS_FROM: usize = 2048;

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
        pending: Vec::new(),
    })
}

pub(super) struct Writer {
    conn: Connection,
    run_id: i64,
    max_bytes: u64,
    status: Arc<HistoryStatus>,
    path: PathBuf,
    /// Finished exchanges not yet written (masked and compressed).
    pending: Vec<Row>,
}

impl Writer {
    pub(super) async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<SinkMsg>,
        mut end: oneshot::Receiver<()>,
    ) {
        let mut deadline: Option<Instant> = None;
        loop {
            let wake = deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                msg = rx.recv() => match msg {
                    Some(SinkMsg::Finished(record)) => {
                        self.queue(&record);
                        if self.pending.len() >= BATCH_MAX {
                            deadline = self.write();
                        } else if deadline.is_none() {
                            deadline = Some(Instant::now() + BATCH_WINDOW);
                        }
                    }
                    Some(SinkMsg::Flush(done)) => {
                        deadline = self.write();
                        let _ = done.send(());
                    }
                    None => break,
                },
                _ = tokio::time::sleep_until(wake), if deadline.is_some() => {
                    deadline = self.write();
                }
                _ = &mut end => break,
            }
        }
        // Whatever arrived before the end is written now.
        while let Ok(SinkMsg::Finished(record)) = rx.try_recv() {
            self.queue(&record);
        }
        self.write();
        self.end_run();
    }

    fn queue(&mut self, record: &Record) {
        self.pending.push(Row::of(record));
        if self.pending.len() > PENDING_MAX {
            let extra = self.pending.len() - PENDING_MAX;
            self.pending.drain(..extra);
            self.status.note_dropped(extra);
        }
        self.status.note_pending(self.pending.len());
    }

    /// Write what is pending; when to try again, if anything is left.
    fn write(&mut self) -> Option<Instant> {
        if self.pending.is_empty() {
            return None;
        }
        match insert(&mut self.conn, self.run_id, &self.pending) {
            Ok(()) => {
                let n = self.pending.len();
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
                        self.pending.len()
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
            if self
                .conn
                .execute("DELETE FROM runs WHERE id = ?1", [id])
                .is_err()
            {
                break;
            }
            let _ = self.conn.execute_batch("PRAGMA incremental_vacuum");
            self.status.note_pruned();
            tracing::warn!(
                "history: removed run {id} (started {started}, {count} exchanges) to keep {} under {} MiB (--history-max-bytes)",
                self.path.display(),
                self.max_bytes / (1024 * 1024)
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

/// One exchange as stored: its summary in columns, the masked exchange as
/// compressed native JSON.
struct Row {
    id: u64,
    started_at: String,
    method: String,
    url: String,
    host: String,
    status: Option<u16>,
    state: &'static str,
    duration_us: Option<u64>,
    kind: Option<String>,
    provider: Option<&'static str>,
    model: Option<String>,
    tokens_in: Option<u64>,
    tokens_out: Option<u64>,
    cost_usd: Option<f64>,
    stop_reason: Option<String>,
    thread_id: Option<u64>,
    client: Option<String>,
    doc: Vec<u8>,
}

impl Row {
    fn of(record: &Record) -> Row {
        let masked = crate::redact::redact(&record.exchange).exchange;
        let json = serde_json::to_vec(&crate::export::native::to_json(&masked)).unwrap_or_default();
        let doc = if json.len() < COMPRESS_FROM {
            json
        } else {
            zstd::encode_all(json.as_slice(), ZSTD_LEVEL).unwrap_or(json)
        };
        let ex = &record.exchange;
        let s = record.summary.as_ref();
        Row {
            id: ex.id,
            started_at: ex.started_at.to_rfc3339(),
            method: ex.request.method.clone(),
            url: masked.url(),
            host: ex.request.host.clone(),
            status: ex.response.as_ref().map(|r| r.status),
            state: ex.state.label(),
            duration_us: ex.timings.end_us,
            kind: s.and_then(|s| {
                serde_json::to_value(s.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
            }),
            provider: s.map(|s| s.provider),
            model: s.and_then(|s| s.model.as_deref().map(str::to_string)),
            tokens_in: s.and_then(|s| s.tokens_in),
            tokens_out: s.and_then(|s| s.tokens_out),
            cost_usd: s.and_then(|s| s.cost_usd),
            stop_reason: s.and_then(|s| s.stop_reason.as_deref().map(str::to_string)),
            thread_id: record.thread.as_ref().map(|t| t.thread_id),
            client: ex.client_app.clone().or_else(|| ex.client_addr.clone()),
            doc,
        }
    }
}

fn insert(conn: &mut Connection, run_id: i64, rows: &[Row]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare_cached(
            "INSERT OR REPLACE INTO exchanges (run_id, id, started_at, method, url, host, status, state,
                duration_us, kind, provider, model, tokens_in, tokens_out, cost_usd, stop_reason,
                thread_id, client, doc_bytes, doc)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
        )?;
        for r in rows {
            stmt.execute(params![
                run_id,
                r.id as i64,
                r.started_at,
                r.method,
                r.url,
                r.host,
                r.status,
                r.state,
                r.duration_us.map(|d| d as i64),
                r.kind,
                r.provider,
                r.model,
                r.tokens_in.map(|t| t as i64),
                r.tokens_out.map(|t| t as i64),
                r.cost_usd,
                r.stop_reason,
                r.thread_id.map(|t| t as i64),
                r.client,
                r.doc.len() as i64,
                r.doc,
            ])?;
        }
    }
    let tokens_in: u64 = rows.iter().filter_map(|r| r.tokens_in).sum();
    let tokens_out: u64 = rows.iter().filter_map(|r| r.tokens_out).sum();
    let cost: f64 = rows.iter().filter_map(|r| r.cost_usd).sum();
    tx.execute(
        "UPDATE runs SET exchanges = exchanges + ?1, tokens_in = tokens_in + ?2,
            tokens_out = tokens_out + ?3, cost_usd = cost_usd + ?4 WHERE id = ?5",
        params![
            rows.len() as i64,
            tokens_in as i64,
            tokens_out as i64,
            cost,
            run_id
        ],
    )?;
    tx.commit()
}
