//! `GET /ws` on the test upstream: a WebSocket echo server. It says
//! `hello` first, then answers every text or binary message with the same
//! message, a ping with a pong, and a close with a close (then hangs up).

use base64::Engine;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use llmspy::exchange::opcode;
use llmspy::websocket::{Decoder, encode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::upstream::Body;

/// The `Sec-WebSocket-Accept` answer to a client's key (RFC 6455 §4.2.2).
pub fn accept_key(key: &str) -> String {
    let mut input = key.trim().as_bytes().to_vec();
    input.extend_from_slice(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &input);
    base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
}

/// Answer the upgrade and echo on the upgraded connection.
pub fn accept(mut req: Request<Incoming>) -> Response<Body> {
    let key = req
        .headers()
        .get("sec-websocket-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let upgraded = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        if let Ok(io) = upgraded.await {
            echo(TokioIo::new(io)).await;
        }
    });
    let mut resp = Response::new(Full::new(Bytes::new()).map_err(|e| match e {}).boxed());
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert("upgrade", "websocket".parse().expect("value"));
    h.insert("connection", "Upgrade".parse().expect("value"));
    h.insert(
        "sec-websocket-accept",
        accept_key(&key).parse().expect("value"),
    );
    resp
}

async fn echo<I>(mut io: I)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    if io
        .write_all(&encode(opcode::TEXT, true, b"hello", None))
        .await
        .is_err()
    {
        return;
    }
    let mut decoder = Decoder::new(usize::MAX);
    let mut buf = vec![0u8; 8192];
    loop {
        let n = match io.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        for m in decoder.feed(&buf[..n]) {
            let reply = match m.opcode {
                opcode::PING => encode(opcode::PONG, true, &m.data, None),
                opcode::PONG => continue,
                op => encode(op, true, &m.data, None),
            };
            if io.write_all(&reply).await.is_err() {
                return;
            }
            if m.opcode == opcode::CLOSE {
                let _ = io.shutdown().await;
                return;
            }
        }
    }
}
