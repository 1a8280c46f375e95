//! Inside a CONNECT or SOCKS5 tunnel: sniff again, then intercept TLS with a
//! leaf minted for the host, serve plain HTTP as is, or pass anything else
//! through untouched.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::LazyConfigAcceptor;

use super::relay::{Target, relay};
use super::rewind::{Rewind, sniff};
use super::sniff::{Protocol, Verdict};
use super::{Shared, failure};
use crate::capture::CaptureMsg;
use crate::exchange::{Body, Exchange, Request, State, Timings, Via};

/// How long a tunnel may stay silent before its first bytes.
const FIRST_BYTES_TIMEOUT: Duration = Duration::from_secs(30);

/// Handle the bytes of a tunnel the client opened to `host:port`.
pub async fn intercept<S>(
    shared: Arc<Shared>,
    mut io: S,
    host: String,
    port: u16,
    via: Via,
    client: Option<SocketAddr>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let sniffed = tokio::time::timeout(FIRST_BYTES_TIMEOUT, sniff(&mut io, 16)).await;
    let (prefix, verdict) = match sniffed {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => return tracing::debug!("tunnel to {host}:{port} closed early: {e}"),
        Err(_) => return tracing::debug!("tunnel to {host}:{port} sent nothing"),
    };
    let io = Rewind::new(prefix, io);
    match verdict {
        Verdict::Known(Protocol::Tls) => tls(shared, io, host, port, via, client).await,
        Verdict::Known(Protocol::Http) => {
            let target = Target {
                scheme: "http",
                host,
                port,
            };
            serve(shared, io, target, via, client).await;
        }
        Verdict::NeedMore => {}
        Verdict::Known(Protocol::Socks5) | Verdict::Unknown => {
            tracing::info!("passing an unrecognised protocol to {host}:{port} through untouched");
            super::tunnel::raw(io, &format!("{host}:{port}")).await;
        }
    }
}

async fn tls<S>(
    shared: Arc<Shared>,
    io: Rewind<S>,
    host: String,
    port: u16,
    via: Via,
    client: Option<SocketAddr>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let started = Instant::now();
    let acceptor = LazyConfigAcceptor::new(rustls::server::Acceptor::default(), io);
    let start = match acceptor.await {
        Ok(s) => s,
        Err(e) => return tracing::info!("not a TLS ClientHello for {host}: {e}"),
    };
    let sni = start.client_hello().server_name().map(str::to_string);
    // Present a certificate for the name the client will check.
    let cert_host = sni.clone().unwrap_or_else(|| host.clone());
    let config = match shared.ca.server_config(&cert_host).await {
        Ok(c) => c,
        Err(e) => return tracing::error!("{e}"),
    };
    let stream = match start.into_stream(config).await {
        Ok(s) => s,
        Err(e) => return record_tls_failure(&shared, &cert_host, port, via, client, started, &e),
    };
    // Dial what the client asked for; an IP target with a DNS SNI (SOCKS5
    // clients resolving locally) is reached by name so upstream TLS verifies.
    let dial_host = match (&sni, host.parse::<std::net::IpAddr>()) {
        (Some(name), Ok(_)) => name.clone(),
        _ => host,
    };
    let target = Target {
        scheme: "https",
        host: dial_host,
        port,
    };
    serve(shared, stream, target, via, client).await;
}

/// Serve HTTP/1.1 or HTTP/2 on an intercepted stream, relaying each request.
pub async fn serve<S>(
    shared: Arc<Shared>,
    io: S,
    target: Target,
    via: Via,
    client: Option<SocketAddr>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let svc = service_fn(move |req| {
        let shared = shared.clone();
        let target = target.clone();
        async move { Ok::<_, std::convert::Infallible>(relay(shared, req, target, via, client).await) }
    });
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    if let Err(e) = builder
        .serve_connection_with_upgrades(TokioIo::new(io), svc)
        .await
    {
        tracing::debug!("intercepted connection ended: {e}");
    }
}

/// A client that aborts the handshake becomes a failed exchange saying why.
fn record_tls_failure(
    shared: &Shared,
    host: &str,
    port: u16,
    via: Via,
    client: Option<SocketAddr>,
    started: Instant,
    e: &std::io::Error,
) {
    let ca_path = shared.ca.cert_path().display().to_string();
    let failure = failure::client_tls(host, e, &ca_path);
    tracing::warn!("{}", failure.message);
    let id = shared.recorder.next_id();
    let at = super::tee::elapsed_us(started);
    let exchange = Exchange {
        id,
        started_at: chrono::Utc::now(),
        client_addr: client.map(|a| a.to_string()),
        client_app: None,
        via,
        request: Request {
            method: "CONNECT".into(),
            scheme: "https".into(),
            host: host.to_string(),
            port,
            path: String::new(),
            version: "TLS".into(),
            headers: Vec::new(),
            body: Body::default(),
        },
        response: None,
        chunks: Vec::new(),
        timings: Timings {
            end_us: Some(at),
            ..Timings::default()
        },
        state: State::Failed(failure),
        source: Default::default(),
    };
    shared.recorder.send(CaptureMsg::Insert(Box::new(exchange)));
}
