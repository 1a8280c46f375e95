//! Reading the history: the runs, usage summed by day, provider and model,
//! and the exchanges themselves (decoded back from their stored JSON) for
//! export and `llmspy open`. Listing and stats read columns only.

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::Serialize;

use super::{HistoryError, open, schema};
use crate::exchange::Exchange;

/// One run of llmspy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    pub id: i64,
    pub started_at: String,
    /// `None` while it runs, or when it was killed.
    pub ended_at: Option<String>,
    pub listen: String,
    pub version: String,
    pub pid: i64,
    pub exchanges: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub cost_usd: f64,
}

impl RunRow {
    /// `ended`, `running`, or `stopped abruptly` (no end recorded and its
    /// process is gone).
    pub fn state(&self) -> &'static str {
        match &self.ended_at {
            Some(_) => "ended",
            None if process_alive(self.pid) => "running",
            None => "stopped abruptly",
        }
    }
}

fn process_alive(pid: i64) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Usage of one day, provider and model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatRow {
    pub day: String,
    pub provider: String,
    pub model: String,
    pub calls: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    /// Exchanges whose cost is unknown are counted here and not in `cost_usd`.
    pub cost_unknown: i64,
    pub cost_usd: f64,
}

/// Which exchanges to read back.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub run: Option<i64>,
    pub since: Option<DateTime<Utc>>,
}

pub fn connect(path: &Path) -> Result<Connection, HistoryError> {
    open::readable(path)
}

pub fn runs(conn: &Connection) -> Result<Vec<RunRow>, HistoryError> {
    let mut stmt = conn.prepare(
        "SELECT id, started_at, ended_at, listen, version, pid, exchanges, tokens_in, tokens_out, cost_usd
         FROM runs ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(RunRow {
            id: r.get(0)?,
            started_at: r.get(1)?,
            ended_at: r.get(2)?,
            listen: r.get(3)?,
            version: r.get(4)?,
            pid: r.get(5)?,
            exchanges: r.get(6)?,
            tokens_in: r.get(7)?,
            tokens_out: r.get(8)?,
            cost_usd: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// LLM usage by day (UTC), provider and model, oldest first.
pub fn stats(
    conn: &Connection,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<StatRow>, HistoryError> {
    let mut stmt = conn.prepare(
        "SELECT substr(started_at, 1, 10) AS day, provider, coalesce(model, '?'), count(*),
                coalesce(sum(tokens_in), 0), coalesce(sum(tokens_out), 0),
                sum(cost_usd IS NULL), coalesce(sum(cost_usd), 0)
         FROM exchanges
         WHERE provider IS NOT NULL AND provider != 'mcp' AND started_at >= ?1
         GROUP BY day, provider, model ORDER BY day, provider, model",
    )?;
    let since = since.map(|s| s.to_rfc3339()).unwrap_or_default();
    let rows = stmt.query_map([since], |r| {
        Ok(StatRow {
            day: r.get(0)?,
            provider: r.get(1)?,
            model: r.get(2)?,
            calls: r.get(3)?,
            tokens_in: r.get(4)?,
            tokens_out: r.get(5)?,
            cost_unknown: r.get(6)?,
            cost_usd: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The exchanges `q` selects, oldest first, renumbered 1.. in that order
/// (each run's own ids start at 1 again, so they would collide).
///
/// Each run's exchanges are one key range, read in id order. With
/// `since`, runs that ended before it are not read at all; within the
/// others each row's start time is compared.
pub fn exchanges(conn: &Connection, q: &Query) -> Result<Vec<Exchange>, HistoryError> {
    let since = q.since.map(|s| s.to_rfc3339());
    let runs: Vec<i64> = conn
        .prepare(
            "SELECT id FROM runs WHERE (?1 IS NULL OR id = ?1)
                AND (?2 IS NULL OR ended_at IS NULL OR ended_at >= ?2) ORDER BY id",
        )?
        .query_map(params![q.run, since], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare(
        "SELECT rowid, doc, doc_block, doc_offset, doc_bytes FROM exchanges
         WHERE rowid BETWEEN ?1 AND ?2 AND (?3 IS NULL OR started_at >= ?3) ORDER BY rowid",
    )?;
    let mut blocks = Blocks::default();
    let mut out = Vec::new();
    for run in runs {
        let (first, last) = schema::run_keys(run);
        let mut rows = stmt.query(params![first, last, since])?;
        while let Some(row) = rows.next()? {
            let key: i64 = row.get(0)?;
            let block: Option<i64> = row.get(2)?;
            let mut ex = match block {
                // Rows written before documents went into blocks.
                None => decode(key, &row.get::<_, Vec<u8>>(1)?)?,
                Some(block) => {
                    let offset: i64 = row.get(3)?;
                    let len: i64 = row.get(4)?;
                    let doc = blocks.slice(conn, key, block, offset, len)?;
                    decode(key, doc)?
                }
            };
            ex.id = out.len() as u64 + 1;
            out.push(ex);
        }
    }
    Ok(out)
}

/// The error of the row keyed `key`, named by its run and exchange.
fn row_error(key: i64, message: String) -> HistoryError {
    let (run, id) = schema::run_and_id(key);
    HistoryError::Row { run, id, message }
}

/// The last block read, decompressed: rows come in the order they were
/// written, so consecutive rows share it.
#[derive(Default)]
struct Blocks {
    id: Option<i64>,
    data: Vec<u8>,
}

impl Blocks {
    fn slice(
        &mut self,
        conn: &Connection,
        rowid: i64,
        block: i64,
        offset: i64,
        len: i64,
    ) -> Result<&[u8], HistoryError> {
        let err = |message: String| row_error(rowid, message);
        if self.id != Some(block) {
            let data: Vec<u8> = conn
                .query_row(
                    "SELECT data FROM doc_blocks WHERE rowid = ?1",
                    [block],
                    |r| r.get(0),
                )
                .map_err(|e| err(format!("its document block {block}: {e}")))?;
            self.data = unpack(&data).map_err(|e| err(format!("cannot decompress: {e}")))?;
            self.id = Some(block);
        }
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let end = start.saturating_add(usize::try_from(len).unwrap_or(usize::MAX));
        self.data.get(start..end).ok_or_else(|| {
            err(format!(
                "its document ({len} bytes at {offset}) lies outside block {block} ({} bytes)",
                self.data.len()
            ))
        })
    }
}

/// zstd frames carry a magic number; anything else is stored as it is.
fn is_zstd(data: &[u8]) -> bool {
    data.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
}

fn unpack(data: &[u8]) -> std::io::Result<Vec<u8>> {
    if is_zstd(data) {
        zstd::decode_all(data)
    } else {
        Ok(data.to_vec())
    }
}

fn decode(rowid: i64, doc: &[u8]) -> Result<Exchange, HistoryError> {
    let err = |message: String| row_error(rowid, message);
    let unpacked;
    let json = if is_zstd(doc) {
        unpacked = zstd::decode_all(doc).map_err(|e| err(format!("cannot decompress: {e}")))?;
        unpacked.as_slice()
    } else {
        doc
    };
    let value: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| err(format!("not JSON: {e}")))?;
    crate::export::native::parse_exchange(value).map_err(err)
}

/// `--since`: an RFC 3339 time, a date (`2026-12-01`, midnight UTC), or a
/// span back from now (`30m`, `6h`, `7d`).
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(t) {
        return Ok(at.with_timezone(&Utc));
    }
    if let Ok(day) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(day.and_hms_opt(0, 0, 0).map(|d| d.and_utc()).unwrap_or(now));
    }
    let (number, unit) = t.split_at(t.len().saturating_sub(1));
    let n: i64 = number
        .parse()
        .map_err(|_| format!("--since {text}: expected a time (2026-12-01T10:00:00Z), a date (2026-12-01) or a span (30m, 6h, 7d)"))?;
    let span = match unit {
        "m" => chrono::Duration::minutes(n),
        "h" => chrono::Duration::hours(n),
        "d" => chrono::Duration::days(n),
        "w" => chrono::Duration::weeks(n),
        _ => return Err(format!("--since {text}: a span ends in m, h, d or w")),
    };
    Ok(now - span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_times_dates_and_spans() {
        let now = DateTime::parse_from_rfc3339("2026-12-05T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_since("6h", now).unwrap().to_rfc3339(),
            "2026-12-05T06:00:00+00:00"
        );
        assert_eq!(
            parse_since("2d", now).unwrap().to_rfc3339(),
            "2026-12-03T12:00:00+00:00"
        );
        assert_eq!(
            parse_since("2026-12-01", now).unwrap().to_rfc3339(),
            "2026-12-01T00:00:00+00:00"
        );
        assert!(
            parse_since("yesterday", now)
                .unwrap_err()
                .contains("--since yesterday")
        );
        assert!(parse_since("5y", now).is_err());
    }
}
