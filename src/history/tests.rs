//! A history written before documents went into blocks still reads back
//! after the migration, next to rows written since.

use std::sync::Arc;

use rusqlite::{Connection, params};

use super::{RunInfo, reader, schema, start};
use crate::capture::{Record, SinkMsg};
use crate::exchange::Exchange;

fn record(id: u64, path: &str) -> Arc<Record> {
    Arc::new(Record {
        exchange: Exchange::builder()
            .id(id)
            .url(&format!("https://api.example.com{path}"))
            .status(200)
            .response_body(format!("answer to {path}").into_bytes())
            .build(),
        summary: None,
        thread: None,
    })
}

/// A file as the first schema left it: one run, one exchange whose
/// document is inline (uncompressed, as small ones were).
fn version_1_file(path: &std::path::Path) {
    let conn = Connection::open(path).expect("open");
    conn.execute_batch(schema::MIGRATIONS[0]).expect("schema 1");
    conn.pragma_update(None, "user_version", 1)
        .expect("version");
    conn.execute(
        "INSERT INTO runs (started_at, listen, version, pid, exchanges) VALUES ('2026-12-01T10:00:00+00:00', 'x', 'old', 1, 1)",
        [],
    )
    .expect("run");
    let old = record(1, "/old");
    let doc = serde_json::to_vec(&crate::export::native::to_json(&old.exchange)).expect("json");
    conn.execute(
        "INSERT INTO exchanges (run_id, id, started_at, method, url, host, state, doc_bytes, doc)
         VALUES (1, 1, '2026-12-01T10:00:01+00:00', 'POST', 'https://api.example.com/old', 'api.example.com', 'complete', ?1, ?2)",
        params![doc.len() as i64, doc],
    )
    .expect("exchange");
}

#[test]
fn rows_from_before_the_blocks_read_back_beside_new_ones() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("history.sqlite");
    version_1_file(&path);
    let run = RunInfo {
        listen: "127.0.0.1:0".into(),
        version: "new".into(),
    };
    let history = start(&path, &run, u64::MAX).expect("start on an old file");
    for (id, p) in [(1, "/new-1"), (2, "/new-2"), (3, "/new-3")] {
        history
            .sink
            .send(SinkMsg::Finished(record(id, p)))
            .expect("send");
    }
    history.finish();

    let conn = reader::connect(&path).expect("read");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(version, schema::VERSION);
    let all = reader::exchanges(&conn, &reader::Query::default()).expect("exchanges");
    let paths: Vec<&str> = all.iter().map(|e| e.request.path.as_str()).collect();
    assert_eq!(paths, ["/old", "/new-1", "/new-2", "/new-3"]);
    let body = |i: usize| {
        String::from_utf8_lossy(&all[i].response.as_ref().expect("response").body.bytes).to_string()
    };
    assert_eq!(body(0), "answer to /old");
    assert_eq!(body(3), "answer to /new-3");
    let blocks: i64 = conn
        .query_row("SELECT count(*) FROM doc_blocks", [], |r| r.get(0))
        .expect("blocks");
    assert_eq!(blocks, 1, "the three new documents share one block");
}

#[test]
fn a_row_pointing_outside_its_block_is_reported_by_row() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("history.sqlite");
    let run = RunInfo {
        listen: "127.0.0.1:0".into(),
        version: "new".into(),
    };
    let history = start(&path, &run, u64::MAX).expect("start");
    history
        .sink
        .send(SinkMsg::Finished(record(1, "/a")))
        .expect("send");
    history.finish();
    let conn = reader::connect(&path).expect("read");
    conn.execute("UPDATE exchanges SET doc_offset = 1000000", [])
        .expect("damage");
    let err = reader::exchanges(&conn, &reader::Query::default()).expect_err("damaged");
    let text = err.to_string();
    assert!(
        text.contains("history row 1") && text.contains("outside block"),
        "{text}"
    );
}
