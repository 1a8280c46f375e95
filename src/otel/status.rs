//! What the exporter has done, for the status bar and `/llmspy/status`:
//! spans sent, queued and dropped, and the last error. Written by the
//! exporter's thread, read by anyone.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};

#[derive(Debug, Default)]
pub struct ExporterStatus {
    /// Where spans go (`http://collector:4318/v1/traces`).
    pub endpoint: String,
    sent: AtomicU64,
    queued: AtomicU64,
    dropped: AtomicU64,
    failed_attempts: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl ExporterStatus {
    pub fn new(endpoint: String) -> Self {
        ExporterStatus {
            endpoint,
            ..ExporterStatus::default()
        }
    }

    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    pub fn queued(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }

    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(super) fn note_sent(&self, n: usize) {
        self.sent.fetch_add(n as u64, Ordering::Relaxed);
        // A collector that answers again has recovered.
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    pub(super) fn note_queued(&self, n: usize) {
        self.queued.store(n as u64, Ordering::Relaxed);
    }

    pub(super) fn note_dropped(&self, n: usize) {
        self.dropped.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(super) fn note_error(&self, error: String) {
        self.failed_attempts.fetch_add(1, Ordering::Relaxed);
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(error);
    }

    /// `{"endpoint": …, "sent": 3, "queued": 0, "dropped": 0, "lastError": null}`
    pub fn to_json(&self) -> Value {
        json!({
            "endpoint": self.endpoint,
            "sent": self.sent(),
            "queued": self.queued(),
            "dropped": self.dropped(),
            "failedAttempts": self.failed_attempts.load(Ordering::Relaxed),
            "lastError": self.last_error(),
        })
    }

    /// A few words for the status bar: `otlp 12 sent` or
    /// `otlp 40 queued, 3 dropped: connection refused`.
    pub fn line(&self) -> String {
        let mut out = format!("otlp {} sent", self.sent());
        if self.queued() > 0 {
            out.push_str(&format!(", {} queued", self.queued()));
        }
        if self.dropped() > 0 {
            out.push_str(&format!(", {} dropped", self.dropped()));
        }
        if let Some(e) = self.last_error() {
            out.push_str(&format!(": {e}"));
        }
        out
    }
}
