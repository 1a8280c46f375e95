//! Where finished exchanges go besides the store: the `--no-tui` log, the
//! `--save` file, the OpenTelemetry exporter and the history database, each
//! a capture sink started before the capture task that feeds it. The
//! history opens its database on its own thread while llmspy starts
//! listening ([`opened`] waits for it).

use std::sync::Arc;

use crate::capture::{self, Sink};
use crate::cli::args::{CommonArgs, ProxyArgs};
use crate::cli::env::connectable;

/// The sinks to hand the capture task, and the handles llmspy keeps.
pub struct Sinks {
    pub list: Vec<Sink>,
    /// What the `--no-tui` log prints (see [`crate::headless`]).
    pub log: Option<tokio::sync::mpsc::UnboundedReceiver<capture::SinkMsg>>,
    pub exporter: Option<Arc<crate::otel::ExporterStatus>>,
    pub history: Option<crate::history::Starting>,
}

/// Start every sink the flags ask for, in the order they are fed.
pub fn start(common: &CommonArgs, args: &ProxyArgs) -> anyhow::Result<Sinks> {
    let secrets = if args.save_secrets {
        capture::save::Secrets::Keep
    } else {
        capture::save::Secrets::Mask
    };
    let mut list = Vec::new();
    let log = args.headless().then(|| {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        list.push(Sink::new(tx));
        rx
    });
    if let Some(path) = &args.save {
        list.push(capture::save::spawn_writer(path, secrets)?);
    }
    let exporter = otlp_exporter(args)?;
    if let Some(e) = &exporter {
        list.push(e.sink.clone());
    }
    let history = start_history(common, args);
    if let Some(h) = &history {
        list.push(h.sink.clone());
    }
    Ok(Sinks {
        list,
        log,
        exporter: exporter.map(|e| e.status),
        history,
    })
}

/// The history database, unless `--no-history`. A file that cannot be
/// written (corrupt, read-only, newer) is one warning: llmspy still relays.
fn start_history(common: &CommonArgs, args: &ProxyArgs) -> Option<crate::history::Starting> {
    if args.no_history {
        return None;
    }
    let path = match crate::cli::history::file(common, args.history.as_deref()) {
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
    crate::history::begin(&path, &run, max)
        .map_err(warn_no_history)
        .ok()
}

/// The history once its database is open and this run recorded; a file
/// that cannot be written is one warning (what reached the sink is lost).
pub fn opened(starting: crate::history::Starting) -> Option<crate::history::History> {
    tokio::task::block_in_place(|| starting.wait())
        .map_err(warn_no_history)
        .ok()
}

fn warn_no_history(e: crate::history::HistoryError) {
    // With its causes: "cannot create the history file …: Read-only file system".
    let e = anyhow::Error::new(e);
    crate::note!(
        "llmspy: warning: no history this run (traffic is still relayed and shown): {e:#}"
    );
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
    let metrics = match &settings.metrics_endpoint {
        Some(url) if *url == endpoint => String::new(),
        Some(url) => format!(", metrics to {url}"),
        None => ", no metrics (set OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: the traces URL is not \
                 .../v1/traces, so where metrics go cannot be told)"
            .to_string(),
    };
    let exporter = crate::otel::spawn(settings)?;
    crate::note!("llmspy: exporting spans to {endpoint} over OTLP {protocol}, {content}{metrics}");
    Ok(Some(exporter))
}
