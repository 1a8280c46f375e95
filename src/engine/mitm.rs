//! Inside a CONNECT or SOCKS5 tunnel: sniff again, then intercept TLS with a
//! leaf minted for the host, serve plain HTTP as is, or pass anything else
//! through untouched.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::LazyConfigAcceptor;

use super::clients::Peer;
use super::conns::Conn;
use super::cork::Corked;
use super::relay::{Target, relay};
use super::rewind::{Rewind, sniff};
use super::sniff::{Protocol, Verdict};
use super::unwind::CatchUnwind;
use super::{Shared, failure};
use crate::capture::CaptureMsg;
use crate::exchange::{Body, Exchange, Request, State, Timings, Via};

/// Handle the bytes of a tunnel the client opened to `host:port`. The
/// tunnel is closed once it has had no request in progress for
/// `clientIdleTimeoutSeconds` (a CONNECT that never starts TLS, a stalled
/// handshake, an idle keep-alive inside).
pub async fn intercept<S>(
    shared: Arc<Shared>,
    io: S,
    host: String,
    port: u16,
    via: Via,
    client: Option<SocketAddr>,
    conn: Arc<Conn>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let who = format!("tunnel to {host}:{port}");
    let limit = shared.settings.client_idle_timeout;
    let work = CatchUnwind::new(tunnel(shared, io, host, port, via, client, conn.clone()));
    // Biased: the work first, and no random draw on each wake-up.
    tokio::select! {
        biased;
        done = work => if let Err(panic) = done {
            tracing::error!("{who}: hit a bug in llmspy ({panic}); closed, still serving others");
        },
        closed = conn.closed(limit) => super::serve::log_closed(&who, closed),
    }
}

/// [`intercept`] without its watch, for a caller that already watches the
/// connection (a SOCKS5 tunnel inside the listener's connection task).
pub async fn tunnel<S>(
    shared: Arc<Shared>,
    mut io: S,
    host: String,
    port: u16,
    via: Via,
    client: Option<SocketAddr>,
    conn: Arc<Conn>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (prefix, verdict) = match sniff(&mut io, 16).await {
        Ok(v) => v,
        Err(e) => return tracing::debug!("tunnel to {host}:{port} closed early: {e}"),
    };
    let io = Rewind::new(prefix, io);
    // A tunnel back to llmspy's own port: relayed, its requests would reach
    // the control API on a fresh loopback connection, which the gate trusts,
    // whoever opened the tunnel (a remote client of `--listen 0.0.0.0`).
    // Plain HTTP in it is served by the API as from the tunnel's client;
    // anything else (a nested tunnel, TLS the port does not speak) is not
    // passed on.
    if super::listener::is_self(&shared, &host, Some(port)) {
        return match (verdict, client) {
            (Verdict::Known(Protocol::Http), Some(peer)) => {
                serve_api(shared, io, peer, conn).await;
            }
            _ => tracing::warn!(
                "{}: a tunnel to llmspy itself ({host}:{port}) carried no plain HTTP; closed",
                client.map_or_else(|| "a client".to_string(), |c| c.to_string())
            ),
        };
    }
    match verdict {
        Verdict::Known(Protocol::Tls) => tls(shared, io, host, port, via, client, conn).await,
        Verdict::Known(Protocol::Http) => {
            let target = Target::new("http", host, port);
            serve(shared, io, target, via, client, conn).await;
        }
        Verdict::NeedMore => {}
        Verdict::Known(Protocol::Socks5) | Verdict::Unknown => {
            tracing::info!("passing an unrecognised protocol to {host}:{port} through untouched");
            // Opaque bytes both ways: llmspy cannot tell idle from busy.
            let _busy = conn.request();
            super::tunnel::raw(io, &format!("{host}:{port}"), shared.local_addr).await;
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
    conn: Arc<Conn>,
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
    let target = Target::new("https", dial_host, port);
    // HTTP/2 writes a system call per DATA frame unless gathered (cork.rs);
    // hyper's HTTP/1.1 gathers a response's chunks itself.
    let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
    let io = TokioIo::new(Corked::new(TokioIo::new(stream), h2));
    serve(shared, io, target, via, client, conn).await;
}

/// Serve HTTP/1.1 or HTTP/2 on an intercepted stream, relaying each request.
async fn serve<S>(
    shared: Arc<Shared>,
    io: S,
    target: Target,
    via: Via,
    client: Option<SocketAddr>,
    conn: Arc<Conn>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let who = format!("intercepted connection to {}", target.authority());
    let client_idle = shared.settings.client_idle_timeout;
    let relaying = shared.clone();
    let target = Arc::new(target);
    let peer = client.map(Peer::new);
    // The upstream connection this client connection keeps (pinned.rs).
    let idle = shared.upstream_pools().pinned.clone();
    let pinned = super::pinned::Pinned::new(target.clone(), idle);
    let answer = move |req| {
        let pinned = Some(pinned.clone());
        relay(
            relaying.clone(),
            req,
            target.clone(),
            via,
            peer.clone(),
            pinned,
        )
    };
    super::serve::http(io, (conn, client_idle), who, answer).await;
}

/// The control API over a tunnel to llmspy itself, each request judged by
/// the client that opened the tunnel, as if it had come straight.
async fn serve_api<S>(shared: Arc<Shared>, io: S, peer: SocketAddr, conn: Arc<Conn>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let local = shared.local_addr;
    let idle = shared.settings.client_idle_timeout;
    let answer = move |mut req: http::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(super::ConnInfo { peer, local });
        (shared.api)(req)
    };
    let who = format!("{peer}: tunnel to llmspy itself");
    super::serve::http(io, (conn, idle), who, answer).await;
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
    super::noisy::warn("client-tls", || failure.message.clone());
    let id = shared.recorder.next_id();
    let at = super::tee::elapsed_us(started);
    let exchange = Exchange {
        id,
        started_at: chrono::Utc::now(),
        client_addr: client.map(super::relay::addr_text),
        client_app: None,
        via,
        request: Request {
            method: "CONNECT".into(),
            scheme: "https".into(),
            host: host.to_string(),
            port,
            path: String::new(),
            version: "TLS".into(),
            headers: Default::default(),
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
        websocket: None,
    };
    shared.recorder.send(CaptureMsg::Insert(Box::new(exchange)));
}
