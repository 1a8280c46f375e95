//! Byte tunnels: WebSocket (and other `Upgrade`) connections after the 101,
//! and CONNECT tunnels carrying a protocol llmspy does not intercept.

use std::sync::Arc;
use std::time::Instant;

use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

use super::Shared;
use super::tee::elapsed_us;
use crate::capture::CaptureMsg;
use crate::exchange::{ExchangeId, Failure, FailureKind};
use crate::websocket::Negotiated;

/// Splice the client and upstream sides of an upgraded connection. The
/// exchange stays "streaming" while the tunnel is open. A WebSocket
/// (`websocket` holds what its handshake negotiated) has its messages
/// recorded; other protocols pass untouched.
pub fn spawn_upgrade(
    shared: Arc<Shared>,
    id: ExchangeId,
    started: Instant,
    client: OnUpgrade,
    upstream: OnUpgrade,
    websocket: Option<Negotiated>,
) {
    tokio::spawn(async move {
        let failure = match tokio::try_join!(client, upstream) {
            Ok((c, u)) => {
                let mut c = TokioIo::new(c);
                let mut u = TokioIo::new(u);
                let spliced = match websocket {
                    Some(n) => {
                        let recorder = shared.recorder.clone();
                        super::ws_tap::splice(c, u, n, id, recorder, started).await
                    }
                    None => tokio::io::copy_bidirectional(&mut c, &mut u)
                        .await
                        .map(|_| ()),
                };
                match spliced {
                    Ok(_) => None,
                    Err(e) => Some(Failure::new(
                        FailureKind::UpstreamReset,
                        format!("the upgraded connection broke: {e}"),
                    )),
                }
            }
            Err(e) => Some(Failure::new(
                FailureKind::UpstreamReset,
                format!("the protocol upgrade did not complete: {e}"),
            )),
        };
        let at_us = elapsed_us(started);
        shared
            .recorder
            .send(CaptureMsg::Finish { id, at_us, failure });
    });
}

/// Pass bytes between the client and `authority` untouched.
pub async fn raw<S>(mut client: S, authority: &str, itself: std::net::SocketAddr)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match tokio::net::TcpStream::connect(authority).await {
        // Opaque bytes into llmspy's own port would arrive from its own
        // loopback socket (not_itself.rs): not passed on.
        Ok(upstream) if super::not_itself::check(&upstream, itself).is_err() => {
            tracing::warn!("tunnel to {authority} refused: it is llmspy itself");
        }
        Ok(mut upstream) => {
            let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        }
        Err(e) => tracing::warn!("tunnel to {authority} failed: {e}"),
    }
}
