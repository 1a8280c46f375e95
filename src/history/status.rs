//! What the history writer has done, for the status bar and
//! `/llmspy/status`: exchanges saved, waiting, dropped, and the last error.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use serde_json::{Value, json};

#[derive(Debug, Default)]
pub struct HistoryStatus {
    pub path: PathBuf,
    /// This run's id once recorded (ids start at 1; 0 until then).
    run_id: AtomicI64,
    saved: AtomicU64,
    pending: AtomicU64,
    dropped: AtomicU64,
    pruned_runs: AtomicU64,
    /// Bytes of exchanges passed to the writer and not yet taken by it.
    backlog_bytes: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl HistoryStatus {
    /// The status of a history whose run is not recorded yet.
    pub fn new(path: PathBuf) -> Self {
        HistoryStatus {
            path,
            ..HistoryStatus::default()
        }
    }

    /// This run's id; 0 while the database is being opened.
    pub fn run_id(&self) -> i64 {
        self.run_id.load(Ordering::Relaxed)
    }

    /// True once the database is open and this run recorded.
    pub fn is_open(&self) -> bool {
        self.run_id() > 0
    }

    pub(super) fn set_run(&self, id: i64) {
        self.run_id.store(id, Ordering::Relaxed);
    }

    pub fn saved(&self) -> u64 {
        self.saved.load(Ordering::Relaxed)
    }

    pub fn pending(&self) -> u64 {
        self.pending.load(Ordering::Relaxed)
    }

    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(super) fn note_saved(&self, n: usize) {
        self.saved.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(super) fn note_pending(&self, n: usize) {
        self.pending.store(n as u64, Ordering::Relaxed);
    }

    pub(super) fn note_dropped(&self, n: usize) {
        self.dropped.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Count `size` bytes as waiting for the writer, unless that would
    /// pass `max` (a lone exchange bigger than `max` still goes when
    /// nothing else waits).
    pub(super) fn reserve_backlog(&self, size: u64, max: u64) -> bool {
        self.backlog_bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |waiting| {
                (waiting == 0 || waiting + size <= max).then_some(waiting + size)
            })
            .is_ok()
    }

    /// The writer took `size` bytes of exchanges.
    pub(super) fn release_backlog(&self, size: u64) {
        let _ = self
            .backlog_bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |waiting| {
                Some(waiting.saturating_sub(size))
            });
    }

    pub(super) fn note_pruned(&self) {
        self.pruned_runs.fetch_add(1, Ordering::Relaxed);
    }

    /// Record an error; true when it is new (worth one warning).
    pub(super) fn note_error(&self, error: Option<String>) -> bool {
        let mut last = self.last_error.lock().unwrap_or_else(|e| e.into_inner());
        let changed = *last != error;
        *last = error;
        changed
    }

    pub fn to_json(&self) -> Value {
        json!({
            "path": self.path.display().to_string(),
            "run": self.run_id(),
            "saved": self.saved(),
            "pending": self.pending(),
            "dropped": self.dropped.load(Ordering::Relaxed),
            "prunedRuns": self.pruned_runs.load(Ordering::Relaxed),
            "lastError": self.last_error(),
        })
    }

    /// `history 120 saved` or `history: disk full (12 waiting)`.
    pub fn line(&self) -> String {
        match self.last_error() {
            Some(e) => format!("history: {e} ({} waiting)", self.pending()),
            None => format!("history {} saved", self.saved()),
        }
    }
}
