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
            method: ex.request.method.to_string(),
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
    // Parameters 1–14 are the same in both statements; 15–22 are the
    // summary's.
    let mut full = tx.prepare_cached(
        "INSERT OR REPLACE INTO exchanges (rowid, run_id, id, started_at, method, url, host, status,
            state, duration_us, client, doc_bytes, doc, doc_block, doc_offset,
            kind, provider, model, tokens_in, tokens_out, cost_usd, stop_reason, thread_id)
         VALUES (?14, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, x'', ?12, ?13,
            ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
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
        let with_summary = r.has_summary();
        let stmt = if with_summary { &mut full } else { &mut plain };
        stmt.raw_bind_parameter(1, run_id)?;
        stmt.raw_bind_parameter(2, r.id as i64)?;
        stmt.raw_bind_parameter(3, &r.started_at)?;
        stmt.raw_bind_parameter(4, &r.method)?;
        stmt.raw_bind_parameter(5, &r.url)?;
        stmt.raw_bind_parameter(6, &r.host)?;
        stmt.raw_bind_parameter(7, r.status)?;
        stmt.raw_bind_parameter(8, r.state)?;
        stmt.raw_bind_parameter(9, r.duration_us.map(|d| d as i64))?;
        stmt.raw_bind_parameter(10, &r.client)?;
        stmt.raw_bind_parameter(11, r.doc_len as i64)?;
        stmt.raw_bind_parameter(12, block_id)?;
        stmt.raw_bind_parameter(13, r.doc_offset as i64)?;
        stmt.raw_bind_parameter(14, super::schema::key(run_id, r.id))?;
        if with_summary {
            stmt.raw_bind_parameter(15, r.kind)?;
            stmt.raw_bind_parameter(16, r.provider)?;
            stmt.raw_bind_parameter(17, &r.model)?;
            stmt.raw_bind_parameter(18, r.tokens_in.map(|t| t as i64))?;
            stmt.raw_bind_parameter(19, r.tokens_out.map(|t| t as i64))?;
            stmt.raw_bind_parameter(20, r.cost_usd)?;
            stmt.raw_bind_parameter(21, &r.stop_reason)?;
            stmt.raw_bind_parameter(22, r.thread_id.map(|t| t as i64))?;
        }
        stmt.raw_execute()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::Exchange;
    use crate::llm::{Kind, Summary};

    /// Every third exchange an LLM call with its summary, the others plain.
    fn record(id: u64) -> Record {
        let exchange = Exchange::builder()
            .id(id)
            .method(if id.is_multiple_of(2) { "GET" } else { "POST" })
            .url(&format!("https://host{}.example/p/{id}", id % 5))
            .status(200 + (id % 3) as u16)
            .client_app(format!("app{id}"))
            .build();
        let summary = id.is_multiple_of(3).then(|| Summary {
            kind: Kind::Anthropic,
            provider: "anthropic",
            model: Some(format!("model-{id}").into()),
            stream: false,
            tokens_in: Some(id * 10),
            tokens_out: id.is_multiple_of(2).then_some(id),
            cost_usd: Some(id as f64 / 100.0),
            stop_reason: Some("end_turn".into()),
            error: false,
            tools: Vec::new().into(),
            mcp_method: None,
            mcp_tool: None,
            thinking: false,
        });
        Record {
            exchange,
            summary,
            thread: None,
        }
    }

    type Columns = (
        i64,
        String,
        String,
        String,
        Option<i64>,
        Option<String>,
        Option<String>,
        Option<i64>,
        Option<i64>,
        Option<f64>,
        Option<String>,
        Option<String>,
    );

    /// What each row should hold, read as the reader reads columns.
    fn expected(id: u64) -> Columns {
        let r = record(id);
        let s = r.summary.as_ref();
        (
            id as i64,
            r.exchange.request.method.to_string(),
            r.exchange.url(),
            r.exchange.request.host.clone(),
            r.exchange.response.as_ref().map(|x| i64::from(x.status)),
            s.map(|s| s.kind.label().to_string()),
            s.and_then(|s| s.model.as_deref().map(str::to_string)),
            s.and_then(|s| s.tokens_in.map(|t| t as i64)),
            s.and_then(|s| s.tokens_out.map(|t| t as i64)),
            s.and_then(|s| s.cost_usd),
            s.and_then(|s| s.stop_reason.as_deref().map(str::to_string)),
            r.exchange.client_app.clone(),
        )
    }

    #[test]
    fn rows_inserted_many_per_statement_and_one_by_one_hold_their_own_values() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut conn = super::super::open::writable(&dir.path().join("h.sqlite")).expect("open");
        conn.execute(
            "INSERT INTO runs (started_at, listen, version, pid) VALUES ('t', 'l', 'v', 1)",
            [],
        )
        .expect("run");
        let run_id = conn.last_insert_rowid();
        // LLM rows among plain ones, in two batches.
        let n = 71;
        for ids in [1..=n, n + 1..=n + 3] {
            let mut pending = Pending::new();
            for id in ids {
                pending.push(&record(id));
            }
            insert(&mut conn, run_id, &mut pending, &mut Pace::new()).expect("insert");
        }
        let mut stmt = conn
            .prepare(
                "SELECT id, method, url, host, status, kind, model, tokens_in, tokens_out,
                    cost_usd, stop_reason, client FROM exchanges ORDER BY rowid",
            )
            .expect("select");
        let got: Vec<Columns> = stmt
            .query_map([], |r| Columns::try_from(r))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        let want: Vec<Columns> = (1..=n + 3).map(expected).collect();
        assert_eq!(got, want);
        let (count, tokens_in): (i64, i64) = conn
            .query_row("SELECT exchanges, tokens_in FROM runs", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .expect("run totals");
        assert_eq!(count, (n + 3) as i64);
        let want_tokens: u64 = (1..=n + 3)
            .filter(|id| id.is_multiple_of(3))
            .map(|id| id * 10)
            .sum();
        assert_eq!(tokens_in, want_tokens as i64);
    }
}
