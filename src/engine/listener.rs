//! The accept loop and the per-connection router: sniff the first bytes,
//! then serve HTTP (proxy requests, CONNECT, the control API) or SOCKS5.

use std::net::SocketAddr;
use std::sync::Arc;

use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

use super::accept::Backoff;
use super::clients::Peer;
use super::conns::Conn;
use super::linger::Lingering;
use super::relay::{Target, empty, error_response, relay};
use super::rewind::{Rewind, sniff};
use super::sniff::{Protocol, Verdict};
use super::unwind::CatchUnwind;
use super::upstream::UpstreamBody;
use super::write_deadline::WriteDeadline;
use super::{ConnInfo, Shared, clients, mitm, noisy, proxy_auth, reverse, serve, socks5};
use crate::exchange::Via;

/// Accept connections and hand each to a thread with `per_thread[i]`, the
/// state of thread `i` (0: this runtime, then each relay worker).
pub async fn accept_loop(
    listener: TcpListener,
    per_thread: Vec<Arc<Shared>>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut backoff = Backoff::default();
    let shared = &per_thread[0];
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    backoff.reset();
                    let _ = stream.set_nodelay(true);
                    hand_over(&per_thread, stream, peer);
                }
                Err(e) => backoff.failed(&e, &shared.conns).await,
            },
        }
    }
}

/// Serve a new connection on the next relay worker, or on this runtime
/// when there are none.
fn hand_over(per_thread: &[Arc<Shared>], stream: TcpStream, peer: SocketAddr) {
    let Some(workers) = &per_thread[0].workers else {
        tokio::spawn(connection(per_thread[0].clone(), stream, peer));
        return;
    };
    // A socket is registered with one runtime's reactor: leave this one's
    // and join the worker's.
    let stream = match stream.into_std() {
        Ok(s) => s,
        Err(e) => return tracing::warn!("{peer}: cannot hand the connection to a worker: {e}"),
    };
    let (index, worker) = workers.next();
    let shared = per_thread[index].clone();
    worker.spawn(async move {
        match TcpStream::from_std(stream) {
            Ok(stream) => connection(shared, stream, peer).await,
            Err(e) => tracing::warn!("{peer}: a worker cannot take the connection: {e}"),
        }
    });
}

/// A client's connection as served: what sniffing read put back, drained
/// on close, and closed when the client reads nothing for the idle limit.
type ClientIo = Rewind<Lingering<WriteDeadline<TcpStream>>>;

async fn connection(shared: Arc<Shared>, stream: TcpStream, peer: SocketAddr) {
    let conn = shared.conns.open();
    let limit = shared.settings.client_idle_timeout;
    // Sniffing and the SOCKS5 handshake happen with no request in progress,
    // so a client that stalls in them is closed at the idle deadline.
    let serving = CatchUnwind::new(dispatch(shared.clone(), stream, peer, conn.clone()));
    // Biased: the work first, and no random draw on each wake-up.
    tokio::select! {
        biased;
        served = serving => if let Err(panic) = served {
            tracing::error!("{peer}: the connection hit a bug in llmspy ({panic}); closed, still serving others");
        },
        closed = conn.closed(limit) => serve::log_closed(&peer.to_string(), closed),
    }
}

async fn dispatch(shared: Arc<Shared>, mut stream: TcpStream, peer: SocketAddr, conn: Arc<Conn>) {
    let (prefix, verdict) = match sniff(&mut stream, 18).await {
        Ok(v) => v,
        Err(e) => return tracing::debug!("{peer}: closed before sending anything: {e}"),
    };
    let info = ConnInfo {
        peer,
        local: stream.local_addr().unwrap_or(shared.local_addr),
    };
    conn.set_socket(std::os::fd::AsRawFd::as_raw_fd(&stream));
    let deadline = WriteDeadline::new(stream, shared.settings.client_idle_timeout);
    let io = Rewind::new(prefix.clone(), Lingering::new(deadline));
    let _hold = shared.clients.hold(peer);
    match verdict {
        Verdict::Known(Protocol::Http) => serve_http(shared, io, info, conn).await,
        Verdict::Known(Protocol::Socks5) => serve_socks(shared, io, info, conn).await,
        Verdict::Known(Protocol::Tls) => noisy::warn("tls-to-proxy-port", || {
            format!(
                "{peer}: TLS sent straight to the proxy port; use it as an HTTP proxy (HTTPS_PROXY=http://{}) — closed",
                shared.local_addr
            )
        }),
        Verdict::NeedMore => tracing::debug!("{peer}: closed during sniffing"),
        Verdict::Unknown => noisy::warn("unknown-protocol", || {
            format!(
                "{peer}: not HTTP, CONNECT or SOCKS5 (first bytes {:02x?}); closed",
                &prefix[..prefix.len().min(8)]
            )
        }),
    }
}

async fn serve_http(shared: Arc<Shared>, io: ClientIo, info: ConnInfo, conn: Arc<Conn>) {
    let routing = shared.clone();
    let answer = move |req| route(routing.clone(), req, info);
    let idle = shared.settings.client_idle_timeout;
    serve::http(io, (conn, idle), info.peer.to_string(), answer).await;
}

async fn serve_socks(shared: Arc<Shared>, mut io: ClientIo, info: ConnInfo, conn: Arc<Conn>) {
    let peer = info.peer;
    match socks5::handshake(&mut io, shared.proxy_auth.as_ref()).await {
        // The tunnel runs inside this connection's task, which `connection`
        // already watches for idleness and panics: not watched again.
        Ok(t) => {
            // SOCKS5 carries no proxy user to name the client by.
            shared.clients.begin(peer, info.local);
            mitm::tunnel(shared, io, t.host, t.port, Via::Socks5, Some(peer), conn).await
        }
        Err(e @ (socks5::SocksError::BadCredentials | socks5::SocksError::NeedsCredentials)) => {
            proxy_auth::refuse(&shared, format!("refused SOCKS5 client {peer}: {e}"));
        }
        Err(e) => noisy::warn("socks5", || format!("{peer}: SOCKS5: {e}")),
    }
}

/// Route one request on the proxy's own connection.
async fn route(
    shared: Arc<Shared>,
    mut req: Request<Incoming>,
    conn: ConnInfo,
) -> Response<UpstreamBody> {
    let peer = conn.peer;
    if req.method() == Method::CONNECT {
        let target = req.uri().to_string();
        if let Some(refused) = proxy_auth::check(&shared, req.headers(), peer, &target) {
            return refused;
        }
        announced_client(&shared, &req, peer);
        return connect(shared, req, conn);
    }
    let uri = req.uri();
    match (uri.scheme_str(), uri.host()) {
        (Some(scheme), Some(host)) if !is_self(&shared, host, uri.port_u16()) => {
            let target = uri.to_string();
            if let Some(refused) = proxy_auth::check(&shared, req.headers(), peer, &target) {
                return refused;
            }
            let scheme = match scheme.to_ascii_lowercase().as_str() {
                "https" | "wss" => "https",
                "http" | "ws" => "http",
                // `ftp://…` and the like: not something to relay as HTTP.
                _ => {
                    return error_response(
                        StatusCode::BAD_REQUEST,
                        "malformed_request",
                        format!("llmspy: cannot relay {target}: only http:// and https:// URLs\n"),
                    );
                }
            };
            let port = uri
                .port_u16()
                .unwrap_or(if scheme == "https" { 443 } else { 80 });
            let target = Target::new(scheme, trim_brackets(host), port);
            name_client(&shared, &req, conn);
            relay(
                shared,
                req,
                Arc::new(target),
                Via::HttpProxy,
                Some(Peer::new(peer)),
                None,
            )
            .await
        }
        // Origin form (or an absolute URL naming llmspy): a base-URL path
        // for an upstream, else the control API, which judges the caller
        // from the connection it came on.
        _ => {
            let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
            if let Some((target, path)) = reverse::resolve(path, &shared.routes) {
                return base_url(shared, req, target, path, conn).await;
            }
            req.extensions_mut().insert(conn);
            (shared.api)(req).await
        }
    }
}

/// Relay a base-URL request to its upstream, under the real URL.
async fn base_url(
    shared: Arc<Shared>,
    mut req: Request<Incoming>,
    target: Target,
    path: String,
    conn: ConnInfo,
) -> Response<UpstreamBody> {
    let url = format!("{}://{}{path}", target.scheme, target.authority());
    if let Some(refused) = proxy_auth::check(&shared, req.headers(), conn.peer, &url) {
        return refused;
    }
    if is_self(&shared, &target.host, Some(target.port)) {
        return error_response(
            StatusCode::LOOP_DETECTED,
            "malformed_request",
            format!("llmspy: {url} is llmspy itself\n"),
        );
    }
    let Ok(uri) = path.parse::<http::Uri>() else {
        return error_response(
            StatusCode::BAD_REQUEST,
            "malformed_request",
            format!("llmspy: invalid path in {url}\n"),
        );
    };
    *req.uri_mut() = uri;
    name_client(&shared, &req, conn);
    let mut response = relay(
        shared,
        req,
        Arc::new(target),
        Via::BaseUrl,
        Some(Peer::new(conn.peer)),
        None,
    )
    .await;
    // What comes back is served under llmspy's own origin, the control
    // API's. A page among it must not run as that origin: sandboxed, its
    // scripts get an opaque one, which the control API's gate refuses.
    // Only the client's copy carries it; the capture keeps what the
    // upstream sent.
    response.headers_mut().append(
        http::header::CONTENT_SECURITY_POLICY,
        http::HeaderValue::from_static("sandbox"),
    );
    response
}

/// Learn which program is on this connection: announced in the proxy
/// user name (when `--proxy-auth` does not claim it), else its process,
/// looked up in the background (the relay waits for it, not the CONNECT).
fn name_client(shared: &Shared, req: &Request<Incoming>, conn: ConnInfo) {
    announced_client(shared, req, conn.peer);
    shared.clients.begin(conn.peer, conn.local);
}

fn announced_client(shared: &Shared, req: &Request<Incoming>, peer: SocketAddr) {
    if shared.proxy_auth.is_none()
        && let Some(name) = clients::announced(req.headers())
    {
        shared.clients.announce(peer, name);
    }
}

fn connect(shared: Arc<Shared>, req: Request<Incoming>, info: ConnInfo) -> Response<UpstreamBody> {
    let peer = info.peer;
    // RFC 9110 §9.3.6: a CONNECT names a host and a port, both; a port
    // that is missing or out of range is refused, not guessed.
    let Some((host, port)) = req
        .uri()
        .authority()
        .and_then(|a| Some((trim_brackets(a.host()), a.port_u16().filter(|p| *p != 0)?)))
    else {
        return error_response(
            StatusCode::BAD_REQUEST,
            "malformed_request",
            format!(
                "llmspy: CONNECT needs host:port with a port from 1 to 65535, got {:?}\n",
                req.uri().to_string()
            ),
        );
    };
    // The tunnel outlives this request's connection future: keep the
    // client's name until it ends.
    let hold = shared.clients.hold(peer);
    tokio::spawn(async move {
        let _hold = hold;
        match hyper::upgrade::on(req).await {
            Ok(upgraded) => {
                // Begun once the 200 went out, so the lookup's CPU does not
                // hold up the answer on a busy machine: it runs during the
                // client's TLS handshake, and the first request waits for it.
                shared.clients.begin(peer, info.local);
                let conn = shared.conns.open();
                mitm::intercept(
                    shared,
                    TokioIo::new(upgraded),
                    host,
                    port,
                    Via::Connect,
                    Some(peer),
                    conn,
                )
                .await
            }
            Err(e) => tracing::debug!("{peer}: CONNECT upgrade failed: {e}"),
        }
    });
    Response::new(empty())
}

fn trim_brackets(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_string()
}

/// Does an absolute URL point at llmspy itself?
pub(super) fn is_self(shared: &Shared, host: &str, port: Option<u16>) -> bool {
    if port.unwrap_or(80) != shared.local_addr.port() {
        return false;
    }
    let host = trim_brackets(host);
    // Every spelling of this machine: `::ffff:127.0.0.1` is 127.0.0.1, and
    // connecting to 0.0.0.0 or :: reaches the local host.
    host.eq_ignore_ascii_case("localhost")
        || host.to_ascii_lowercase().ends_with(".localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| {
            let ip = ip.to_canonical();
            ip.is_loopback() || ip.is_unspecified() || ip == shared.local_addr.ip().to_canonical()
        })
}
