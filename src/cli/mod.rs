//! The command line: parse, dispatch, and wire the parts together. The only
//! place (with `main.rs`) that uses `anyhow`.

pub mod args;
mod child;
pub mod env;
mod export;
mod proxy;
mod retrieve;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use args::{Cli, Command, CommonArgs};

pub fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "llmspy")
}

/// `--ca-dir`, or the user data directory.
pub fn ca_dir(common: &CommonArgs) -> anyhow::Result<PathBuf> {
    match &common.ca_dir {
        Some(d) => Ok(d.clone()),
        None => project_dirs()
            .map(|p| p.data_dir().to_path_buf())
            .context("cannot find a home directory for the CA; pass --ca-dir DIR"),
    }
}

pub fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    init_tracing(&cli);
    match &cli.command {
        None => proxy::run(&cli.common, &cli.proxy),
        Some(Command::Env) => {
            let ca = env::prepare_ca(&ca_dir(&cli.common)?)?;
            print!(
                "{}",
                env::export_lines(&env::agent_vars(cli.common.listen, &ca))
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Ca { pem }) => {
            let ca = env::prepare_ca(&ca_dir(&cli.common)?)?;
            if *pem {
                print!("{}", ca.cert_pem());
            } else {
                println!("{}", ca.cert_path().display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Run { command }) => {
            let ca = env::prepare_ca(&ca_dir(&cli.common)?)?;
            child::run(cli.common.listen, &ca, command)
        }
        Some(Command::Export(args)) => export::run(&cli.common, args),
        Some(Command::Retrieve(args)) => retrieve::run(&cli.common, args),
    }
}

/// Diagnostics go to stderr, filtered by `LLMSPY_LOG` (default: warnings).
fn init_tracing(_cli: &Cli) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LLMSPY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("llmspy=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
