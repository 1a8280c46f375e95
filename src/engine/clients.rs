//! Which program sent a request. A client may announce itself in the user
//! part of its proxy URL (`llmspy run` sets `http://claude:llmspy@127.0.0.1:1080`,
//! so requests carry `Proxy-Authorization: Basic claude:llmspy`); failing that,
//! on Linux, the process owning the client's loopback socket is looked up
//! once per connection. The relay reads the name when an exchange starts.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use http::{HeaderMap, header};
use tokio::sync::OnceCell;

/// Longest name kept.
const MAX_NAME: usize = 64;

type Name = Option<Arc<str>>;

#[derive(Default)]
struct Entry {
    announced: Name,
    process: Arc<OnceCell<Name>>,
    /// The connection and the tunnels opened on it.
    holders: usize,
}

/// Names of the clients of open connections, by peer address.
#[derive(Default)]
pub struct ClientNames {
    by_peer: Mutex<HashMap<SocketAddr, Entry>>,
}

/// Keeps a peer's entry while a connection or tunnel of it is open.
pub struct Hold {
    names: Arc<ClientNames>,
    peer: SocketAddr,
}

impl Drop for Hold {
    fn drop(&mut self) {
        let mut map = self.names.lock();
        if let Some(e) = map.get_mut(&self.peer) {
            e.holders -= 1;
            if e.holders == 0 {
                map.remove(&self.peer);
            }
        }
    }
}

impl ClientNames {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, Entry>> {
        self.by_peer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keep `peer`'s entry until the returned hold is dropped.
    pub fn hold(self: &Arc<Self>, peer: SocketAddr) -> Hold {
        self.lock().entry(peer).or_default().holders += 1;
        Hold {
            names: self.clone(),
            peer,
        }
    }

    /// Remember the name a client announced on this connection (a tunnel's
    /// requests carry no proxy header of their own).
    pub fn announce(&self, peer: SocketAddr, name: Arc<str>) {
        if let Some(e) = self.lock().get_mut(&peer) {
            e.announced = Some(name);
        }
    }

    /// Make sure a name is known for `peer` if one can be: an announced
    /// one, else the owning process, looked up once per connection (only
    /// for unannounced loopback clients, as it reads /proc).
    pub async fn settle(&self, peer: SocketAddr, local: SocketAddr) {
        let cell = {
            let map = self.lock();
            match map.get(&peer) {
                Some(e) if e.announced.is_none() => e.process.clone(),
                _ => return,
            }
        };
        if !super::procfs::supported(peer) {
            return;
        }
        cell.get_or_init(|| async move {
            tokio::task::spawn_blocking(move || super::procfs::process_name(peer, local))
                .await
                .ok()
                .flatten()
                .map(Arc::from)
        })
        .await;
    }

    /// The best name known for `peer`.
    pub fn name(&self, peer: SocketAddr) -> Option<String> {
        let map = self.lock();
        let e = map.get(&peer)?;
        e.announced
            .clone()
            .or_else(|| e.process.get().cloned().flatten())
            .map(|n| n.to_string())
    }
}

/// The user name in a `Proxy-Authorization: Basic` header, as a client
/// name: printable, at most 64 characters.
pub fn announced(headers: &HeaderMap) -> Option<Arc<str>> {
    let value = headers.get(header::PROXY_AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let user = text.split(':').next()?;
    let name: String = user
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME)
        .collect();
    (!name.trim().is_empty()).then(|| Arc::from(name.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proxy_user_names_the_client() {
        let mut h = HeaderMap::new();
        assert_eq!(announced(&h), None);
        // base64("claude:")
        h.insert(
            header::PROXY_AUTHORIZATION,
            "Basic Y2xhdWRlOg==".parse().unwrap(),
        );
        assert_eq!(announced(&h).as_deref(), Some("claude"));
        // base64(":pw")
        h.insert(header::PROXY_AUTHORIZATION, "Basic OnB3".parse().unwrap());
        assert_eq!(announced(&h), None);
        h.insert(header::PROXY_AUTHORIZATION, "Bearer x".parse().unwrap());
        assert_eq!(announced(&h), None);
    }
}
