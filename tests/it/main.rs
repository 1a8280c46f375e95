//! The single integration-test binary.

mod support;

mod engine;
mod export;
mod golden;
mod tui;
