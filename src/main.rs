//! The `llmspy` binary: everything lives in the library; this prints errors.

use std::process::ExitCode;

fn main() -> ExitCode {
    match llmspy::cli::main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("llmspy: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
