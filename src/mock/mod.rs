//! Mock expectations, recorded fixtures and scripted conversations, in
//! MockServer's JSON shapes.
//!
//! Everything here is pure except [`loader`], which reads expectation files:
//! parsing ([`expectation`]), matching ([`matcher`], [`facts`]), rendering
//! ([`action`], [`render`]), explaining misses ([`explain`]) and turning
//! captured traffic into fixtures ([`fixtures`]). [`Expectations`] keeps the
//! active set behind a lock and is what the engine asks, through
//! `respond::Responder`, before it dials an upstream.

pub mod action;
pub mod completion;
pub mod expectation;
pub mod explain;
pub mod facts;
pub(crate) mod fields;
pub mod fixtures;
pub mod jsonpath;
pub mod loader;
pub mod matcher;
pub mod render;
pub mod scripted;
mod store;

pub use expectation::Expectation;
pub use explain::{Difference, Explanation};
pub use scripted::ScriptedTurn;
pub use store::{Expectations, MAX_EXPECTATIONS, STRICT_MISS_ID};

/// A problem with an expectation, located by its JSON path.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum MockError {
    #[error("{path}: expected {expected}")]
    Invalid { path: String, expected: String },
    /// A field llmspy does not read (a typo, or one of MockServer's it
    /// does not implement).
    #[error("{path}: {problem}")]
    Field { path: String, problem: String },
    /// Adding them would pass the cap on expectations held at once.
    #[error(
        "llmspy holds at most {max} expectations at once ({held} now, {adding} more asked); clear some first (PUT /mockserver/clear?type=EXPECTATIONS)"
    )]
    TooMany {
        max: usize,
        held: usize,
        adding: usize,
    },
}

impl MockError {
    pub fn invalid(path: &str, expected: impl Into<String>) -> Self {
        MockError::Invalid {
            path: path.to_string(),
            expected: expected.into(),
        }
    }

    /// The same error under a file or a wrapper path.
    pub fn within(self, prefix: &str) -> Self {
        match self {
            MockError::Invalid { path, expected } => MockError::Invalid {
                path: format!("{prefix}{}", path.trim_start_matches('$')),
                expected,
            },
            MockError::Field { path, problem } => MockError::Field {
                path: format!("{prefix}{}", path.trim_start_matches('$')),
                problem,
            },
            too_many @ MockError::TooMany { .. } => too_many,
        }
    }
}

/// The bytes of a `{"type": "BINARY", "base64Bytes": "…"}` body, as a
/// matcher and a response write it; `None` when they are not base64.
pub(crate) fn base64_bytes(obj: &serde_json::Map<String, serde_json::Value>) -> Option<Vec<u8>> {
    use base64::Engine;
    let b64 = obj
        .get("base64Bytes")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}
