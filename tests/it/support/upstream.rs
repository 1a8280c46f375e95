//! A real HTTPS (and plain HTTP) upstream on 127.0.0.1 with its own CA, for
//! driving real clients through llmspy.
//!
//! Routes:
//! - `POST /echo`: the request body back, same content type.
//! - `GET /bytes?n=N`: N bytes in 16 KiB frames.
//! - `GET /sse/gated`: one SSE event, then waits for the test to open the gate, then one more.
//! - `GET /sse?n=N&size=S`: N events of about S bytes each.
//! - `GET /sse/timed?n=N&gap_us=G`: N events G µs apart, each carrying its send time
//!   (ns since [`epoch`]) so an in-process reader can measure relay latency.
//! - `GET /ndjson`: three NDJSON lines.
//! - `GET /reset`: part of a body, then (once the gate opens) the stream breaks.
//! - `GET /stall`: a head and one frame, then nothing.
//! - `GET /hang`: reads the request and never answers; [`Upstream::cancelled`]
//!   is notified when llmspy gives up on it (the request future is dropped).
//! - `POST /v1/chat/completions[?cut=1]`: an OpenAI chat stream through `[DONE]`
//!   (with `cut=1`, only its first chunk), then holds the body open until the gate.
//! - `POST /mcp`: an MCP reply to request 1 as one SSE event, then held open.
//! - `GET /ws`: a WebSocket echo server (`support::ws_echo`).
//! - `POST /grpc`: a gRPC-shaped answer: `200`, one message, then trailers
//!   with `grpc-status: 5` and a percent-encoded `grpc-message` (named in
//!   a `Trailer` header).
//! - anything else: 200 `ok`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tokio::sync::{Notify, mpsc};

pub type Body = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// What the upstream saw of one request.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub version: http::Version,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

pub struct Upstream {
    pub tls_addr: SocketAddr,
    pub plain_addr: SocketAddr,
    /// Writes canned HTTP/1.1 responses over TLS by hand, then closes the
    /// connection without `close_notify` (see [`raw_tls`]).
    pub raw_tls_addr: SocketAddr,
    /// The upstream's own CA (PEM file), for `--upstream-ca`.
    pub ca_file: PathBuf,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    /// TLS connections accepted so far.
    pub tls_connections: Arc<std::sync::atomic::AtomicUsize>,
    /// Connections the hand-written server accepted so far.
    pub raw_connections: Arc<std::sync::atomic::AtomicUsize>,
    /// Opened by the test to let `/sse/gated` send its second event.
    pub gate: Arc<Notify>,
    /// Notified when a `/hang` request is abandoned by its client.
    pub cancelled: Arc<Notify>,
    _dir: tempfile::TempDir,
}

#[derive(Clone)]
struct State {
    seen: Arc<Mutex<Vec<Seen>>>,
    gate: Arc<Notify>,
    cancelled: Arc<Notify>,
}

/// Notifies when dropped: the request it lives in was abandoned.
struct NotifyOnDrop(Arc<Notify>);

impl Drop for NotifyOnDrop {
    fn drop(&mut self) {
        self.0.notify_one();
    }
}

impl Upstream {
    pub async fn start() -> Upstream {
        let dir = tempfile::tempdir().expect("tempdir");
        let (ca_pem, tls) = tls_config();
        let ca_file = dir.path().join("upstream-ca.pem");
        std::fs::write(&ca_file, ca_pem).expect("write CA");
        let state = State {
            seen: Arc::default(),
            gate: Arc::new(Notify::new()),
            cancelled: Arc::new(Notify::new()),
        };
        let tls_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let plain_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let raw_tls_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let tls_connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let raw_connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let up = Upstream {
            raw_tls_addr: raw_tls_listener.local_addr().expect("addr"),
            tls_addr: tls_listener.local_addr().expect("addr"),
            plain_addr: plain_listener.local_addr().expect("addr"),
            ca_file,
            seen: state.seen.clone(),
            tls_connections: tls_connections.clone(),
            raw_connections: raw_connections.clone(),
            gate: state.gate.clone(),
            cancelled: state.cancelled.clone(),
            _dir: dir,
        };
        // The hand-written responses are HTTP/1.1 only.
        let mut raw_config = tls.clone();
        raw_config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let raw_acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(raw_config));
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        tokio::spawn(async move {
            while let Ok((tcp, _)) = raw_tls_listener.accept().await {
                raw_connections.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(raw_tls(raw_acceptor.clone(), tcp));
            }
        });
        let st = state.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = tls_listener.accept().await {
                tls_connections.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                // As real API servers do: small writes (an SSE event, a TLS
                // handshake flight) go out at once, not after a delayed ACK.
                let _ = tcp.set_nodelay(true);
                let acceptor = acceptor.clone();
                let st = st.clone();
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(tcp).await {
                        serve(TokioIo::new(tls), st).await;
                    }
                });
            }
        });
        tokio::spawn(async move {
            while let Ok((tcp, _)) = plain_listener.accept().await {
                let _ = tcp.set_nodelay(true);
                tokio::spawn(serve(TokioIo::new(tcp), state.clone()));
            }
        });
        up
    }

    pub fn https(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.tls_addr.port())
    }

    pub fn https_localhost(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.tls_addr.port())
    }

    pub fn https_raw(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.raw_tls_addr.port())
    }

    pub fn http(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.plain_addr.port())
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

async fn serve<I>(io: I, st: State)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let svc = service_fn(move |req| handle(req, st.clone()));
    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
        .serve_connection_with_upgrades(io, svc)
        .await;
}

async fn handle(req: Request<Incoming>, st: State) -> Result<Response<Body>, Infallible> {
    if req.uri().path() == "/ws" {
        return Ok(super::ws_echo::accept(req));
    }
    if req.uri().path() == "/reject" {
        // As a server refusing a large upload does: the answer at once, the
        // body never read (hyper then closes the connection).
        let mut resp = with_type(full(Bytes::from_static(b"too large")), "text/plain");
        *resp.status_mut() = http::StatusCode::PAYLOAD_TOO_LARGE;
        return Ok(resp);
    }
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    st.seen.lock().expect("lock").push(Seen {
        method: parts.method.to_string(),
        path: path.clone(),
        version: parts.version,
        headers: parts.headers.clone(),
        body: body.clone(),
    });
    let query = parts.uri.query().unwrap_or("");
    let num = |key: &str, default: usize| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let ct = parts.headers.get("content-type").cloned();
    if parts.uri.path() == "/hang" {
        let _abandoned = NotifyOnDrop(st.cancelled.clone());
        std::future::pending::<()>().await;
    }
    let resp = match parts.uri.path() {
        "/echo" => with_type(
            full(body),
            ct.as_ref()
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/octet-stream"),
        ),
        "/bytes" => with_type(
            frames(num("n", 1024), 16 * 1024),
            "application/octet-stream",
        ),
        "/sse/gated" => with_type(gated_sse(st.gate.clone()), "text/event-stream"),
        "/sse" => with_type(sse(num("n", 5), num("size", 64)), "text/event-stream"),
        "/sse/timed" => with_type(
            timed_sse(num("n", 100), num("gap_us", 1000) as u64),
            "text/event-stream",
        ),
        "/ndjson" => with_type(ndjson(), "application/x-ndjson"),
        "/v1/messages" if query.contains("deltas=") => with_type(
            anthropic_stream(num("deltas", 10), num("output", 10)),
            "text/event-stream",
        ),
        "/grpc" => {
            // Named up front, as an HTTP/1.1 server must for its trailers
            // to be sent.
            let mut r = with_type(grpc_not_found(), "application/grpc");
            let names = http::HeaderValue::from_static("grpc-status, grpc-message");
            r.headers_mut().insert("trailer", names);
            r
        }
        "/big-header" => {
            let mut r = with_type(full(Bytes::from_static(b"ok")), "text/plain");
            let big = "b".repeat(40 * 1024).parse().expect("header");
            r.headers_mut().insert("x-big", big);
            r
        }
        "/cookies" => {
            // Two of one name, and a value that is not UTF-8.
            let mut r = with_type(full(Bytes::from_static(b"ok")), "text/plain");
            let h = r.headers_mut();
            h.append("set-cookie", http::HeaderValue::from_static("a=1; Path=/"));
            h.append("set-cookie", http::HeaderValue::from_static("b=2"));
            let latin = http::HeaderValue::from_bytes(b"caf\xe9").expect("header");
            h.append("x-latin", latin);
            r
        }
        "/reset" => with_type(reset(st.gate.clone()), "text/plain"),
        "/stall" => with_type(stall(), "text/event-stream"),
        "/v1/chat/completions" => with_type(
            held_chat_stream(st.gate.clone(), query.contains("cut=1")),
            "text/event-stream",
        ),
        "/mcp" => with_type(held_mcp_reply(st.gate.clone()), "text/event-stream"),
        _ => with_type(full(Bytes::from_static(b"ok")), "text/plain"),
    };
    // `?close=1`: this connection ends after the answer (hyper closes it).
    let mut resp = resp;
    if num("close", 0) == 1 {
        let close = http::HeaderValue::from_static("close");
        resp.headers_mut().insert(http::header::CONNECTION, close);
    }
    if parts.method == http::Method::HEAD {
        return Ok(head_only(resp));
    }
    Ok(resp)
}

/// A HEAD request's answer as servers give it: the head a GET gets, its
/// body's length declared, no body.
fn head_only(resp: Response<Body>) -> Response<Body> {
    let declared = hyper::body::Body::size_hint(resp.body()).exact();
    let (mut parts, _) = resp.into_parts();
    if let Some(len) = declared {
        parts
            .headers
            .insert(http::header::CONTENT_LENGTH, len.into());
    }
    Response::from_parts(parts, full(Bytes::new()))
}

/// One canned response per connection, written by hand and ended by closing
/// the TCP connection without TLS `close_notify`, as Python's `ssl` module
/// and some load balancers do: `/close-delimited` has a body that runs to
/// the close (no length, not chunked), `/short` declares 100 bytes and
/// sends 10, `/refuse` answers a request with a body 413 at once and
/// closes without reading the body (the kernel then resets the connection),
/// `/not-http` answers as an SSH server would, `/half-head` closes in the
/// middle of its head, anything else gets `ok` with its length (an HTTP/1.1-only server with no
/// limit on the request head but its reader's).
async fn raw_tls(acceptor: tokio_rustls::TlsAcceptor, tcp: tokio::net::TcpStream) {
    use tokio::io::AsyncWriteExt;
    let Ok(mut tls) = acceptor.accept(tcp).await else {
        return;
    };
    let Some(head) = read_head(&mut tls).await else {
        return;
    };
    if head.starts_with(b"GET /keep-then-drop ") {
        return keep_then_drop(tls).await;
    }
    let reply: &[u8] = if head.windows(8).any(|w| w == b" /refuse") {
        b"HTTP/1.1 413 Payload Too Large\r\ncontent-type: text/plain\r\ncontent-length: 9\r\nconnection: close\r\n\r\ntoo large"
    } else if head.starts_with(b"GET /close-delimited ") {
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\ndata: one\n\ndata: two\n\n"
    } else if head.starts_with(b"GET /not-http ") {
        b"SSH-2.0-OpenSSH_9.2\r\n\r\n"
    } else if head.starts_with(b"GET /half-head ") {
        b"HTTP/1.1 200 OK\r\ncontent-le"
    } else if head.starts_with(b"GET /short ") {
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 100\r\n\r\nonly ten b"
    } else {
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok"
    };
    if tls.write_all(reply).await.is_ok() && tls.flush().await.is_ok() {
        let (mut tcp, _) = tls.into_inner();
        let _ = tcp.shutdown().await;
    }
}

/// `/keep-then-drop`: answered as a keep-alive server does, then the next
/// request on the connection is read and the connection closed unanswered,
/// as when a server's keep-alive timeout fires just as a request arrives.
async fn keep_then_drop(mut tls: tokio_rustls::server::TlsStream<tokio::net::TcpStream>) {
    use tokio::io::AsyncWriteExt;
    let reply = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok";
    if tls.write_all(reply).await.is_err() || tls.flush().await.is_err() {
        return;
    }
    if read_head(&mut tls).await.is_none() {
        return;
    }
    let (mut tcp, _) = tls.into_inner();
    let _ = tcp.shutdown().await;
}

/// A request head read byte by byte (nothing of the body after it), or
/// None if the connection ends first.
async fn read_head(
    tls: &mut tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
) -> Option<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match tls.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    Some(head)
}

fn with_type(body: Body, ct: &str) -> Response<Body> {
    let mut r = Response::new(body);
    r.headers_mut()
        .insert("content-type", ct.parse().expect("header"));
    r
}

fn full(b: Bytes) -> Body {
    http_body_util::Full::new(b).map_err(|e| match e {}).boxed()
}

type Tx = mpsc::Sender<Result<Frame<Bytes>, Box<dyn std::error::Error + Send + Sync>>>;

fn channel_body() -> (Tx, Body) {
    let (tx, rx) = mpsc::channel(16);
    let stream = tokio_stream_shim::ReceiverStream(rx);
    (tx, StreamBody::new(stream).boxed())
}

fn frames(n: usize, frame: usize) -> Body {
    let (tx, body) = channel_body();
    tokio::spawn(async move {
        let mut left = n;
        let mut i = 0u8;
        while left > 0 {
            let len = left.min(frame);
            let data: Vec<u8> = (0..len).map(|j| i.wrapping_add(j as u8)).collect();
            i = i.wrapping_add(1);
            if tx.send(Ok(Frame::data(Bytes::from(data)))).await.is_err() {
                return;
            }
            left -= len;
        }
    });
    body
}

fn gated_sse(gate: Arc<Notify>) -> Body {
    let (tx, body) = channel_body();
    tokio::spawn(async move {
        let _ = tx
            .send(Ok(Frame::data(Bytes::from_static(
                b"event: first\ndata: {\"n\":1}\n\n",
            ))))
            .await;
        gate.notified().await;
        let _ = tx
            .send(Ok(Frame::data(Bytes::from_static(
                b"event: second\ndata: {\"n\":2}\n\n",
            ))))
            .await;
    });
    body
}

/// A chat completion stream that does not end its body after `[DONE]`
/// until the gate opens: what a client that hangs up at `[DONE]` races.
fn held_chat_stream(gate: Arc<Notify>, cut: bool) -> Body {
    const CHUNKS: [&str; 3] = [
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
        "data: [DONE]\n\n",
    ];
    let (tx, body) = channel_body();
    tokio::spawn(async move {
        let n = if cut { 1 } else { CHUNKS.len() };
        for chunk in &CHUNKS[..n] {
            let _ = tx
                .send(Ok(Frame::data(Bytes::from_static(chunk.as_bytes()))))
                .await;
        }
        gate.notified().await;
    });
    body
}

/// An MCP streamable-HTTP reply: the response to request 1 as an SSE
/// event, then the stream held open until the gate (the SDK hangs up).
fn held_mcp_reply(gate: Arc<Notify>) -> Body {
    let (tx, body) = channel_body();
    tokio::spawn(async move {
        let event =
            "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[]}}\n\n";
        let _ = tx
            .send(Ok(Frame::data(Bytes::from_static(event.as_bytes()))))
            .await;
        gate.notified().await;
    });
    body
}

fn sse(n: usize, size: usize) -> Body {
    let (tx, body) = channel_body();
    tokio::spawn(async move {
        for i in 0..n {
            let pad = "x".repeat(size.saturating_sub(24));
            let ev = format!("event: e\ndata: {{\"i\":{i},\"p\":\"{pad}\"}}\n\n");
            if tx.send(Ok(Frame::data(Bytes::from(ev)))).await.is_err() {
                return;
            }
        }
    });
    body
}

/// A streamed Anthropic Messages reply: `deltas` text deltas, then the
/// usage (`output` tokens) and the stop reason, at the stream's end as the
/// real API sends them.
fn anthropic_stream(deltas: usize, output: usize) -> Body {
    let (tx, body) = channel_body();
    tokio::spawn(async move {
        let mut events = vec![concat!(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_long\",",
            "\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],",
            "\"usage\":{\"input_tokens\":1000,\"output_tokens\":1}}}\n\n",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,",
            "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
        )
        .to_string()];
        events.extend((0..deltas).map(|i| {
            format!(
                "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"word{i} \"}}}}\n\n"
            )
        }));
        events.push(format!(
            "event: content_block_stop\ndata: {{\"type\":\"content_block_stop\",\"index\":0}}\n\n\
             event: message_delta\ndata: {{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":\"max_tokens\"}},\"usage\":{{\"output_tokens\":{output}}}}}\n\n\
             event: message_stop\ndata: {{\"type\":\"message_stop\"}}\n\n"
        ));
        for ev in events {
            if tx.send(Ok(Frame::data(Bytes::from(ev)))).await.is_err() {
                return;
            }
        }
    });
    body
}

/// The process-wide time origin for `/sse/timed` stamps.
pub fn epoch() -> std::time::Instant {
    static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(std::time::Instant::now)
}

fn timed_sse(n: usize, gap_us: u64) -> Body {
    let (tx, body) = channel_body();
    tokio::spawn(async move {
        // The first event goes at once, as an API server's first event
        // does: even an interval's first tick waits for the timer's next
        // millisecond, which would add up to 1 ms to every first byte and
        // send the first events of streams begun within one millisecond
        // in one burst.
        let gap = std::time::Duration::from_micros(gap_us.max(1));
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + gap, gap);
        for i in 0..n {
            if i > 0 {
                tick.tick().await;
            }
            let sent = epoch().elapsed().as_nanos();
            let ev = format!("event: tick\ndata: {{\"i\":{i},\"sent_ns\":{sent}}}\n\n");
            if tx.send(Ok(Frame::data(Bytes::from(ev)))).await.is_err() {
                return;
            }
        }
    });
    body
}

fn grpc_not_found() -> Body {
    let (tx, body) = channel_body();
    tokio::spawn(async move {
        let message = Bytes::from_static(b"\0\0\0\0\x02hi");
        let mut trailers = http::HeaderMap::new();
        trailers.insert("grpc-status", http::HeaderValue::from_static("5"));
        trailers.insert(
            "grpc-message",
            http::HeaderValue::from_static("no model %22x%22"),
        );
        for frame in [Frame::data(message), Frame::trailers(trailers)] {
            if tx.send(Ok(frame)).await.is_err() {
                return;
            }
        }
    });
    body
}

fn ndjson() -> Body {
    let (tx, body) = channel_body();
    tokio::spawn(async move {
        for i in 0..3 {
            let line = format!("{{\"i\":{i},\"done\":{}}}\n", i == 2);
            let _ = tx.send(Ok(Frame::data(Bytes::from(line)))).await;
        }
    });
    body
}

fn reset(gate: Arc<Notify>) -> Body {
    let (tx, body) = channel_body();
    tokio::spawn(async move {
        let _ = tx
            .send(Ok(Frame::data(Bytes::from_static(b"partial body "))))
            .await;
        gate.notified().await;
        let _ = tx.send(Err("upstream broke on purpose".into())).await;
    });
    body
}

fn stall() -> Body {
    let (tx, body) = channel_body();
    tokio::spawn(async move {
        let _ = tx
            .send(Ok(Frame::data(Bytes::from_static(b"data: one\n\n"))))
            .await;
        // Keep the sender alive (so the body never ends) until the client goes.
        tx.closed().await;
    });
    body
}

/// A test CA and a server config for `localhost` and 127.0.0.1.
fn tls_config() -> (String, rustls::ServerConfig) {
    let ca_key = KeyPair::generate().expect("key");
    let mut ca_params = CertificateParams::default();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "llmspy test upstream CA");
    let ca_cert = ca_params.self_signed(&ca_key).expect("ca");
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().expect("key");
    let leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .expect("params")
        .signed_by(&leaf_key, &issuer)
        .expect("leaf");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(vec![leaf.der().clone()], key)
    .expect("cert");
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    (ca_cert.pem(), cfg)
}

/// A minimal `Stream` over an mpsc receiver (avoids another dependency).
mod tokio_stream_shim {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    pub struct ReceiverStream<T>(pub tokio::sync::mpsc::Receiver<T>);

    impl<T> futures_util::Stream for ReceiverStream<T> {
        type Item = T;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
            self.0.poll_recv(cx)
        }
    }
}
