//! What every control API route reads and controls: one context for the
//! capture routes, the mock routes and the MCP server alike.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::broadcast;

use super::active::ActiveExpectations;
use super::files::{FileError, FilesRoot};
use super::mcp_server::Sessions;
use crate::capture::{CaptureMsg, Recorder, Refusal, RefusalRule, StoreEvent, StoreReader};
use crate::mock::Expectations;

/// What the API reads and controls.
#[derive(Clone)]
pub struct ApiContext {
    pub store: StoreReader,
    pub recorder: Recorder,
    /// The store's event channel, for `events` subscribers.
    pub events: broadcast::Sender<StoreEvent>,
    /// The mock expectations, once something keeps them; `None` lists none.
    pub expectations: Option<Arc<dyn ActiveExpectations>>,
    /// The expectations the mock routes (`expectation`, `fixtures/record`,
    /// `mcp`, `mcp-stdio/ingest`) write to; without them those routes are
    /// not served.
    pub mock: Option<Expectations>,
    /// Where the routes and tools may write and read files.
    pub files: Arc<FilesRoot>,
    /// MCP sessions handed out by `initialize`.
    pub mcp_sessions: Arc<Sessions>,
    pub ca_pem: Arc<str>,
    pub listen: SocketAddr,
    /// The OpenTelemetry exporter's state, when one runs.
    pub exporter: Option<Arc<crate::otel::ExporterStatus>>,
    /// The history writer's state, when history is on.
    pub history: Option<Arc<crate::history::HistoryStatus>>,
}

impl ApiContext {
    /// Write a file inside the files root; a path that escapes it is
    /// reported as a refusal (counted, logged, shown in the UI).
    pub fn write_file(
        &self,
        path: &str,
        bytes: &[u8],
        overwrite: bool,
    ) -> Result<PathBuf, FileError> {
        self.files
            .write(path, bytes, overwrite)
            .inspect_err(|e| self.report(e))
    }

    /// Where `path` lands inside the files root, for reading.
    pub fn resolve_file(&self, path: &str) -> Result<PathBuf, FileError> {
        self.files.resolve(path).inspect_err(|e| self.report(e))
    }

    /// A regular file's text inside the files root, size-capped.
    pub fn read_file(&self, path: &Path) -> Result<String, FileError> {
        let text = path.to_string_lossy();
        let (_, bytes) = self.files.read(&text).inspect_err(|e| self.report(e))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    fn report(&self, e: &FileError) {
        if e.is_refusal() {
            let reason = format!("refused a control request: {e}");
            tracing::warn!("{reason}");
            self.recorder.send(CaptureMsg::Refused(Refusal {
                rule: RefusalRule::Path,
                reason,
            }));
        }
    }
}
