//! The load bench's upstream: plain HTTP/1.1 on loopback, answering
//! `/sse` (paced events, optionally reset mid-stream), `/download` (a
//! pattern of N bytes) and `/upload` (checks the pattern, answers its
//! length). Every byte is a function of its offset, so either end can
//! check a transfer without keeping it.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::sync::mpsc;

type Body = BoxBody<Bytes, std::io::Error>;

/// The byte at `offset` of every download and upload.
pub fn pattern(offset: u64) -> u8 {
    (offset % 251) as u8
}

/// Event `i` of an SSE stream, `size` bytes long.
pub fn event(i: usize, size: usize) -> Vec<u8> {
    let head = format!("id: {i}\ndata: ");
    let mut out = head.into_bytes();
    out.resize(size.saturating_sub(2).max(out.len()), b'x');
    out.extend_from_slice(b"\n\n");
    out
}

pub async fn start() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), hyper::service::service_fn(handle)),
            );
        }
    });
    addr
}

fn query(req: &Request<Incoming>, name: &str) -> Option<u64> {
    req.uri().query()?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| v.parse().ok()).flatten()
    })
}

async fn handle(req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let body = match req.uri().path() {
        "/sse" => sse(
            query(&req, "n").unwrap_or(100) as usize,
            query(&req, "size").unwrap_or(100) as usize,
            query(&req, "gap_ms").unwrap_or(10),
            query(&req, "reset_after").map(|k| k as usize),
        ),
        "/download" => download(query(&req, "bytes").unwrap_or(0)),
        "/upload" => upload(req.into_body()).await,
        _ => channel(|_| async {}),
    };
    let mut resp = Response::new(body);
    resp.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("text/event-stream"),
    );
    Ok(resp)
}

/// A body fed by a task.
fn channel<F, Fut>(feed: F) -> Body
where
    F: FnOnce(mpsc::Sender<Result<Frame<Bytes>, std::io::Error>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(8);
    tokio::spawn(feed(tx));
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    StreamBody::new(stream).boxed()
}

fn sse(n: usize, size: usize, gap_ms: u64, reset_after: Option<usize>) -> Body {
    channel(move |tx| async move {
        let mut tick = tokio::time::interval(Duration::from_millis(gap_ms.max(1)));
        for i in 0..n {
            tick.tick().await;
            if reset_after == Some(i) {
                // An error mid-body makes hyper drop the connection.
                let _ = tx.send(Err(std::io::Error::other("reset"))).await;
                return;
            }
            let frame = Frame::data(Bytes::from(event(i, size)));
            if tx.send(Ok(frame)).await.is_err() {
                return;
            }
        }
    })
}

fn download(total: u64) -> Body {
    channel(move |tx| async move {
        const CHUNK: u64 = 64 * 1024;
        let mut offset = 0;
        while offset < total {
            let len = CHUNK.min(total - offset);
            let data: Vec<u8> = (offset..offset + len).map(pattern).collect();
            if tx.send(Ok(Frame::data(Bytes::from(data)))).await.is_err() {
                return;
            }
            offset += len;
        }
    })
}

/// Read an upload, checking every byte; answers `ok LEN` or `bad at OFFSET`.
async fn upload(mut body: Incoming) -> Body {
    let mut offset = 0u64;
    let mut bad = None;
    while let Some(Ok(frame)) = body.frame().await {
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if bad.is_none()
            && let Some(i) = data
                .iter()
                .zip(offset..)
                .position(|(b, o)| *b != pattern(o))
        {
            bad = Some(offset + i as u64);
        }
        offset += data.len() as u64;
    }
    let answer = match bad {
        Some(at) => format!("bad at {at}"),
        None => format!("ok {offset}"),
    };
    channel(move |tx| async move {
        let _ = tx.send(Ok(Frame::data(Bytes::from(answer)))).await;
    })
}
