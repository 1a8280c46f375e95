//! The command line: parse, dispatch, and wire the parts together. The only
//! place (with `main.rs`) that uses `anyhow`.

pub mod args;
mod background;
mod child;
pub mod child_env;
mod control;
pub mod env;
mod export;
pub mod history;
mod mcp_stdio;
mod mocks;
pub mod proxy;
mod record;
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

/// Write a one-shot command's answer to stdout. A reader that left
/// (`llmspy env | head -1`) ends it quietly; a failed write (a full disk
/// behind `>`) is an error, not a panic as `print!`'s.
fn print_out(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("writing to stdout"))
        }
        _ => Ok(()),
    }
}

pub fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    init_tracing(&cli);
    match &cli.command {
        None => proxy::run(&cli.common, &cli.proxy),
        Some(Command::Env) => {
            let ca = env::prepare_ca(&ca_dir(&cli.common)?)?;
            print_out(&env::shell_lines(cli.common.listen, &ca))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Ca { pem }) => {
            let ca = env::prepare_ca(&ca_dir(&cli.common)?)?;
            if *pem {
                print_out(ca.cert_pem())?;
            } else {
                print_out(&format!("{}\n", ca.cert_path().display()))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Run(args)) => {
            let ca = env::prepare_ca(&ca_dir(&cli.common)?)?;
            child::run(&cli.common, &ca, args)
        }
        Some(Command::Completions { shell }) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut command, "llmspy", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Open { file, run }) => open(file, *run),
        Some(Command::Export(args)) => export::run(&cli.common, args),
        Some(Command::Record(args)) => record::run(&cli.common, args),
        Some(Command::McpStdio { server, command }) => {
            mcp_stdio::run(&cli.common, server.as_deref(), command)
        }
        Some(Command::Retrieve(args)) => retrieve::run(&cli.common, args),
        Some(Command::History(args)) => history::run(&cli.common, args),
    }
}

/// `llmspy open FILE`: load a capture into a store nothing writes and show it.
fn open(file: &std::path::Path, run: Option<i64>) -> anyhow::Result<ExitCode> {
    let exchanges = history::load_capture(file, run, None, false)?;
    if let Some(n) = run.filter(|_| exchanges.is_empty()) {
        anyhow::bail!(
            "run {n} of {} holds no exchanges, or there is no such run: `llmspy history --history {}` lists them",
            file.display(),
            file.display()
        );
    }
    let reader =
        crate::capture::StoreReader::detached(retrieve::loaded_noting_renumbering(exchanges));
    // SIGTERM, or SIGHUP from a closed terminal, ends the viewer as `Q`
    // does, so a terminal that is still there gets its settings back.
    let signals = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the signal listener")?;
    let listening = {
        let _inside = signals.enter();
        proxy::StopSignals::listen()
    };
    let (_, stopped) = proxy::stop_ui_on_signal(signals.handle(), listening);
    let shown = crate::tui::open(reader, crate::tui::UiInfo::file(file), stopped);
    signals.shutdown_background();
    shown.context("running the terminal UI (llmspy open needs a terminal)")?;
    Ok(ExitCode::SUCCESS)
}

/// Diagnostics go to stderr, filtered by `LLMSPY_LOG` (default: warnings).
/// While the terminal UI runs, stderr would tear the screen, so they go to
/// `llmspy.log` in the data directory instead.
fn init_tracing(cli: &Cli) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LLMSPY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("llmspy=warn"));
    // A log line that cannot be written (stderr a closed pipe, the disk
    // full) is dropped: tracing's own report of it uses `eprintln!`, which
    // panics on that same pipe, and inside the engine's panic hook (which
    // logs) that panic became an abort.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .log_internal_errors(false);
    let tui = (cli.command.is_none() && !cli.proxy.headless())
        || matches!(cli.command, Some(Command::Open { .. }));
    let log_file = tui
        .then(|| ca_dir(&cli.common).ok())
        .flatten()
        .and_then(|dir| {
            crate::private::create_dirs(&dir).ok()?;
            let mut options = std::fs::OpenOptions::new();
            options.create(true).append(true);
            // The log names hosts and refused callers: the owner's alone.
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            options.open(dir.join("llmspy.log")).ok()
        });
    let _ = match log_file {
        Some(file) => builder
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .try_init(),
        None if tui => builder.with_writer(std::io::sink).try_init(),
        // Colour only for a person watching, not in a redirected log.
        None => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_writer(std::io::stderr)
            .try_init(),
    };
}
