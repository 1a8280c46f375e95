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
        text.contains("history run 1, exchange 1:") && text.contains("outside block"),
        "{text}"
    );
}

fn timed(id: u64, path: &str, started_at: &str) -> Arc<Record> {
    let mut record = Arc::unwrap_or_clone(record(id, path));
    record.exchange.started_at = started_at.parse().expect("time");
    Arc::new(record)
}

/// One run on `path` whose exchanges finish in the order given.
fn a_run(path: &std::path::Path, records: Vec<Arc<Record>>) {
    let run = RunInfo {
        listen: "127.0.0.1:0".into(),
        version: "test".into(),
    };
    let history = start(path, &run, u64::MAX).expect("start");
    for r in records {
        history.sink.send(SinkMsg::Finished(r)).expect("send");
    }
    history.finish();
}

fn paths(conn: &Connection, q: &reader::Query) -> Vec<String> {
    reader::exchanges(conn, q)
        .expect("exchanges")
        .into_iter()
        .map(|e| e.request.path)
        .collect()
}

#[test]
fn runs_read_back_in_id_order_whatever_order_their_exchanges_finished_in() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("history.sqlite");
    // A long stream (id 1) finishes after the requests that followed it.
    a_run(
        &path,
        vec![record(2, "/a2"), record(3, "/a3"), record(1, "/a1")],
    );
    a_run(&path, vec![record(2, "/b2"), record(1, "/b1")]);
    let conn = reader::connect(&path).expect("read");
    assert_eq!(
        paths(&conn, &reader::Query::default()),
        ["/a1", "/a2", "/a3", "/b1", "/b2"]
    );
    let second = reader::Query {
        run: Some(2),
        ..reader::Query::default()
    };
    assert_eq!(paths(&conn, &second), ["/b1", "/b2"]);
}

#[test]
fn since_keeps_what_started_from_then_on_in_every_run_not_ended_before_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("history.sqlite");
    a_run(
        &path,
        vec![
            timed(1, "/old", "2026-12-01T09:00:00Z"),
            timed(2, "/new", "2026-12-01T11:00:00Z"),
        ],
    );
    a_run(&path, vec![timed(1, "/later", "2026-12-02T08:00:00Z")]);
    let conn = reader::connect(&path).expect("read");
    let since = |t: &str| reader::Query {
        run: None,
        since: Some(t.parse().expect("time")),
    };
    assert_eq!(
        paths(&conn, &since("2026-12-01T10:00:00Z")),
        ["/new", "/later"]
    );
    // A run that ended before `since` is not read at all, whatever its rows
    // say (here: the first run's end moved back before its last row).
    conn.execute(
        "UPDATE runs SET ended_at = '2026-12-01T09:30:00+00:00' WHERE id = 1",
        [],
    )
    .expect("end");
    assert_eq!(paths(&conn, &since("2026-12-01T10:00:00Z")), ["/later"]);
}

#[test]
fn deleting_a_run_removes_its_exchanges_and_no_others() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("history.sqlite");
    a_run(&path, vec![record(1, "/a1"), record(2, "/a2")]);
    a_run(&path, vec![record(1, "/b1")]);
    let mut conn = Connection::open(&path).expect("open");
    super::writer::delete_run(&mut conn, 1).expect("delete");
    let count: i64 = conn
        .query_row("SELECT count(*) FROM exchanges", [], |r| r.get(0))
        .expect("count");
    assert_eq!(count, 1);
    assert_eq!(paths(&conn, &reader::Query::default()), ["/b1"]);
}

/// llmspy processes started together on a file from an older llmspy (or
/// on no file yet) each open it, and it is migrated once.
#[test]
fn opening_an_old_file_from_several_threads_at_once_migrates_it_once() {
    for round in 0..6 {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("history.sqlite");
        let old = round % 2 == 0;
        if old {
            version_1_file(&path);
        }
        let start = Arc::new(std::sync::Barrier::new(4));
        let opened: Vec<_> = (0..4)
            .map(|_| {
                let (path, start) = (path.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    super::open::writable(&path).map(|_| ())
                })
            })
            .collect();
        for o in opened {
            o.join().expect("thread").expect("opened");
        }
        let conn = reader::connect(&path).expect("read");
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(version, schema::VERSION);
        let expected: &[&str] = if old { &["/old"] } else { &[] };
        assert_eq!(paths(&conn, &reader::Query::default()), expected);
    }
}
