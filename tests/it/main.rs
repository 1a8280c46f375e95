//! The single integration-test binary.

mod export;
mod tui;
mod golden;
