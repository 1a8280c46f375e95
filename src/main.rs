//! The `llmspy` binary: everything lives in the library; this prints errors.

use std::process::ExitCode;

// mimalloc for the many small, short-lived buffers of each exchange, the
// system's allocator for large blocks (src/alloc.rs).
#[global_allocator]
static GLOBAL: llmspy::alloc::Allocator = llmspy::alloc::Allocator;

fn main() -> ExitCode {
    match llmspy::cli::main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("llmspy: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
