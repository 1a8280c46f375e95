//! Starting the history writer without making llmspy wait for it: its
//! thread opens (or creates) the database and records the run while the
//! proxy starts listening, and exchanges that finish meanwhile wait in the
//! sink's channel. Creating a database costs a dozen `fsync`s, which on a
//! busy disk take longer than everything else llmspy does to start.

use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use super::HistoryError;
use super::backlog::{BACKLOG_MAX_BYTES, Backlog};
use super::status::HistoryStatus;
use super::writer::open_run;
use crate::capture::Sink;

/// What a run records about itself.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub listen: String,
    pub version: String,
}

/// A running history writer.
pub struct History {
    pub sink: Sink,
    pub status: Arc<HistoryStatus>,
    end: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl History {
    /// Record the address actually bound (known only once listening).
    pub fn set_listen(&self, listen: &str) {
        let path = &self.status.path;
        let updated = super::open::writable(path).and_then(|conn| {
            conn.execute(
                "UPDATE runs SET listen = ?1 WHERE id = ?2",
                rusqlite::params![listen, self.status.run_id()],
            )
            .map_err(HistoryError::from)
        });
        if let Err(e) = updated {
            tracing::warn!("history: cannot record the listen address: {e}");
        }
    }

    /// Write what is left, mark the run ended, and stop (bounded).
    pub fn finish(mut self) {
        if let Some(end) = self.end.take() {
            let _ = end.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A history writer whose thread is opening the database. Its sink takes
/// exchanges at once; its status says no run until the run is recorded.
pub struct Starting {
    pub sink: Sink,
    pub status: Arc<HistoryStatus>,
    opened: std::sync::mpsc::Receiver<Result<oneshot::Sender<()>, HistoryError>>,
    thread: JoinHandle<()>,
}

impl Starting {
    /// Wait until the database is open and the run recorded (or failed).
    pub fn wait(self) -> Result<History, HistoryError> {
        let opened = self.opened.recv();
        match opened {
            Ok(Ok(end)) => Ok(History {
                sink: self.sink,
                status: self.status,
                end: Some(end),
                thread: Some(self.thread),
            }),
            Ok(Err(e)) => {
                let _ = self.thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = self.thread.join();
                Err(HistoryError::Thread(std::io::Error::other(
                    "the history writer stopped while opening the database",
                )))
            }
        }
    }
}

/// Start the writer for `path`: the database is opened and the run
/// recorded on the writer's thread ([`Starting::wait`] for the outcome).
pub fn begin(path: &Path, run: &RunInfo, max_bytes: u64) -> Result<Starting, HistoryError> {
    begin_with_backlog(path, run, max_bytes, BACKLOG_MAX_BYTES)
}

/// [`begin`], with at most `backlog_bytes` of finished exchanges waiting
/// for the writer (beyond that they are dropped, and counted).
pub fn begin_with_backlog(
    path: &Path,
    run: &RunInfo,
    max_bytes: u64,
    backlog_bytes: u64,
) -> Result<Starting, HistoryError> {
    let status = Arc::new(HistoryStatus::new(path.to_path_buf()));
    let (tx, rx) = mpsc::unbounded_channel();
    let budget = Arc::new(Backlog::new(status.clone(), backlog_bytes));
    let sink = Sink::with_budget(tx, budget);
    let (opened_tx, opened) = std::sync::mpsc::channel();
    let (path, run, shared) = (path.to_path_buf(), run.clone(), status.clone());
    let thread = std::thread::Builder::new()
        .name("llmspy-history".into())
        .spawn(move || {
            // At normal priority, unlike the OTLP exporter: at nice 10 a
            // machine kept busy by something else (a build beside the
            // agent) starved the writer until its backlog budget dropped
            // exchanges, and measured against nginx the relay gained
            // nothing from it (docs/benchmarks.md, History).
            let writer = match open_run(&path, &run, max_bytes, shared) {
                Ok(w) => w,
                Err(e) => {
                    let _ = opened_tx.send(Err(e));
                    return;
                }
            };
            let (end_tx, end_rx) = oneshot::channel();
            let _ = opened_tx.send(Ok(end_tx));
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build();
            match rt {
                Ok(rt) => rt.block_on(writer.run(rx, end_rx)),
                Err(e) => tracing::error!("history: cannot start its runtime: {e}"),
            }
        })
        .map_err(HistoryError::Thread)?;
    Ok(Starting {
        sink,
        status,
        opened,
        thread,
    })
}

/// Open `path` (creating it), record a new run, and start the writer.
pub fn start(path: &Path, run: &RunInfo, max_bytes: u64) -> Result<History, HistoryError> {
    begin(path, run, max_bytes)?.wait()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{Record, SinkMsg};

    fn run() -> RunInfo {
        RunInfo {
            listen: "127.0.0.1:1080".into(),
            version: "test".into(),
        }
    }

    #[test]
    fn what_finishes_while_the_database_opens_is_written_once_it_is_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite");
        let starting = begin(&path, &run(), u64::MAX).unwrap();
        let record = Record {
            exchange: crate::exchange::Exchange::builder().build(),
            summary: None,
            thread: None,
        };
        starting
            .sink
            .send(SinkMsg::Finished(Arc::new(record)))
            .unwrap();
        let history = starting.wait().unwrap();
        assert!(history.status.is_open());
        assert_eq!(history.status.run_id(), 1);
        history.finish();
        let conn = crate::history::reader::connect(&path).unwrap();
        let runs = crate::history::reader::runs(&conn).unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].exchanges, 1);
    }

    #[test]
    fn a_file_that_is_not_a_database_is_an_error_and_no_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.sqlite");
        std::fs::write(&path, vec![b'x'; 8192]).unwrap();
        let starting = begin(&path, &run(), u64::MAX).unwrap();
        let (sink, status) = (starting.sink.clone(), starting.status.clone());
        let err = starting.wait().err().expect("an error");
        assert!(err.to_string().contains("not a SQLite database"), "{err}");
        assert!(!status.is_open());
        assert!(sink.is_closed());
    }
}
