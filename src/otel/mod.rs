//! Export to OpenTelemetry: every finished LLM exchange as a CLIENT span in
//! the GenAI semantic conventions (`chat claude-sonnet-4-5`), every MCP call
//! as a span in the MCP conventions, a trace per conversation with its
//! tool calls inside the turn that asked for them, and the token and
//! duration histograms, sent over OTLP (HTTP/protobuf or gRPC) to a
//! collector.
//!
//! A capture sink ([`exporter::spawn`]): it reads finished exchanges and
//! never touches the relay; a collector that is down costs queue space, not
//! speed.

// The GenAI and MCP attribute names are still the conventions' names; the
// crate marks its constants deprecated only because they moved to the
// conventions' own GenAI repository, which publishes no Rust crate yet.
#![allow(deprecated)]

mod collector;
mod content;
pub mod exporter;
mod metrics;
mod queue;
pub mod settings;
pub mod span;
pub mod status;
mod traces;

pub use exporter::{Exporter, OtelError, spawn};
pub use settings::{OtlpSettings, Protocol, SettingsError, resolve};
pub use status::ExporterStatus;
