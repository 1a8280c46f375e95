//! The WebSocket side of an upgraded connection: two pumps, one per
//! direction, each forwarding what it reads before decoding a copy.
//!
//! Decoding runs after each write, on bytes already on their way, and hands
//! capture only whole messages with their payload kept within the cap, so
//! the relay neither waits for capture nor queues more than a cap's worth
//! for it.

use std::time::Instant;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::tee::elapsed_us;
use crate::capture::{CaptureMsg, Recorder};
use crate::exchange::{Direction, ExchangeId};
use crate::websocket::{Decoder, Negotiated};

/// Bytes read per step.
const READ: usize = 16 * 1024;

/// Decodes one direction and records its messages.
struct Tap {
    id: ExchangeId,
    direction: Direction,
    decoder: Decoder,
    recorder: Recorder,
    started: Instant,
    noted: bool,
    /// This side sent its close message: the connection is done with.
    closed: bool,
}

impl Tap {
    fn feed(&mut self, bytes: &[u8]) {
        let at_us = elapsed_us(self.started);
        for m in self.decoder.feed(bytes) {
            self.closed |= m.opcode == crate::exchange::opcode::CLOSE;
            self.recorder.send(CaptureMsg::WebSocketMessage {
                id: self.id,
                message: m.into_message(at_us, self.direction),
            });
        }
        if !self.noted
            && let Some(why) = self.decoder.broken()
        {
            self.noted = true;
            let side = match self.direction {
                Direction::Send => "client",
                Direction::Receive => "server",
            };
            self.recorder.send(CaptureMsg::WebSocketNote {
                id: self.id,
                note: format!("{side} messages no longer decoded: {why}"),
            });
        }
    }
}

/// Relay both directions of a WebSocket connection until each side has
/// closed (or either fails), recording the messages.
pub async fn splice<C, U>(
    client: C,
    upstream: U,
    negotiated: Negotiated,
    id: ExchangeId,
    recorder: Recorder,
    started: Instant,
) -> std::io::Result<()>
where
    C: AsyncRead + AsyncWrite,
    U: AsyncRead + AsyncWrite,
{
    let cap = recorder.limits().max_body_capture_bytes;
    let tap = |direction| Tap {
        id,
        direction,
        decoder: negotiated.decoder(direction, cap),
        recorder: recorder.clone(),
        started,
        noted: false,
        closed: false,
    };
    let (client_read, client_write) = tokio::io::split(client);
    let (upstream_read, upstream_write) = tokio::io::split(upstream);
    let sent = pump(client_read, upstream_write, tap(Direction::Send));
    let received = pump(upstream_read, client_write, tap(Direction::Receive));
    tokio::try_join!(sent, received).map(|_| ())
}

/// Copy `from` to `to`, feeding the tap after each write; at end of input,
/// pass the half-close on.
async fn pump<R, W>(mut from: R, mut to: W, mut tap: Tap) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; READ];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(n) => n,
            // Many clients drop TLS without close_notify once the closing
            // handshake is done: nothing was lost.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && tap.closed => 0,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return to.shutdown().await;
        }
        to.write_all(&buf[..n]).await?;
        to.flush().await?;
        tap.feed(&buf[..n]);
    }
}
