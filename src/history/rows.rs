//! What the writer stores per exchange, and how a batch is written: the
//! summary of each exchange in columns of its own row (listing, stats and
//! the common filters never read documents), the masked exchanges as native
//! JSON packed back to back into zstd-compressed blocks (`doc_blocks`, see
//! [`super::blocks`]), each row pointing at its block, offset and length.

use rusqlite::{Connection, Transaction, params};

use super::blocks::{Block, Pending};
use super::pace::Pace;
use crate::capture::Record;
use crate::export::rfc3339;

/// One exchange as stored: its summary, and where its masked native JSON
/// lies in its block.
pub(super) struct Row {
    pub(super) id: u64,
    started_at: String,
    method: String,
    url: String,
    host: String,
    status: Option<u16>,
    state: &'static str,
    duration_us: Option<u64>,
    kind: Option<&'static str>,
    provider: Option<&'static str>,
    model: Option<String>,
    tokens_in: Option<u64>,
    tokens_out: Option<u64>,
    cost_usd: Option<f64>,
    stop_reason: Option<String>,
    thread_id: Option<u64>,
    client: Option<String>,
    pub(super) doc_offset: u64,
    pub(super) doc_len: u64,
}

impl Row {
    /// Whether any of the summary columns (and the thread) has a value.
    fn has_summary(&self) -> bool {
        self.kind.is_some()
            || self.provider.is_some()
            || self.model.is_some()
            || self.tokens_in.is_some()
            || self.tokens_out.is_some()
            || self.cost_usd.is_some()
            || self.stop_reason.is_some()
            || self.thread_id.is_some()
    }

    /// The row of `record`, whose masked URL is `url` and whose document
    /// is `doc_len` bytes at `doc_offset` of its block.
    pub(super) fn of(record: &Record, url: String, doc_offset: u64, doc_len: u64) -> Row {
        let ex = &record.exchange;
        let s = record.summary.as_ref();
        Row {
            id: ex.id,
            started_at: {
                let mut text = Vec::with_capacity(32);
                rfc3339::write(&ex.started_at, rfc3339::Offset::Numeric, &mut text);
                String::from_utf8(text).unwrap_or_default()
            },
            method: ex.request.method.clone(),
            url,
            host: ex.request.host.clone(),
            status: ex.response.as_ref().map(|r| r.status),
            state: ex.state.label(),
            duration_us: ex.timings.end_us,
            kind: s.map(|s| s.kind.label()),
            provider: s.map(|s| s.provider),
            model: s.and_then(|s| s.model.as_deref().map(str::to_string)),
            tokens_in: s.and_then(|s| s.tokens_in),
            tokens_out: s.and_then(|s| s.tokens_out),
            cost_usd: s.and_then(|s| s.cost_usd),
            stop_reason: s.and_then(|s| s.stop_reason.as_deref().map(str::to_string)),
            thread_id: record.thread.as_ref().map(|t| t.thread_id),
            client: ex.client_app.clone().or_else(|| ex.client_addr.clone()),
            doc_offset,
            doc_len,
        }
    }
}

/// Write what is pending and add it to its run's totals, in one
/// transaction.
pub(super) fn insert(
    conn: &mut Connection,
    run_id: i64,
    pending: &mut Pending,
    pace: &mut Pace,
) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    let (mut tokens_in, mut tokens_out, mut cost) = (0u64, 0u64, 0f64);
    for block in pending.blocks() {
        tx.prepare_cached("INSERT INTO doc_blocks (run_id, data) VALUES (?1, ?2)")?
            .execute(params![run_id, block.data])?;
        insert_rows(&tx, run_id, block, tx.last_insert_rowid(), pace)?;
        for r in &block.rows {
            tokens_in += r.tokens_in.unwrap_or(0);
            tokens_out += r.tokens_out.unwrap_or(0);
            cost += r.cost_usd.unwrap_or(0.0);
        }
    }
    tx.execute(
        "UPDATE runs SET exchanges = exchanges + ?1, tokens_in = tokens_in + ?2,
            tokens_out = tokens_out + ?3, cost_usd = cost_usd + ?4 WHERE id = ?5",
        params![
            pending.rows() as i64,
            tokens_in as i64,
            tokens_out as i64,
            cost,
            run_id
        ],
    )?;
    tx.commit()
}

fn insert_rows(
    tx: &Transaction,
    run_id: i64,
    block: &Block,
    block_id: i64,
    pace: &mut Pace,
) -> rusqlite::Result<()> {
    let mut full = tx.prepare_cached(
        "INSERT OR REPLACE INTO exchanges (rowid, run_id, id, started_at, method, url, host, status,
            state, duration_us, kind, provider, model, tokens_in, tokens_out, cost_usd,
            stop_reason, thread_id, client, doc_bytes, doc, doc_block, doc_offset)
         VALUES (?22, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
            ?18, ?19, x'', ?20, ?21)",
    )?;
    // Most traffic is not LLM traffic: its summary columns are left NULL
    // by not naming them, rather than bound to NULL one by one (binding
    // was a tenth of the writer's SQLite time).
    let mut plain = tx.prepare_cached(
        "INSERT OR REPLACE INTO exchanges (rowid, run_id, id, started_at, method, url, host, status,
            state, duration_us, client, doc_bytes, doc, doc_block, doc_offset)
         VALUES (?14, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, x'', ?12, ?13)",
    )?;
    for r in &block.rows {
        pace.breathe();
        let key = super::schema::key(run_id, r.id);
        if r.has_summary() {
            full.execute(params![
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
                r.doc_len as i64,
                block_id,
                r.doc_offset as i64,
                key,
            ])?;
        } else {
            plain.execute(params![
                run_id,
                r.id as i64,
                r.started_at,
                r.method,
                r.url,
                r.host,
                r.status,
                r.state,
                r.duration_us.map(|d| d as i64),
                r.client,
                r.doc_len as i64,
                block_id,
                r.doc_offset as i64,
                key,
            ])?;
        }
    }
    Ok(())
}
