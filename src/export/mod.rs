//! Exporters: pure functions from exchanges to bytes in a given format.

pub mod native;
