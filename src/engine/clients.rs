//! Which program sent a request. A client may announce itself in the user
//! part of its proxy URL (`llmspy run` sets `http://claude:llmspy@127.0.0.1:1080`,
//! so requests carry `Proxy-Authorization: Basic claude:llmspy`); failing that,
//! on Linux, the process owning the client's loopback socket is looked up
//! once per connection. The relay reads the name when an exchange starts.
//!
//! The lookup (`procfs::Owners`) reads /proc on the blocking pool. It
//! begins with the connection's first request (for a CONNECT, once the
//! tunnel is answered) and only an exchange waits for it: a CONNECT used to
//! wait too, adding 2.5-3 ms to every new HTTPS connection; now the
//! client's TLS handshake inside the tunnel overlaps it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine as _;
use http::{HeaderMap, header};
use tokio::sync::{Semaphore, SetOnce};

/// Longest name kept.
const MAX_NAME: usize = 64;

type Name = Option<Arc<str>>;

#[derive(Default)]
struct Entry {
    announced: Name,
    /// The owning process's name, set once its lookup ends; None until a
    /// lookup is begun (then there is something to wait for).
    process: Option<Arc<SetOnce<Name>>>,
    /// The connection and the tunnels opened on it.
    holders: usize,
}

/// A client connection's address, and the program name found for it once
/// known. An intercepted connection's requests each ask for the name: kept
/// here, the map every worker shares is locked (and its key hashed) only
/// until the name is found, not on every request.
#[derive(Debug)]
pub struct Peer {
    pub addr: SocketAddr,
    found: OnceLock<String>,
}

impl Peer {
    pub fn new(addr: SocketAddr) -> Arc<Peer> {
        Arc::new(Peer {
            addr,
            found: OnceLock::new(),
        })
    }

    /// The best name known for this client (see [`ClientNames::name`]),
    /// from this connection's copy once one was found.
    pub async fn name(&self, names: &ClientNames) -> Option<String> {
        if let Some(name) = self.found.get() {
            return Some(name.clone());
        }
        let name = names.name(self.addr).await?;
        Some(self.found.get_or_init(|| name).clone())
    }
}

/// Names of the clients of open connections, by peer address.
pub struct ClientNames {
    by_peer: Mutex<HashMap<SocketAddr, Entry>>,
    owners: Arc<super::procfs::Owners>,
    /// One lookup at a time, waited for as a task rather than as a blocking
    /// thread: a burst of connections (or a local process opening them as
    /// fast as it can) queues here instead of starting hundreds of threads,
    /// and the scan of the first lookup names most of the burst.
    turns: Arc<Semaphore>,
}

impl Default for ClientNames {
    fn default() -> Self {
        ClientNames {
            by_peer: Mutex::default(),
            owners: Arc::default(),
            turns: Arc::new(Semaphore::new(1)),
        }
    }
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

    /// Begin looking up the process that owns `peer`'s socket, unless the
    /// client announced a name or a lookup was already begun. Returns at
    /// once: only loopback clients are looked up, as it reads /proc.
    pub fn begin(&self, peer: SocketAddr, local: SocketAddr) {
        if !super::procfs::supported(peer) {
            return;
        }
        let cell = {
            let mut map = self.lock();
            match map.get_mut(&peer) {
                Some(e) if e.announced.is_none() && e.process.is_none() => {
                    e.process.insert(Arc::default()).clone()
                }
                _ => return,
            }
        };
        let (owners, turns) = (self.owners.clone(), self.turns.clone());
        tokio::spawn(async move {
            let _turn = turns.acquire_owned().await;
            let found = tokio::task::spawn_blocking(move || owners.process_name(peer, local)).await;
            // Set on every path, a panic included: an exchange waits for it.
            let _ = cell.set(found.ok().flatten());
        });
    }

    /// The best name known for `peer`: the announced one, else its process
    /// once the lookup begun for it has ended.
    pub async fn name(&self, peer: SocketAddr) -> Option<String> {
        let cell = {
            let map = self.lock();
            let e = map.get(&peer)?;
            if let Some(name) = &e.announced {
                return Some(name.to_string());
            }
            let cell = e.process.as_ref()?;
            if let Some(found) = cell.get() {
                return found.as_deref().map(str::to_string);
            }
            cell.clone()
        };
        cell.wait().await.as_deref().map(str::to_string)
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
    use super::super::procfs::tests::this_program;
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

    /// The lookup runs in the background and the name waits for it; an
    /// announced name needs none, and nothing is looked up unless begun.
    #[tokio::test]
    async fn a_begun_lookup_names_the_process_and_an_announced_name_wins() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let local = listener.local_addr().expect("addr");
        let _client = tokio::net::TcpStream::connect(local)
            .await
            .expect("connect");
        let (_server, peer) = listener.accept().await.expect("accept");
        let names = Arc::new(ClientNames::default());
        let _hold = names.hold(peer);
        assert_eq!(
            names.name(peer).await,
            None,
            "nothing begun, nothing waited for"
        );
        names.begin(peer, local);
        let found = names.name(peer).await;
        if cfg!(target_os = "linux") {
            assert_eq!(found, Some(this_program()));
        }
        names.announce(peer, Arc::from("claude"));
        assert_eq!(names.name(peer).await.as_deref(), Some("claude"));
        drop(_hold);
        assert_eq!(
            names.name(peer).await,
            None,
            "forgotten with the connection"
        );
    }

    /// Many clients connecting at once are all named, one lookup after
    /// another.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_of_clients_is_named_in_turns() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let local = listener.local_addr().expect("addr");
        let names = Arc::new(ClientNames::default());
        let mut kept = Vec::new();
        for _ in 0..100 {
            let client = tokio::net::TcpStream::connect(local)
                .await
                .expect("connect");
            let (server, peer) = listener.accept().await.expect("accept");
            let hold = names.hold(peer);
            names.begin(peer, local);
            kept.push((client, server, hold, peer));
        }
        for (_, _, _, peer) in &kept {
            let found = names.name(*peer).await;
            if cfg!(target_os = "linux") {
                assert_eq!(found, Some(this_program()), "{peer}");
            }
        }
    }
}
