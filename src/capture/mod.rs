//! The capture store: the one writer of captured exchanges, and its readers.
//!
//! The relay hands [`CaptureMsg`]s to a [`Recorder`] without ever waiting; a
//! single capture task applies them to the [`Store`], enforces the caps,
//! runs the pure analysers once an exchange finishes, and publishes
//! [`StoreEvent`]s for the UI, the headless logger and the API, and feeds
//! every finished exchange to its sinks (`--save`, the OTLP exporter).

mod apply;
mod events;
mod loaded;
mod records;
mod refusals;
pub mod save;
mod sink;
mod store;
mod websocket;
mod writer;

pub use apply::TRUNCATED_HEADER;
pub use events::StoreEvent;
pub use loaded::{Loaded, RENUMBERED_NOTE, loaded, loaded_store};
pub use records::{Page, Records, StoreView};
pub use refusals::{Refusal, RefusalRule, Refusals};
pub use sink::{Budget, Sink, SinkMsg};
pub use store::{Counts, Limits, Record, Store, StoreReader};
pub use writer::{CaptureMsg, Recorder, analysis_of, spawn};
