//! The history database's schema, versioned with `PRAGMA user_version`:
//! each migration runs once, in order, in one transaction. A database newer
//! than this llmspy is refused with a message naming both versions.

use rusqlite::{Connection, TransactionBehavior};

use super::HistoryError;

/// Each step brings the schema from version `i` to `i + 1`.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: runs, exchanges with the analysis summary in columns (so listing,
    //    stats and the common filters never parse bodies), the whole
    //    exchange as compressed native JSON.
    "CREATE TABLE runs (
        id          INTEGER PRIMARY KEY,
        started_at  TEXT NOT NULL,
        ended_at    TEXT,
        listen      TEXT NOT NULL,
        version     TEXT NOT NULL,
        pid         INTEGER NOT NULL,
        exchanges   INTEGER NOT NULL DEFAULT 0,
        tokens_in   INTEGER NOT NULL DEFAULT 0,
        tokens_out  INTEGER NOT NULL DEFAULT 0,
        cost_usd    REAL NOT NULL DEFAULT 0
    );
    CREATE TABLE exchanges (
        rowid       INTEGER PRIMARY KEY,
        run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        id          INTEGER NOT NULL,
        started_at  TEXT NOT NULL,
        method      TEXT NOT NULL,
        url         TEXT NOT NULL,
        host        TEXT NOT NULL,
        status      INTEGER,
        state       TEXT NOT NULL,
        duration_us INTEGER,
        kind        TEXT,
        provider    TEXT,
        model       TEXT,
        tokens_in   INTEGER,
        tokens_out  INTEGER,
        cost_usd    REAL,
        stop_reason TEXT,
        thread_id   INTEGER,
        client      TEXT,
        doc_bytes   INTEGER NOT NULL,
        doc         BLOB NOT NULL,
        UNIQUE (run_id, id)
    );
    CREATE INDEX exchanges_by_time ON exchanges (started_at);
    CREATE INDEX exchanges_by_run ON exchanges (run_id, id);",
    // 2: `UNIQUE (run_id, id)` already indexes those columns; the second
    //    index on them only cost every insert another B-tree update.
    "DROP INDEX exchanges_by_run;",
    // 3: documents in compressed blocks, one or more per written batch.
    //    Turns of one conversation repeat most of each other (the history,
    //    the system prompt, the tools), so a block compresses far better
    //    than each document alone, and a row without its document is small:
    //    together a third of the writer's work. Earlier rows keep theirs in
    //    `doc` (`doc_block` NULL).
    "CREATE TABLE doc_blocks (
        rowid   INTEGER PRIMARY KEY,
        run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        data    BLOB NOT NULL
    );
    CREATE INDEX doc_blocks_by_run ON doc_blocks (run_id);
    ALTER TABLE exchanges ADD COLUMN doc_block INTEGER;
    ALTER TABLE exchanges ADD COLUMN doc_offset INTEGER;",
    // 4: each row keyed by its run and id (see [`key`]) and no index
    //    besides. The unique (run_id, id) index and the started_at index
    //    were two more B-trees written for every exchange: without them
    //    the writer spends about an eighth less CPU per exchange and a
    //    file of small exchanges is 29% smaller. A run's exchanges are one
    //    key range, read back in id order without sorting; `--since`
    //    skips the runs that ended before it (see `reader::exchanges`).
    "CREATE TABLE exchanges_keyed (
        rowid       INTEGER PRIMARY KEY,
        run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        id          INTEGER NOT NULL,
        started_at  TEXT NOT NULL,
        method      TEXT NOT NULL,
        url         TEXT NOT NULL,
        host        TEXT NOT NULL,
        status      INTEGER,
        state       TEXT NOT NULL,
        duration_us INTEGER,
        kind        TEXT,
        provider    TEXT,
        model       TEXT,
        tokens_in   INTEGER,
        tokens_out  INTEGER,
        cost_usd    REAL,
        stop_reason TEXT,
        thread_id   INTEGER,
        client      TEXT,
        doc_bytes   INTEGER NOT NULL,
        doc         BLOB NOT NULL,
        doc_block   INTEGER,
        doc_offset  INTEGER
    );
    INSERT INTO exchanges_keyed
        SELECT (run_id << 40) | id, run_id, id, started_at, method, url, host, status, state,
            duration_us, kind, provider, model, tokens_in, tokens_out, cost_usd, stop_reason,
            thread_id, client, doc_bytes, doc, doc_block, doc_offset
        FROM exchanges;
    DROP TABLE exchanges;
    ALTER TABLE exchanges_keyed RENAME TO exchanges;",
];

/// Bits of a row's key that hold the exchange's id; the run's id is above
/// them. 2^40 exchanges in one run is more than a year at 30,000 a second.
const ID_BITS: u32 = 40;
const ID_MASK: u64 = (1 << ID_BITS) - 1;

/// The key (`rowid`) of exchange `id` of run `run_id`.
pub(super) fn key(run_id: i64, id: u64) -> i64 {
    (run_id << ID_BITS) | (id & ID_MASK) as i64
}

/// The first and last key a run's exchanges can have.
pub(super) fn run_keys(run_id: i64) -> (i64, i64) {
    (key(run_id, 0), key(run_id, ID_MASK))
}

/// The run and exchange a key names.
pub(super) fn run_and_id(key: i64) -> (i64, u64) {
    (key >> ID_BITS, key as u64 & ID_MASK)
}

pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// Bring `conn` to the current schema, one step per transaction. Each
/// step takes the write lock before it reads the version, so two llmspy
/// processes starting together on an older file migrate it once: the
/// second, which waited for the lock, finds each step done. (Reading the
/// version first, the second ran a step again once the first let go, and
/// a step adding a column then failed on the column being there.)
pub fn migrate(conn: &mut Connection) -> Result<(), HistoryError> {
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found > VERSION {
            return Err(HistoryError::Newer {
                found,
                supported: VERSION,
            });
        }
        let Some(sql) = MIGRATIONS.get(found as usize) else {
            return Ok(());
        };
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", found + 1)?;
        tx.commit()?;
    }
}
