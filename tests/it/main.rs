//! The single integration-test binary.

mod support;

mod architecture;
mod cli;
mod engine;
mod export;
mod golden;
mod tui;
