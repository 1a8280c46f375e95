//! The pooled upstream clients: keep-alive HTTP/1.1 and multiplexed HTTP/2
//! (chosen by what the server negotiates over ALPN) for clients that spoke
//! HTTP/2, and HTTP/1.1 only for clients that spoke HTTP/1.x and for
//! upgrades.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http_body_util::combinators::BoxBody;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use rustls::RootCertStore;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

use super::BoxError;

pub type UpstreamBody = BoxBody<bytes::Bytes, BoxError>;
/// How llmspy opens an upstream connection: TCP (never to itself), TLS,
/// read and written as upstream_io.rs says, within the connect deadline.
pub type Connector = super::timed_connect::TimedConnector<
    super::upstream_io::UpstreamIoConnector<
        hyper_rustls::HttpsConnector<super::not_itself::NotItself<HttpConnector>>,
    >,
>;
pub type UpstreamClient = Client<Connector, UpstreamBody>;

/// What upstream servers llmspy trusts.
#[derive(Debug, Clone, Default)]
pub struct UpstreamTrust {
    /// Extra CA files (PEM), e.g. a private CA or a test upstream's CA.
    pub extra_ca_files: Vec<PathBuf>,
    /// Accept any upstream certificate. Loud, explicit opt-out only.
    pub insecure: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("cannot read upstream CA file {path}")]
    ReadCa {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} holds no PEM certificate")]
    EmptyCa { path: PathBuf },
    #[error("cannot build the upstream TLS configuration")]
    Tls(#[source] rustls::Error),
}

/// The system's root certificates (honouring `SSL_CERT_FILE`), read once
/// per process: the bundle for clients and both upstream clients share
/// them.
fn system_certs() -> &'static [CertificateDer<'static>] {
    static CERTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    CERTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

/// The system roots parsed as trust anchors, falling back to the bundled
/// Mozilla set (once per process).
fn system_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = RootCertStore::empty();
        let (added, _) = roots.add_parsable_certificates(system_certs().iter().cloned());
        if added == 0 {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        roots
    })
}

/// The roots llmspy verifies upstreams against: the system's (honouring
/// `SSL_CERT_FILE`), falling back to the bundled Mozilla set, plus extras.
pub fn root_store(trust: &UpstreamTrust) -> Result<(RootCertStore, usize), UpstreamError> {
    let mut roots = system_roots().clone();
    for path in &trust.extra_ca_files {
        let pem = std::fs::read(path).map_err(|source| UpstreamError::ReadCa {
            path: path.clone(),
            source,
        })?;
        let certs = crate::ca::pem_certs(&pem);
        if certs.is_empty() {
            return Err(UpstreamError::EmptyCa { path: path.clone() });
        }
        roots.add_parsable_certificates(certs);
    }
    let count = roots.len();
    Ok((roots, count))
}

/// The system roots as PEM, for the CA bundle handed to clients.
pub fn system_roots_pem() -> String {
    crate::ca::to_pem(system_certs())
}

/// A thread's upstream clients.
pub struct Pools {
    /// Offers HTTP/2 and HTTP/1.1: for clients that spoke HTTP/2.
    pub any: UpstreamClient,
    /// HTTP/1.1 only: for clients that spoke HTTP/1.x, and upgrades.
    pub http1: UpstreamClient,
    /// HTTP/1.1 connections intercepted client connections keep (pinned.rs),
    /// idle between two of them.
    pub pinned: Arc<super::pinned::Idle>,
}

impl Pools {
    /// Pools for one thread; `tls` is built once ([`tls_config`]) and
    /// shared, so the roots are parsed once however many threads relay.
    pub fn new(
        tls: &rustls::ClientConfig,
        settings: &super::RelaySettings,
        itself: std::net::SocketAddr,
    ) -> Pools {
        let connect_timeout = settings.upstream_connect_timeout;
        let idle = settings.upstream_idle_timeout;
        let http1 = connector(tls.clone(), connect_timeout, false, itself);
        Pools {
            any: build(connector(tls.clone(), connect_timeout, true, itself), idle),
            // HTTP/1.1 only: a pooled connection per request in flight, as
            // the client asked for, and protocol upgrades (WebSocket),
            // since over HTTP/2 the `Upgrade` header means nothing.
            http1: build(http1.clone(), idle),
            pinned: super::pinned::Idle::new(http1, idle),
        }
    }
}

/// The TLS settings every upstream connection uses: the system roots plus
/// `--upstream-ca` files, or no verification with `--insecure-upstream`.
pub fn tls_config(trust: &UpstreamTrust) -> Result<rustls::ClientConfig, UpstreamError> {
    let provider = crate::tls::provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(UpstreamError::Tls)?;
    Ok(if trust.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
            .with_no_client_auth()
    } else {
        let (roots, _) = root_store(trust)?;
        builder.with_root_certificates(roots).with_no_client_auth()
    })
}

/// HTTP/2 flow-control windows towards upstreams (see where they are set).
/// HTTP/2 clients share one upstream connection per origin, and a stream
/// whose client stopped reading keeps its window's worth of the
/// connection's window until it ends: with the connection's window twice a
/// stream's, two such clients stalled everyone else on the connection.
/// Sixteen times leaves room for fifteen, and bounds what a connection
/// can hold unread to 64 MiB.
const UPSTREAM_STREAM_WINDOW: u32 = 4 * 1024 * 1024;
const UPSTREAM_CONNECTION_WINDOW: u32 = 16 * UPSTREAM_STREAM_WINDOW;

/// A connector offering HTTP/2 over ALPN when `http2`; `connect_timeout`
/// bounds TCP connect and TLS handshake together.
fn connector(
    config: rustls::ClientConfig,
    connect_timeout: Option<Duration>,
    http2: bool,
    itself: std::net::SocketAddr,
) -> Connector {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    let http = super::not_itself::NotItself {
        inner: http,
        itself,
    };
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http();
    let https = if http2 {
        https.enable_all_versions().wrap_connector(http)
    } else {
        https.enable_http1().wrap_connector(http)
    };
    let https = super::upstream_io::UpstreamIoConnector(https);
    super::timed_connect::TimedConnector::new(https, connect_timeout)
}

/// A pooled client over `https`.
fn build(https: Connector, idle: Duration) -> UpstreamClient {
    // Spawns each connection's task in a cork scope (cork.rs).
    Client::builder(super::cork::ScopedExecutor)
        .pool_idle_timeout(idle)
        // Without a timer the pool never reaps: an idle connection was only
        // noticed expired when next checked out, so a burst's connections
        // stayed open for as long as llmspy ran. No cap on how many: a
        // thousand streams at once keep their warm connections (capped at
        // 32, each new burst paid a TLS handshake per stream, a second at
        // p99 for the first byte in the streams bench).
        .pool_timer(hyper_util::rt::TokioTimer::new())
        // Fixed windows, not hyper's adaptive one: that starts at 64 KiB,
        // and h2 budgets the overhead of small DATA frames it holds by half
        // the connection's window, then closes the whole connection
        // (GOAWAY ENHANCE_YOUR_CALM). An LLM stream is a small frame per
        // event: a few hundred buffered while the client read slowly ended
        // every stream on that connection. Throughput is the same either
        // way (docs/benchmarks.md, "HTTP/2 writes gathered").
        .http2_initial_stream_window_size(UPSTREAM_STREAM_WINDOW)
        .http2_initial_connection_window_size(UPSTREAM_CONNECTION_WINDOW)
        .http2_max_header_list_size(super::serve::MAX_HEADER_LIST)
        .build(https)
}

/// `--insecure-upstream`: accepts every certificate, still checks signatures
/// are well-formed so the handshake itself completes.
#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
