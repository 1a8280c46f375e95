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
mod fields;
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
pub use store::{Expectations, STRICT_MISS_ID};

/// A problem with an expectation, located by its JSON path.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum MockError {
    #[error("{path}: expected {expected}")]
    Invalid { path: String, expected: String },
    /// A field llmspy does not read (a typo, or one of MockServer's it
    /// does not implement).
    #[error("{path}: {problem}")]
    Field { path: String, problem: String },
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
        }
    }
}
