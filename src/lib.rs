//! llmspy: see exactly what AI agents say to LLM APIs and MCP servers.
//!
//! Layers, from the bottom: [`exchange`] (the model) → pure analysers
//! ([`content`], [`export`], …) → [`capture`] (the only store writer) →
//! consumers (the TUI, [`headless`], the control API). [`engine`] is the only
//! code that touches sockets. `tests/it/architecture.rs` enforces these rules.

pub mod capture;
pub mod content;
pub mod exchange;
pub mod export;
pub mod filter;
pub mod redact;
pub mod llm;
pub mod mcp;
pub mod pricing;
pub mod sse;
pub mod tui;
