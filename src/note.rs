//! Remarks on how complete or exact an analysis is: the vocabulary every
//! parser (LLM, MCP, SSE) reports in, kept below all of them.

use serde::Serialize;

/// Why a result is partial or approximate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    /// The capture cap cut the body.
    Truncated,
    /// The body ended before the stream or document was complete.
    Incomplete,
    /// Something did not parse (JSON, an event).
    Malformed,
    /// An event or block type this version does not know; skipped.
    Unknown,
    /// Content-encoding could not be removed, or times are estimates.
    Approximate,
}

/// A remark about how complete or exact an analysis is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    pub kind: NoteKind,
    pub message: String,
}

impl Note {
    pub fn new(kind: NoteKind, message: impl Into<String>) -> Self {
        Note {
            kind,
            message: message.into(),
        }
    }
}
