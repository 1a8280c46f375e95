//! llmspy: see exactly what AI agents say to LLM APIs and MCP servers.
//!
//! Layers, from the bottom: [`exchange`] (the model) → pure analysers
//! ([`content`], [`export`], …) → [`capture`] (the only store writer) →
//! consumers (the TUI, [`headless`], the control API). [`engine`] is the only
//! code that touches sockets. `tests/it/architecture.rs` enforces these rules.

pub mod api;
pub mod ca;
pub mod capture;
pub mod cli;
pub mod config;
pub mod content;
pub mod engine;
pub mod exchange;
pub mod export;
pub mod filter;
pub mod headless;
pub mod llm;
pub mod mcp;
pub mod mock;
pub mod pricing;
pub mod redact;
pub mod sessions;
pub mod similar;
pub mod sse;
pub mod tui;
