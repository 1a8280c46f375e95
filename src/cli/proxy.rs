//! Start the proxy: resolve settings, load the CA, start capture and the
//! engine on a background runtime, then run the UI or the headless logger
//! until asked to stop.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use super::args::{CommonArgs, ProxyArgs};
use super::env::{agent_vars, connectable, export_lines, prepare_ca};
use crate::capture::{self, CaptureMsg, Limits, Recorder, StoreReader};
use crate::config::Layered;
use crate::engine::{Engine, EngineConfig, RelaySettings, UpstreamTrust};
use crate::exchange::{Failure, FailureKind};

/// How long in-flight exchanges get to finish after SIGINT/SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Resolved settings: CLI > environment > config file > defaults.
pub struct Resolved {
    pub limits: Limits,
    pub relay: RelaySettings,
}

/// Variables of the project's own test and bench scripts, not settings.
const SCRIPT_VARS: [&str; 5] = [
    "LLMSPY_BIN",
    "LLMSPY_SDK_",
    "LLMSPY_UPDATE_MAN",
    "LLMSPY_EXPORT_",
    "LLMSPY_VALIDATE_",
];

pub fn resolve(args: &ProxyArgs) -> anyhow::Result<Resolved> {
    // A misspelt variable would otherwise be ignored without a word.
    let names: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .collect();
    for warning in crate::config::unknown_env_vars(names.iter().map(String::as_str), &SCRIPT_VARS) {
        crate::note!("llmspy: warning: {warning}");
    }
    let file = args.config.clone().or_else(default_config_file);
    let layered = Layered::load(file.as_deref())?;
    let d = Limits::default();
    let num = |cli: Option<u64>, key: &str, default: usize| -> anyhow::Result<usize> {
        Ok(cli.or(layered.u64(key)?).map_or(default, |v| v as usize))
    };
    let limits = Limits {
        max_exchanges: num(args.max_exchanges, "maxExchanges", d.max_exchanges)?.max(1),
        max_total_bytes: num(args.max_capture_bytes, "maxCaptureBytes", d.max_total_bytes)?,
        max_streaming_capture_bytes: num(
            args.max_streaming_capture_bytes,
            "maxStreamingCaptureBytes",
            d.max_streaming_capture_bytes,
        )?,
        max_body_capture_bytes: num(
            args.max_body_capture_bytes,
            "maxBodyCaptureBytes",
            d.max_body_capture_bytes,
        )?,
    };
    // Seconds, 0 meaning "never".
    let limit = |cli: Option<u64>, key: &str, default: u64| -> anyhow::Result<Option<Duration>> {
        let secs = cli.or(layered.u64(key)?).unwrap_or(default);
        Ok((secs > 0).then(|| Duration::from_secs(secs)))
    };
    let relay = RelaySettings {
        streaming_enabled: args
            .streaming_responses_enabled
            .or(layered.bool("streamingResponsesEnabled")?)
            .unwrap_or(true),
        idle_timeout: limit(
            args.stream_idle_timeout_seconds,
            "streamIdleTimeoutSeconds",
            60,
        )?,
        client_idle_timeout: limit(
            args.client_idle_timeout_seconds,
            "clientIdleTimeoutSeconds",
            60,
        )?,
        upstream_connect_timeout: limit(
            args.upstream_connect_timeout_seconds,
            "upstreamConnectTimeoutSeconds",
            10,
        )?,
        upstream_response_timeout: limit(
            args.upstream_response_timeout_seconds,
            "upstreamResponseTimeoutSeconds",
            600,
        )?,
        max_client_connections: None,
    };
    Ok(Resolved { limits, relay })
}

fn default_config_file() -> Option<PathBuf> {
    let path = super::project_dirs()?.config_dir().join("config.json");
    path.exists().then_some(path)
}

/// Prices in `pricing.json` in the user config directory replace or extend
/// the embedded table (new models, negotiated rates).
fn install_pricing_override() -> anyhow::Result<()> {
    let Some(path) = super::project_dirs().map(|d| d.config_dir().join("pricing.json")) else {
        return Ok(());
    };
    if !path.exists() {
        return Ok(());
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    crate::pricing::install_override(&text)
        .with_context(|| format!("{} is not a valid price list", path.display()))
}

pub fn run(common: &CommonArgs, args: &ProxyArgs) -> anyhow::Result<ExitCode> {
    let settings = resolve(args)?;
    install_pricing_override()?;
    raise_fd_limit();
    log_engine_panics();
    let ca = Arc::new(prepare_ca(&super::ca_dir(common)?)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
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

async fn serve(
    common: &CommonArgs,
    args: &ProxyArgs,
    settings: Resolved,
    ca: Arc<crate::ca::CertificateAuthority>,
) -> anyhow::Result<ExitCode> {
    let secrets = if args.save_secrets {
        capture::save::Secrets::Keep
    } else {
        capture::save::Secrets::Mask
    };
    let mut sinks = Vec::new();
    if let Some(path) = &args.save {
        sinks.push(capture::save::spawn_writer(path, secrets)?);
    }
    let exporter = otlp_exporter(args)?;
    if let Some(e) = &exporter {
        sinks.push(e.sink.clone());
    }
    let exporter_status = exporter.map(|e| e.status);
    let history = start_history(common, args);
    if let Some(h) = &history {
        sinks.push(h.sink.clone());
    }
    let history_status = history.as_ref().map(|h| h.status.clone());
    let files = files_root(args)?;
    let (recorder, store, events) = capture::spawn(settings.limits, sinks);
    let log_events = events.subscribe();
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
        exporter: exporter_status.clone(),
        history: history_status.clone(),
    });
    let policy =
        crate::api::guard::ControlPolicy::new(&args.allow_host, common.control_token.clone());
    let api = crate::api::guard::guarded(policy, recorder.clone(), api);
    let trust = UpstreamTrust {
        extra_ca_files: args.upstream_ca.clone(),
        insecure: args.insecure_upstream,
    };
    let engine = Engine::start(EngineConfig {
        listen: common.listen,
        ca: ca.clone(),
        trust,
        settings: settings.relay,
        recorder: recorder.clone(),
        api,
        responder: Some(Arc::new(mock.clone())),
        proxy_auth: proxy_credentials(args)?,
        routes: crate::engine::Routes::parse(&args.routes)?,
    })
    .await?;
    print_banner(&engine, &ca, common, args);
    if let Some(h) = &history {
        h.set_listen(&connectable(engine.local_addr()).to_string());
        crate::note!(
            "llmspy: history in {} (run {}; `llmspy history` lists runs, --no-history keeps nothing)",
            h.status.path.display(),
            h.status.run_id
        );
    }
    if args.headless() {
        let logger = tokio::spawn(crate::headless::run(store.clone(), log_events, args.json));
        wait_for_signal().await;
        crate::note!("llmspy: stopping; letting in-flight exchanges finish…");
        logger.abort();
    } else {
        drop(log_events);
        let mut info = ui_info(&engine, &ca, &recorder, &mock);
        if let Some(status) = history_status.clone() {
            info.history = Some(super::history::ui_source(status.path.clone()));
            info.sink_status.push(Arc::new(move || status.line()));
        }
        if let Some(status) = exporter_status.clone() {
            info.sink_status.push(Arc::new(move || status.line()));
        }
        let ui_events = events.subscribe();
        let ui_store = store.clone();
        // The UI owns this (main) thread until the user quits; the engine
        // keeps running on the runtime's worker threads meanwhile.
        tokio::task::block_in_place(|| crate::tui::run(ui_store, ui_events, info))
            .context("running the terminal UI (no terminal here? run with --no-tui)")?;
    }
    engine.shutdown().await;
    drain(&store, &recorder).await;
    if let Some(h) = history {
        // Writes what is left and marks the run ended: a SIGTERM loses nothing.
        tokio::task::block_in_place(|| h.finish());
    }
    drop(events);
    Ok(ExitCode::SUCCESS)
}

/// The history database, unless `--no-history`. A file that cannot be
/// written (corrupt, read-only, newer) is one warning: llmspy still relays.
fn start_history(common: &CommonArgs, args: &ProxyArgs) -> Option<crate::history::History> {
    if args.no_history {
        return None;
    }
    let path = match super::history::file(common, args.history.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            crate::note!("llmspy: warning: no history this run: {e:#}");
            return None;
        }
    };
    let run = crate::history::RunInfo {
        listen: connectable(common.listen).to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let max = args
        .history_max_bytes
        .unwrap_or(crate::history::DEFAULT_MAX_BYTES);
    match crate::history::start(&path, &run, max) {
        Ok(h) => Some(h),
        Err(e) => {
            crate::note!(
                "llmspy: warning: no history this run (traffic is still relayed and shown): {e}"
            );
            None
        }
    }
}

/// The OpenTelemetry exporter, when `--otlp` or the `OTEL_*` variables ask
/// for one.
fn otlp_exporter(args: &ProxyArgs) -> anyhow::Result<Option<crate::otel::Exporter>> {
    let env = |name: &str| std::env::var(name).ok();
    let Some(settings) = crate::otel::resolve(args.otlp.as_deref(), args.otlp_content, &env)?
    else {
        return Ok(None);
    };
    let endpoint = settings.traces_endpoint.clone();
    let protocol = match settings.protocol {
        crate::otel::Protocol::HttpProtobuf => "http/protobuf",
        crate::otel::Protocol::Grpc => "grpc",
    };
    let content = if settings.content {
        "with message content (masked)"
    } else {
        "without message content (--otlp-content adds it)"
    };
    let exporter = crate::otel::spawn(settings)?;
    crate::note!("llmspy: exporting spans to {endpoint} over OTLP {protocol}, {content}");
    Ok(Some(exporter))
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
/// paste into the agent's shell, and how `z` clears the store.
fn ui_info(
    engine: &Engine,
    ca: &crate::ca::CertificateAuthority,
    recorder: &Recorder,
    mock: &crate::mock::Expectations,
) -> crate::tui::UiInfo {
    let addr = engine.local_addr();
    let mut info = crate::tui::UiInfo::live(connectable(addr).to_string());
    info.setup = export_lines(&agent_vars(addr, ca))
        .lines()
        .map(str::to_string)
        .collect();
    let recorder = recorder.clone();
    info.on_clear = Some(Box::new(move || recorder.send(CaptureMsg::Clear(None))));
    let mock = mock.clone();
    info.expectations = Some(Arc::new(move || {
        crate::api::ActiveExpectations::active(&mock)
    }));
    info
}

fn print_banner(
    engine: &Engine,
    ca: &crate::ca::CertificateAuthority,
    common: &CommonArgs,
    args: &ProxyArgs,
) {
    let addr = engine.local_addr();
    if !addr.ip().is_loopback() {
        let control = if common.control_token.is_some() {
            "the control API needs the --control-token"
        } else {
            "the control API answers loopback clients only (set --control-token to reach it from elsewhere)"
        };
        let proxy = if args.proxy_auth.is_some() {
            "proxy clients must authenticate (--proxy-auth)"
        } else {
            "anyone who can reach it can use it as a proxy (set --proxy-auth to require credentials)"
        };
        crate::note!(
            "llmspy: WARNING: listening on {addr}, reachable from other machines; {proxy}; {control}"
        );
    }
    if args.save_secrets {
        crate::note!(
            "llmspy: WARNING: --save-secrets: API keys and other credentials are written to the --save file in clear"
        );
    }
    if args.insecure_upstream {
        crate::note!(
            "llmspy: WARNING: --insecure-upstream: upstream certificates are NOT verified"
        );
    }
    crate::note!(
        "llmspy {} listening on {addr} (proxy, CONNECT, SOCKS5 and control API at http://{}/llmspy/)",
        env!("CARGO_PKG_VERSION"),
        connectable(addr)
    );
    crate::note!("CA certificate: {}", ca.cert_path().display());
    let flags = client_flags(&connectable(addr).to_string(), common);
    crate::note!(
        "In the agent's shell (or: eval \"$(llmspy env{flags})\", or: llmspy run{flags} -- CMD):\n"
    );
    eprint!("{}", export_lines(&agent_vars(addr, ca)));
    crate::note!();
}

/// The flags `llmspy env` / `llmspy run` need in another shell to find
/// this llmspy: its address unless the default, its CA directory if given.
fn client_flags(listen: &str, common: &CommonArgs) -> String {
    let mut flags = String::new();
    if listen != super::args::DEFAULT_LISTEN {
        flags.push_str(&format!(" --listen {listen}"));
    }
    if let Some(dir) = &common.ca_dir {
        flags.push_str(&format!(" --ca-dir '{}'", dir.display()));
    }
    flags
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// Give in-flight exchanges a grace period, finalise the rest, flush `--save`.
pub async fn drain(store: &StoreReader, recorder: &Recorder) {
    drain_within(store, recorder, SHUTDOWN_GRACE).await;
}

/// [`drain`] with a chosen grace period.
pub async fn drain_within(store: &StoreReader, recorder: &Recorder, grace: Duration) {
    let deadline = tokio::time::Instant::now() + grace;
    // Polling the store is fine here: this runs once, at exit.
    while any_open(store) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let failure = Failure::new(
        FailureKind::Shutdown,
        "llmspy stopped before this exchange finished",
    );
    recorder.send(CaptureMsg::FinishOpen { failure });
    let (done, flushed) = tokio::sync::oneshot::channel();
    recorder.send(CaptureMsg::Flush(done));
    let _ = tokio::time::timeout(Duration::from_secs(5), flushed).await;
}

fn any_open(store: &StoreReader) -> bool {
    store.read().all().any(|r| !r.exchange.state.is_finished())
}
