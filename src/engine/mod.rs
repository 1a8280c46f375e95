//! The engine: the only code that touches sockets.
//!
//! One listener serves everything: HTTP proxy requests (absolute form),
//! `CONNECT` tunnels (intercepted), SOCKS5 (intercepted), and origin-form
//! requests to llmspy itself, which go to the control API handler given at
//! start (so the engine knows nothing of the API's internals).

mod accept;
mod clients;
mod conns;
mod cork;
mod deadline;
mod failure;
pub mod fdlimit;
mod guard;
mod linger;
mod listener;
mod mitm;
mod noisy;
mod not_itself;
mod pinned;
mod procfs;
mod proxy_auth;
mod relay;
mod resend;
pub mod reverse;
mod rewind;
mod serve;
pub mod sniff;
#[cfg(target_os = "linux")]
mod sockdiag;
pub mod socks5;
mod stream_deadline;
mod tee;
mod timed_connect;
mod tunnel;
mod unwind;
pub mod upstream;
mod upstream_io;
pub mod workers;
mod write_deadline;
mod ws_tap;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;

use crate::ca::CertificateAuthority;
use crate::capture::Recorder;
pub use workers::Workers;

pub use crate::respond::{Decision, ForwardOverride, MockChunk, MockResponse, Responder};
pub use relay::{empty, error_response, full};
pub use reverse::{RouteError, Routes};
pub use upstream::{UpstreamBody, UpstreamTrust};

/// The error type of bodies flowing through the engine.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A future answering a control-API request.
pub type ApiFuture = Pin<Box<dyn Future<Output = http::Response<UpstreamBody>> + Send>>;

/// Handles requests addressed to llmspy itself (`/llmspy/…`, `/mockserver/…`).
pub type ApiHandler = Arc<dyn Fn(http::Request<Incoming>) -> ApiFuture + Send + Sync>;

/// The connection a control request came on, put in its extensions so the
/// API can tell loopback callers from others and check `Host` against the
/// address the client actually connected to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnInfo {
    pub peer: SocketAddr,
    pub local: SocketAddr,
}

/// `--proxy-auth USER:PASS`: what proxy clients must present (HTTP
/// `Proxy-Authorization: Basic`, or SOCKS5 username/password).
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyCredentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for ProxyCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProxyCredentials({}:***)", self.user)
    }
}

/// Relay behaviour settings (MockServer's names in comments).
#[derive(Debug, Clone)]
pub struct RelaySettings {
    /// `streamingResponsesEnabled`: forward bodies frame by frame.
    pub streaming_enabled: bool,
    /// `streamIdleTimeoutSeconds`: close a body that sends nothing this long.
    pub idle_timeout: Option<Duration>,
    /// `clientIdleTimeoutSeconds`: how long a client connection may sit with
    /// no request in progress (sniffing, SOCKS5 and TLS handshakes, an
    /// unfinished request head, keep-alive), or stall sending a request body.
    pub client_idle_timeout: Option<Duration>,
    /// `upstreamConnectTimeoutSeconds`: TCP connect plus TLS handshake.
    pub upstream_connect_timeout: Option<Duration>,
    /// `upstreamResponseTimeoutSeconds`: from the request being sent to the
    /// response head. Long: a non-streamed completion can think for minutes.
    pub upstream_response_timeout: Option<Duration>,
    /// Most client connections held at once; past it the longest-idle ones
    /// are shed. None: derived from the open-file limit at start.
    pub max_client_connections: Option<usize>,
    /// How long an idle upstream connection is kept for reuse.
    pub upstream_idle_timeout: Duration,
}

impl Default for RelaySettings {
    fn default() -> Self {
        RelaySettings {
            streaming_enabled: true,
            idle_timeout: Some(Duration::from_secs(60)),
            client_idle_timeout: Some(Duration::from_secs(60)),
            upstream_connect_timeout: Some(Duration::from_secs(10)),
            upstream_response_timeout: Some(Duration::from_secs(600)),
            max_client_connections: None,
            upstream_idle_timeout: Duration::from_secs(90),
        }
    }
}

/// Everything the engine needs to run.
pub struct EngineConfig {
    pub listen: SocketAddr,
    pub ca: Arc<CertificateAuthority>,
    pub trust: UpstreamTrust,
    pub settings: RelaySettings,
    pub recorder: Recorder,
    pub api: ApiHandler,
    /// Mock expectations, consulted before each request goes upstream.
    pub responder: Option<Arc<dyn Responder>>,
    /// Credentials proxy clients must present, if any.
    pub proxy_auth: Option<ProxyCredentials>,
    /// `--route NAME=URL`: named upstreams for base-URL mode.
    pub routes: Routes,
    /// Relay workers to serve client connections on; none: the runtime
    /// that starts the engine serves them.
    pub workers: Option<Arc<Workers>>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot listen on {addr} (is another llmspy running? choose another with --listen)")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Upstream(#[from] upstream::UpstreamError),
}

/// State shared by every connection. There is one per thread that serves
/// connections (index 0 for the starting runtime, then one per relay
/// worker), each holding the same parts: a request clones its thread's
/// `Arc<Shared>` and recorder, and those counts stay in that core's cache
/// instead of moving between cores on every request.
#[derive(Clone)]
pub(crate) struct Shared {
    pub recorder: Recorder,
    /// The upstream pools: one pair per thread that serves connections
    /// (index 0 for the starting runtime, then one per relay worker), so a
    /// pooled connection is driven by the thread whose requests use it.
    pub upstreams: Arc<[upstream::Pools]>,
    pub workers: Option<Arc<Workers>>,
    pub ca: Arc<CertificateAuthority>,
    pub settings: RelaySettings,
    pub api: ApiHandler,
    pub responder: Option<Arc<dyn Responder>>,
    pub proxy_auth: Option<ProxyCredentials>,
    pub local_addr: SocketAddr,
    /// Every open client connection, for idle deadlines and shedding.
    pub conns: Arc<conns::Registry>,
    pub routes: Routes,
    /// Which program each open connection belongs to.
    pub clients: Arc<clients::ClientNames>,
}

impl Shared {
    /// The upstream clients of the thread this runs on.
    fn upstream_pools(&self) -> &upstream::Pools {
        self.upstreams
            .get(workers::current())
            .unwrap_or(&self.upstreams[0])
    }

    /// The same parts for another thread, with a recorder handle of its own.
    fn for_another_thread(&self) -> Shared {
        Shared {
            recorder: self.recorder.for_another_thread(),
            ..self.clone()
        }
    }
}

/// A running engine. Dropping it does not stop it; call [`Engine::shutdown`].
pub struct Engine {
    local_addr: SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    accept_loop: tokio::task::JoinHandle<()>,
}

impl Engine {
    /// Bind and start serving on the current runtime.
    pub async fn start(config: EngineConfig) -> Result<Engine, EngineError> {
        let threads = 1 + config.workers.as_ref().map_or(0, |w| w.len());
        let tls = upstream::tls_config(&config.trust)?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| EngineError::Bind {
                addr: config.listen,
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| EngineError::Bind {
            addr: config.listen,
            source,
        })?;
        // Built once the address is known: they refuse to connect to it.
        let upstreams: Arc<[upstream::Pools]> = (0..threads)
            .map(|_| upstream::Pools::new(&tls, &config.settings, local_addr))
            .collect();
        let budget = config
            .settings
            .max_client_connections
            .unwrap_or_else(fdlimit::client_connection_budget);
        let shared = Shared {
            recorder: config.recorder,
            upstreams,
            workers: config.workers,
            ca: config.ca,
            settings: config.settings,
            api: config.api,
            responder: config.responder,
            proxy_auth: config.proxy_auth,
            local_addr,
            conns: conns::Registry::new(budget),
            routes: config.routes,
            clients: Arc::default(),
        };
        let per_thread = (1..threads)
            .map(|_| Arc::new(shared.for_another_thread()))
            .collect::<Vec<_>>();
        let per_thread = std::iter::once(Arc::new(shared))
            .chain(per_thread)
            .collect();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let accept_loop = tokio::spawn(listener::accept_loop(listener, per_thread, stopped));
        Ok(Engine {
            local_addr,
            stop,
            accept_loop,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stop accepting new connections. Open connections carry on until they
    /// end or the runtime is dropped.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.accept_loop.await;
    }
}
