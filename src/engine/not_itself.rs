//! The relay never connects to llmspy itself.
//!
//! A request relayed to llmspy's own port reaches the control API on a new
//! connection from llmspy's own loopback socket, which the gate trusts,
//! whoever sent the request: with `--listen 0.0.0.0` a remote client could
//! read every captured key that way. Names for this machine are endless
//! (`localhost`, `127.1`, `2130706433`, a hosts-file alias, its own LAN
//! address), so the check is made where they all end up: on the connected
//! socket, before a byte is sent.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Uri;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::BoxError;

/// Connecting to it would be connecting to llmspy itself.
#[derive(Debug, thiserror::Error)]
#[error("{0} is llmspy itself: a request relayed there would loop back into llmspy")]
pub struct Itself(pub SocketAddr);

/// Whether a connection from `local` to `peer` reached llmspy listening
/// on `itself`: its own address and port, or, listening on every address
/// (`0.0.0.0`, `::`), its port on a loopback address or on an address of
/// this machine (a connection to one has that address at both ends).
pub fn is_itself(local: SocketAddr, peer: SocketAddr, itself: SocketAddr) -> bool {
    if peer.port() != itself.port() {
        return false;
    }
    let peer_ip = peer.ip().to_canonical();
    let own_ip = itself.ip().to_canonical();
    peer_ip == own_ip
        || (own_ip.is_unspecified()
            && (peer_ip.is_loopback() || peer_ip == local.ip().to_canonical()))
}

/// Refuse a connected stream that reached llmspy itself.
pub fn check(stream: &TcpStream, itself: SocketAddr) -> Result<(), Itself> {
    match (stream.local_addr(), stream.peer_addr()) {
        (Ok(local), Ok(peer)) if is_itself(local, peer, itself) => Err(Itself(peer)),
        _ => Ok(()),
    }
}

/// A connector that refuses connections reaching llmspy itself.
#[derive(Clone)]
pub struct NotItself<C> {
    pub inner: C,
    pub itself: SocketAddr,
}

type Connecting = Pin<Box<dyn Future<Output = Result<TokioIo<TcpStream>, BoxError>> + Send>>;

impl<C> tower_service::Service<Uri> for NotItself<C>
where
    C: tower_service::Service<Uri, Response = TokioIo<TcpStream>>,
    C::Future: Send + 'static,
    C::Error: Into<BoxError>,
{
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = Connecting;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.inner.call(uri);
        let itself = self.itself;
        Box::pin(async move {
            let io = connecting.await.map_err(Into::into)?;
            check(io.inner(), itself)?;
            Ok(io)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// Through the connector the relay uses: llmspy's own port is refused
    /// after connecting, before a byte is sent; another port is not.
    #[tokio::test]
    async fn the_relays_connector_refuses_llmspy_itself() {
        use tower_service::Service;
        let llmspy = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
        let itself = llmspy.local_addr().unwrap();
        let other = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut connector = NotItself {
            inner: hyper_util::client::legacy::connect::HttpConnector::new(),
            itself,
        };
        let to = |port: u16| format!("http://127.0.0.1:{port}/").parse::<Uri>().unwrap();
        let Err(err) = connector.call(to(itself.port())).await else {
            panic!("llmspy itself was connected to");
        };
        assert!(err.to_string().contains("is llmspy itself"), "{err}");
        assert!(
            connector
                .call(to(other.local_addr().unwrap().port()))
                .await
                .is_ok()
        );
    }

    #[test]
    fn every_way_back_to_llmspy_is_itself_and_nothing_else_is() {
        let any = a("0.0.0.0:1080");
        let lo = a("127.0.0.1:1080");
        let from = a("127.0.0.1:50000");
        for (local, peer, itself, want) in [
            (from, a("127.0.0.1:1080"), lo, true),
            (from, a("127.0.0.1:1080"), any, true),
            (from, a("127.0.0.2:1080"), any, true),
            (a("10.0.0.5:50000"), a("10.0.0.5:1080"), any, true),
            (a("[::1]:50000"), a("[::ffff:127.0.0.1]:1080"), lo, true),
            (a("[::1]:50000"), a("[::1]:1080"), a("[::]:1080"), true),
            // Another service on another loopback address, llmspy bound to one.
            (from, a("127.0.0.2:1080"), lo, false),
            (from, a("127.0.0.1:8080"), lo, false),
            (a("10.0.0.5:50000"), a("10.0.0.9:1080"), any, false),
        ] {
            assert_eq!(
                is_itself(local, peer, itself),
                want,
                "{local} → {peer}, llmspy on {itself}"
            );
        }
    }
}
