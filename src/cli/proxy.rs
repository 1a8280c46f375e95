//! Start the proxy: resolve settings, load the CA, start capture and the
//! engine on a background runtime, then run the UI or the headless logger
//! until asked to stop.
//!
//! The steps with a job of their own live beside it: `settings` (what the
//! flags, environment and config file resolve to), `sinks` (`--save`,
//! OTLP, history), `banner` (what llmspy says once it listens) and
//! `shutdown` (signals, the grace period, the final flush).

mod banner;
mod settings;
mod shutdown;
mod sinks;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use super::args::{CommonArgs, ProxyArgs};
use super::env::{connectable, prepare_ca, shell_lines};
use crate::capture::{self, CaptureMsg, Recorder, StoreEvent, StoreReader};
use crate::engine::{ApiHandler, Engine, EngineConfig, RelaySettings, UpstreamTrust, Workers};
use banner::print_banner;
use settings::install_pricing_override;
pub use settings::{Resolved, resolve};
pub use shutdown::{StopSignals, drain, drain_within, stop_ui_on_signal};
use shutdown::{second_signal_exits, until_stopped};
use sinks::Sinks;

pub fn run(common: &CommonArgs, args: &ProxyArgs) -> anyhow::Result<ExitCode> {
    let settings = resolve(args)?;
    install_pricing_override()?;
    raise_fd_limit();
    log_engine_panics();
    let ca = Arc::new(prepare_ca(&super::ca_dir(common)?)?);
    // The relay runs on workers of its own (one runtime per thread); this
    // runtime runs what is shared: accepting, capture, the UI's feed.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .thread_name(crate::ENGINE_THREAD_NAME)
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(common, args, settings, ca))
}

/// Raise the soft open-file limit to the hard one, and say so when even
/// the hard limit leaves room for few concurrent clients.
fn raise_fd_limit() {
    use crate::engine::fdlimit;
    match fdlimit::raise() {
        Ok(limit) if limit.hard < fdlimit::LOW_HARD_LIMIT => crate::note!(
            "llmspy: warning: the open-file limit is {} (hard limit), room for about {} client \
             connections (each proxied request holds two descriptors); idle ones are closed \
             first when it runs out. Raise it with `ulimit -Hn` as root or in /etc/security/limits.conf.",
            limit.hard,
            fdlimit::client_connection_budget()
        ),
        Ok(limit) => {
            if let Some(from) = limit.raised_from {
                tracing::info!("raised the open-file limit from {from} to {}", limit.soft);
            }
        }
        Err(e) => crate::note!("llmspy: warning: cannot raise the open-file limit: {e}"),
    }
}

/// A panic on an engine thread is caught there (that exchange fails, the
/// proxy carries on): log it rather than print a backtrace banner.
fn log_engine_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() == Some(crate::ENGINE_THREAD_NAME) {
            tracing::error!("{info}");
        } else {
            previous(info);
        }
    }));
}

/// Record where this run listens, and say where its history goes.
fn announce_history(h: &crate::history::History, addr: std::net::SocketAddr) {
    h.set_listen(&connectable(addr).to_string());
    crate::note!(
        "llmspy: history in {} (run {}; `llmspy history` lists runs, --no-history keeps nothing)",
        h.status.path.display(),
        h.status.run_id()
    );
}

async fn serve(
    common: &CommonArgs,
    args: &ProxyArgs,
    settings: Resolved,
    ca: Arc<crate::ca::CertificateAuthority>,
) -> anyhow::Result<ExitCode> {
    // Before anything is announced: a stop sent once the banner is out
    // must find llmspy listening for it.
    let signals = StopSignals::listen();
    let mut sinks = sinks::start(common, args)?;
    let files = files_root(args)?;
    // The capture task holds the only senders: a sink ends when it ends.
    let (recorder, store, events) =
        capture::spawn(settings.limits, std::mem::take(&mut sinks.list));
    let mock = super::mocks::load(args)?;
    let api = crate::api::handler(crate::api::ApiContext {
        store: store.clone(),
        recorder: recorder.clone(),
        events: events.clone(),
        expectations: Some(Arc::new(mock.clone())),
        mock: Some(mock.clone()),
        files: Arc::new(files),
        mcp_sessions: Arc::default(),
        ca_pem: ca.cert_pem().into(),
        listen: connectable(common.listen),
        exporter: sinks.exporter.clone(),
        history: sinks.history.as_ref().map(|h| h.status.clone()),
    });
    let policy =
        crate::api::guard::ControlPolicy::new(&args.allow_host, common.control_token.clone());
    let api = crate::api::guard::guarded(policy, recorder.clone(), api);
    let engine = start_engine(common, args, settings.relay, &ca, &recorder, api, &mock).await?;
    let history = sinks.history.take().and_then(sinks::opened);
    print_banner(&engine, &ca, common, args);
    if let Some(h) = &history {
        announce_history(h, engine.local_addr());
    }
    let (logger, ui) = match sinks.log.take() {
        Some(log) => {
            let logger = tokio::spawn(crate::headless::run(log, store.clone(), args.json));
            until_stopped(signals).await;
            (Some(logger), Ok(()))
        }
        None => {
            let info = ui_info(
                &engine,
                &ca,
                &recorder,
                &mock,
                &sinks,
                history.as_ref(),
                common,
            );
            (None, run_ui(&store, &events, info, signals))
        }
    };
    engine.shutdown().await;
    // The last flush is answered once the log has printed every exchange
    // finished before it, those the stop cut short included.
    drain(&store, &recorder).await;
    if let Some(logger) = logger {
        logger.abort();
    }
    if let Some(h) = history {
        // Writes what is left and marks the run ended: a SIGTERM loses nothing.
        tokio::task::block_in_place(|| h.finish());
    }
    drop(events);
    // A UI that failed (its terminal gone) still let the shutdown above
    // finish what was captured; now say why it ended.
    ui?;
    Ok(ExitCode::SUCCESS)
}

/// Bind and start relaying, the mock expectations answering first.
async fn start_engine(
    common: &CommonArgs,
    args: &ProxyArgs,
    relay: RelaySettings,
    ca: &Arc<crate::ca::CertificateAuthority>,
    recorder: &Recorder,
    api: ApiHandler,
    mock: &crate::mock::Expectations,
) -> anyhow::Result<Engine> {
    let trust = UpstreamTrust {
        extra_ca_files: args.upstream_ca.clone(),
        insecure: args.insecure_upstream,
    };
    let engine = Engine::start(EngineConfig {
        listen: common.listen,
        ca: ca.clone(),
        trust,
        settings: relay,
        recorder: recorder.clone(),
        api,
        responder: Some(Arc::new(mock.clone())),
        proxy_auth: proxy_credentials(args)?,
        routes: crate::engine::Routes::parse(&args.routes)?,
        workers: Some(start_workers(args)?),
    })
    .await?;
    Ok(engine)
}

/// `--workers` relay workers, one per core by default.
fn start_workers(args: &ProxyArgs) -> anyhow::Result<Arc<Workers>> {
    let n = args.workers.map_or_else(
        || std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        usize::from,
    );
    Workers::start(n, crate::ENGINE_THREAD_NAME).context("starting the relay workers")
}

/// The terminal UI, on this (main) thread until the user quits; the engine
/// keeps running on the runtime's worker threads meanwhile.
fn run_ui(
    store: &StoreReader,
    events: &tokio::sync::broadcast::Sender<StoreEvent>,
    info: crate::tui::UiInfo,
    signals: StopSignals,
) -> anyhow::Result<()> {
    let ui_events = events.subscribe();
    let ui_store = store.clone();
    // A signal (SIGTERM, or SIGHUP when the terminal closes) ends the UI
    // as `Q` does, so the caller still closes the run properly.
    let (listener, stopped) = stop_ui_on_signal(&tokio::runtime::Handle::current(), signals);
    let ui = tokio::task::block_in_place(|| crate::tui::run(ui_store, ui_events, info, stopped));
    listener.abort();
    second_signal_exits();
    ui.context("running the terminal UI (no terminal here? run with --no-tui)")
}

/// `--files-root`, else the directory llmspy was started in.
fn files_root(args: &ProxyArgs) -> anyhow::Result<crate::api::files::FilesRoot> {
    let dir = match &args.files_root {
        Some(d) => d.clone(),
        None => std::env::current_dir().context("finding the current directory")?,
    };
    crate::api::files::FilesRoot::new(&dir)
        .with_context(|| format!("--files-root {}", dir.display()))
}

/// `--proxy-auth USER:PASS`.
fn proxy_credentials(args: &ProxyArgs) -> anyhow::Result<Option<crate::engine::ProxyCredentials>> {
    let Some(pair) = &args.proxy_auth else {
        return Ok(None);
    };
    match pair.split_once(':') {
        Some((user, password)) if !user.is_empty() => Ok(Some(crate::engine::ProxyCredentials {
            user: user.to_string(),
            password: password.to_string(),
        })),
        _ => anyhow::bail!("--proxy-auth expects USER:PASS"),
    }
}

/// What the UI shows around the traffic: where llmspy listens, the lines to
/// paste into the agent's shell, how `z` clears the store, and the sinks'
/// status lines.
fn ui_info(
    engine: &Engine,
    ca: &crate::ca::CertificateAuthority,
    recorder: &Recorder,
    mock: &crate::mock::Expectations,
    sinks: &Sinks,
    history: Option<&crate::history::History>,
    common: &CommonArgs,
) -> crate::tui::UiInfo {
    let addr = engine.local_addr();
    let mut info = crate::tui::UiInfo::live(connectable(addr).to_string());
    // The intro first: its one command fits a narrow pane whole, where
    // the lines after it may be cut.
    info.setup = std::iter::once(banner::setup_intro(addr, common))
        .chain(shell_lines(addr, ca).lines().map(str::to_string))
        .collect();
    let recorder = recorder.clone();
    info.on_clear = Some(Box::new(move || recorder.send(CaptureMsg::Clear(None))));
    let mock = mock.clone();
    info.expectations = Some(Arc::new(move || {
        crate::api::ActiveExpectations::active(&mock)
    }));
    if let Some(status) = history.map(|h| h.status.clone()) {
        info.history = Some(super::history::ui_source(status.path.clone()));
        info.sink_status.push(Arc::new(move || status.line()));
    }
    if let Some(status) = sinks.exporter.clone() {
        info.sink_status.push(Arc::new(move || status.line()));
    }
    info
}
