//! What the writer stores per exchange, and how a batch is written: the
//! summary of each exchange in columns of its own row (listing, stats and
//! the common filters never read documents), the masked exchanges as native
//! JSON packed back to back into zstd-compressed blocks (`doc_blocks`), each
//! row pointing at its block, offset and length.

use rusqlite::{Connection, Transaction, params};

use crate::capture::Record;

/// Documents are compressed at zstd's fastest level: JSON of one
/// conversation still shrinks several times over, and the writer's CPU is
/// CPU the relay does not get.
const ZSTD_LEVEL: i32 = 1;
/// A block holds at most this much JSON (a bigger document gets a block of
/// its own): reading one exchange back decompresses its whole block, and
/// the writer holds a block and its compressed copy while packing.
const BLOCK_MAX: usize = 1024 * 1024;

/// One exchange as stored: its summary, and its masked native JSON.
pub(super) struct Row {
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
    /// The size of its document (what it holds in memory until written).
    pub(super) fn doc_len(&self) -> usize {
        self.doc.len()
    }

    pub(super) fn of(record: &Record) -> Row {
        let masked = crate::redact::redact(&record.exchange).exchange;
        let doc = serde_json::to_vec(&crate::export::native::to_json(&masked)).unwrap_or_default();
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

/// Builds compressed blocks, reusing one compression context and one
/// buffer for every block (making a context per call, allocating and
/// clearing its tables, cost more than compressing).
pub(super) struct Packer {
    compressor: Option<zstd::bulk::Compressor<'static>>,
    block: Vec<u8>,
    packed: Vec<u8>,
}

impl Packer {
    pub(super) fn new() -> Packer {
        Packer {
            compressor: zstd::bulk::Compressor::new(ZSTD_LEVEL).ok(),
            block: Vec::new(),
            packed: Vec::new(),
        }
    }

    /// Write `docs` as one block; its rowid.
    fn write_block<'a>(
        &mut self,
        tx: &Transaction,
        run_id: i64,
        docs: impl Iterator<Item = &'a [u8]>,
    ) -> rusqlite::Result<i64> {
        self.block.clear();
        for doc in docs {
            self.block.extend_from_slice(doc);
        }
        self.packed.clear();
        self.packed
            .reserve(zstd::zstd_safe::compress_bound(self.block.len()));
        let compressed = self
            .compressor
            .as_mut()
            .is_some_and(|c| c.compress_to_buffer(&self.block, &mut self.packed).is_ok());
        let data: &[u8] = if compressed {
            &self.packed
        } else {
            &self.block
        };
        tx.prepare_cached("INSERT INTO doc_blocks (run_id, data) VALUES (?1, ?2)")?
            .execute(params![run_id, data])?;
        Ok(tx.last_insert_rowid())
    }
}

/// Write `rows` and add them to their run's totals, in one transaction.
pub(super) fn insert(
    conn: &mut Connection,
    run_id: i64,
    rows: &[Row],
    packer: &mut Packer,
) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    for group in blocks(rows) {
        let block = packer.write_block(&tx, run_id, group.iter().map(|r| r.doc.as_slice()))?;
        insert_rows(&tx, run_id, group, block)?;
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

/// `rows` cut into runs whose documents fit one block (a document bigger
/// than a block is a run of its own).
fn blocks(rows: &[Row]) -> impl Iterator<Item = &[Row]> {
    let mut rest = rows;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut size = 0;
        let mut n = 0;
        for r in rest {
            if n > 0 && size + r.doc.len() > BLOCK_MAX {
                break;
            }
            size += r.doc.len();
            n += 1;
        }
        let (group, tail) = rest.split_at(n);
        rest = tail;
        Some(group)
    })
}

fn insert_rows(tx: &Transaction, run_id: i64, rows: &[Row], block: i64) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT OR REPLACE INTO exchanges (run_id, id, started_at, method, url, host, status, state,
            duration_us, kind, provider, model, tokens_in, tokens_out, cost_usd, stop_reason,
            thread_id, client, doc_bytes, doc, doc_block, doc_offset)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
            ?19, x'', ?20, ?21)",
    )?;
    let mut offset = 0usize;
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
            block,
            offset as i64,
        ])?;
        offset += r.doc.len();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(doc_len: usize) -> Row {
        let record = Record {
            exchange: crate::exchange::Exchange::builder().build(),
            summary: None,
            thread: None,
        };
        Row {
            doc: vec![b'x'; doc_len],
            ..Row::of(&record)
        }
    }

    #[test]
    fn blocks_hold_at_most_their_cap_and_big_documents_alone() {
        let rows = vec![
            row(BLOCK_MAX / 2),
            row(BLOCK_MAX / 2),
            row(1),
            row(BLOCK_MAX * 2),
            row(1),
        ];
        let sizes: Vec<usize> = blocks(&rows).map(<[Row]>::len).collect();
        assert_eq!(sizes, vec![2, 1, 1, 1]);
        assert_eq!(blocks(&[]).count(), 0);
    }
}
