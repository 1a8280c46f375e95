//! The single integration-test binary.

// Test and bench scenarios read top to bottom; the length limit is for
// the library and the binary.
#![allow(clippy::too_many_lines)]

mod support;

mod agents;
mod api;
mod architecture;
mod bedrock;
mod cli;
mod deadlines;
mod engine;
mod export;
mod export_cli;
// Reads /proc.
#[cfg(target_os = "linux")]
mod export_memory;
mod fd_limit;
mod fuzz;
mod golden;
mod history;
mod mcp_server;
mod mcp_stdio;
mod mock;
mod otel;
mod replay;
mod security;
mod tui;
mod upstream_conns;
mod websocket;
