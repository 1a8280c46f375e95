//! llmspy's engine running in-process on 127.0.0.1:0 with a temporary CA.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use llmspy::capture::{self, Limits, Recorder, StoreEvent, StoreReader};
use llmspy::engine::{Engine, EngineConfig, RelaySettings, UpstreamTrust};
use llmspy::exchange::Exchange;
use tokio::sync::broadcast;

pub struct TestProxy {
    pub addr: SocketAddr,
    pub store: StoreReader,
    pub recorder: Recorder,
    pub events: broadcast::Receiver<StoreEvent>,
    pub ca_file: PathBuf,
    pub ca: Arc<llmspy::ca::CertificateAuthority>,
    /// The control plane's files root (a temporary directory unless set).
    pub files_root: PathBuf,
    _engine: Engine,
    _dir: tempfile::TempDir,
}

#[derive(Default)]
pub struct Options {
    pub limits: Limits,
    pub relay: RelaySettings,
    pub upstream_ca: Vec<PathBuf>,
    pub responder: Option<Arc<dyn llmspy::engine::Responder>>,
    /// What the control API lists as active expectations.
    pub expectations: Option<Arc<dyn llmspy::api::ActiveExpectations>>,
    /// Wire these expectations as the binary does: they answer requests,
    /// the API lists them, and the mock routes (`expectation`,
    /// `fixtures/record`, `mcp`, `mcp-stdio/ingest`) are served.
    pub mock: Option<llmspy::mock::Expectations>,
    /// Who may drive the control API (the binary's defaults unless set).
    pub control: llmspy::api::guard::ControlPolicy,
    /// `--proxy-auth`.
    pub proxy_auth: Option<llmspy::engine::ProxyCredentials>,
    /// `--files-root` (default: a fresh temporary directory).
    pub files_root: Option<PathBuf>,
    /// Capture sinks (`--save`, the OTLP exporter).
    pub sinks: Vec<llmspy::capture::Sink>,
    /// The exporter whose state `/llmspy/status` reports.
    pub exporter: Option<Arc<llmspy::otel::ExporterStatus>>,
    /// `--route NAME=URL`.
    pub routes: llmspy::engine::Routes,
    /// `--workers N`: relay workers of their own (none: the test's runtime).
    pub workers: Option<usize>,
}

/// Relay workers as the binary starts them (one per core), for benches
/// that measure the relay as users run it; `LLMSPY_WORKERS=0` serves on
/// the caller's runtime instead.
pub fn workers_as_the_binary() -> Option<usize> {
    match std::env::var("LLMSPY_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        Some(0) => None,
        Some(n) => Some(n),
        None => std::thread::available_parallelism().ok().map(usize::from),
    }
}

impl TestProxy {
    pub async fn start(upstream_ca: &std::path::Path) -> TestProxy {
        Self::with(Options {
            upstream_ca: vec![upstream_ca.to_path_buf()],
            ..Options::default()
        })
        .await
    }

    /// A proxy trusting `upstream_ca`, with these capture limits.
    pub async fn with_limits(upstream_ca: &std::path::Path, limits: Limits) -> TestProxy {
        Self::with(Options {
            limits,
            upstream_ca: vec![upstream_ca.to_path_buf()],
            ..Options::default()
        })
        .await
    }

    pub async fn with(opts: Options) -> TestProxy {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca =
            Arc::new(llmspy::ca::CertificateAuthority::load_or_create(dir.path()).expect("CA"));
        let (recorder, store, events_tx) = capture::spawn(opts.limits, opts.sinks);
        let events = events_tx.subscribe();
        let mock = opts.mock;
        let expectations = opts.expectations.or_else(|| {
            mock.clone()
                .map(|m| Arc::new(m) as Arc<dyn llmspy::api::ActiveExpectations>)
        });
        let files_root = match opts.files_root {
            Some(root) => root,
            None => {
                let root = dir.path().join("files");
                std::fs::create_dir_all(&root).expect("files root");
                root
            }
        };
        let api = llmspy::api::handler(llmspy::api::ApiContext {
            store: store.clone(),
            recorder: recorder.clone(),
            events: events_tx.clone(),
            expectations,
            mock: mock.clone(),
            files: Arc::new(llmspy::api::files::FilesRoot::new(&files_root).expect("files root")),
            mcp_sessions: Arc::default(),
            ca_pem: ca.cert_pem().into(),
            listen: "127.0.0.1:0".parse().expect("addr"),
            exporter: opts.exporter,
            history: None,
        });
        let api = llmspy::api::guard::guarded(opts.control, recorder.clone(), api);
        let responder = opts
            .responder
            .or_else(|| mock.map(|m| Arc::new(m) as Arc<dyn llmspy::engine::Responder>));
        let engine = Engine::start(EngineConfig {
            listen: "127.0.0.1:0".parse().expect("addr"),
            ca: ca.clone(),
            trust: UpstreamTrust {
                extra_ca_files: opts.upstream_ca,
                insecure: false,
            },
            settings: opts.relay,
            recorder: recorder.clone(),
            api,
            responder,
            proxy_auth: opts.proxy_auth,
            routes: opts.routes,
            workers: opts
                .workers
                .map(|n| llmspy::engine::Workers::start(n, "test-relay").expect("workers")),
        })
        .await
        .expect("engine starts");
        // Keep the sender alive for as long as the proxy: dropping it would close the channel.
        std::mem::forget(events_tx);
        TestProxy {
            addr: engine.local_addr(),
            store,
            recorder,
            events,
            ca_file: ca.cert_path(),
            ca,
            files_root,
            _engine: engine,
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Wait (signal-driven, bounded) until `n` exchanges have finished.
    pub async fn finished(&mut self, n: usize) -> Vec<Exchange> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let done: Vec<Exchange> = {
                let s = self.store.read();
                s.query(&|r| r.exchange.state.is_finished())
                    .map(|r| r.exchange.clone())
                    .collect()
            };
            if done.len() >= n {
                return done;
            }
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
                Ok(Err(e)) => panic!("event channel: {e}"),
                Err(_) => panic!(
                    "timed out waiting for {n} finished exchanges; have {}",
                    done.len()
                ),
            }
        }
    }

    /// The single finished exchange (waits for it).
    pub async fn only(&mut self) -> Exchange {
        let mut v = self.finished(1).await;
        assert_eq!(v.len(), 1, "expected one exchange: {v:#?}");
        v.remove(0)
    }
}
