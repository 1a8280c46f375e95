//! llmspy: see exactly what AI agents say to LLM APIs and MCP servers.
//!
//! Layers, from the bottom: [`exchange`] (the model) → pure analysers
//! ([`content`], [`export`], …) → [`capture`] (the only store writer) →
//! consumers (the TUI, [`headless`], the control API). [`engine`] is the only
//! code that touches sockets. `tests/it/architecture.rs` enforces these rules.

pub mod alloc;
pub mod analyses;
/// `eprintln!` that never panics. Rust's own panics when stderr is a
/// closed pipe (`llmspy --no-tui 2>&1 | head`), which would stop the proxy
/// over a log line.
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

pub mod api;
pub mod background;
pub mod ca;
pub mod capture;
pub mod cli;
pub mod config;
pub mod content;
pub mod digits;
pub mod engine;
pub mod eventstream;
pub mod exchange;
pub mod export;
pub mod filter;
#[doc(hidden)]
pub mod fuzz;
pub mod grpc;
pub mod headless;
pub mod history;
pub mod llm;
pub mod mcp;
pub mod mock;
pub mod note;
pub mod otel;
pub mod pricing;
pub mod private;
pub mod redact;
pub mod respond;
pub mod sessions;
pub mod similar;
pub mod sse;
pub mod tls;
pub mod tui;
pub mod urlcodec;
pub mod usage;
pub mod websocket;

/// The name of the engine's runtime threads. A panic on one of them is
/// caught by the engine (that exchange fails, the proxy carries on), so the
/// panic hooks log it instead of tearing down the terminal UI.
pub const ENGINE_THREAD_NAME: &str = "llmspy-engine";
