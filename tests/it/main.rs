//! The single integration-test binary.

mod support;

mod agents;
mod api;
mod architecture;
mod cli;
mod engine;
mod export;
mod export_cli;
mod golden;
mod mcp_server;
mod mcp_stdio;
mod mock;
mod replay;
mod security;
mod tui;
