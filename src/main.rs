//! The `llmspy` binary: everything lives in the library; this prints errors.

use std::process::ExitCode;

// Each exchange allocates many small, short-lived buffers across threads;
// glibc's allocator spent ~15% of the relay's time on them, mimalloc far less.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    match llmspy::cli::main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("llmspy: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
