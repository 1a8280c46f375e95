//! The process that owns a loopback client socket, from Linux's /proc:
//! find the socket's inode (asked of the kernel with `sockdiag`, else read
//! from /proc/net/tcp{,6}; its local address is the client's peer address,
//! its remote ours), then the process holding a descriptor to
//! `socket:[inode]`. Only processes of the same user (or all, as root) are
//! visible; anything unreadable is skipped.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// Whether a lookup can work for this peer here.
pub fn supported(peer: SocketAddr) -> bool {
    // `to_canonical`: listening on `[::]`, an IPv4 client shows as
    // `::ffff:127.0.0.1`, which is loopback all the same.
    cfg!(target_os = "linux") && peer.ip().to_canonical().is_loopback()
}

/// Names of the processes that own loopback sockets, remembered by socket
/// inode: finding a socket's owner means reading the descriptors of every
/// process until one holds it, and a client that opens many connections
/// (an agent's tool calls, a burst of requests) would make each lookup read
/// all of its descriptors again. One scan of the owner remembers all its
/// sockets, so the next connections it opened by then are found at once.
/// (`ClientNames` runs one lookup at a time, so the lookups queued behind
/// a scan find their sockets remembered.)
#[derive(Default)]
pub struct Owners {
    by_inode: Mutex<HashMap<u64, Arc<str>>>,
}

/// Sockets remembered at most; past that the memory starts again empty.
const MAX_REMEMBERED: usize = 65_536;

impl Owners {
    /// The program name (from the command line, else `comm`) of the
    /// process whose socket is `peer` connected to `local`.
    pub fn process_name(&self, peer: SocketAddr, local: SocketAddr) -> Option<Arc<str>> {
        let inode = inode_of(peer, local)?;
        if let Some(name) = self.lock().get(&inode) {
            return Some(name.clone());
        }
        let wanted = format!("socket:[{inode}]");
        // Newest processes first: a client is usually younger than the rest.
        let mut pids: Vec<u32> = std::fs::read_dir("/proc")
            .ok()?
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect();
        pids.sort_unstable_by(|a, b| b.cmp(a));
        for pid in pids {
            let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
                continue;
            };
            let links: Vec<_> = fds
                .flatten()
                .filter_map(|fd| std::fs::read_link(fd.path()).ok())
                .collect();
            if !links.iter().any(|l| l.as_os_str() == wanted.as_str()) {
                continue;
            }
            let name: Arc<str> = Arc::from(program_of(pid)?);
            let sockets = links
                .iter()
                .filter_map(|l| socket_number(l.as_os_str().to_str()?));
            let mut known = self.lock();
            if known.len() + links.len() > MAX_REMEMBERED {
                known.clear();
            }
            known.extend(sockets.map(|s| (s, name.clone())));
            return Some(name);
        }
        None
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<str>>> {
        self.by_inode.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The socket's inode: asked of the kernel (one lookup), else found in
/// /proc/net/tcp{,6} (a line for every TCP socket of the machine).
///
/// A client llmspy sees at an IPv4-mapped address (llmspy listening on
/// `[::]`) usually holds an IPv4 socket, so that is asked for first; a
/// client that connected from an IPv6 socket to the mapped address holds
/// the mapped form itself, asked for second.
fn inode_of(peer: SocketAddr, local: SocketAddr) -> Option<u64> {
    let canonical = |a: SocketAddr| SocketAddr::new(a.ip().to_canonical(), a.port());
    let (peer4, local4) = (canonical(peer), canonical(local));
    if let Some(inode) = inode_at(peer4, local4) {
        return Some(inode);
    }
    if (peer4, local4) == (peer, local) {
        return None;
    }
    inode_at(peer, local)
}

/// The inode of the socket at exactly these addresses.
fn inode_at(peer: SocketAddr, local: SocketAddr) -> Option<u64> {
    #[cfg(target_os = "linux")]
    if let Some(inode) = super::sockdiag::inode(peer, local) {
        return Some(inode);
    }
    let table = if peer.is_ipv4() {
        "/proc/net/tcp"
    } else {
        "/proc/net/tcp6"
    };
    socket_inode(&std::fs::read_to_string(table).ok()?, peer, local)
}

/// The inode in a descriptor's link text `socket:[N]`. Pure.
fn socket_number(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

fn program_of(pid: u32) -> Option<String> {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
    let argv0 = String::from_utf8_lossy(argv0);
    let base = argv0.rsplit('/').next().unwrap_or_default().trim();
    if !base.is_empty() {
        return Some(base.to_string());
    }
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(comm.trim().to_string()).filter(|c| !c.is_empty())
}

/// The inode of the row whose local address is `peer` and remote `local`
/// in a /proc/net/tcp{,6} table. Pure.
pub fn socket_inode(table: &str, peer: SocketAddr, local: SocketAddr) -> Option<u64> {
    let (want_local, want_remote) = (hex_addr(peer), hex_addr(local));
    table.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let (l, r, inode) = (cols.get(1)?, cols.get(2)?, cols.get(9)?);
        (l.eq_ignore_ascii_case(&want_local) && r.eq_ignore_ascii_case(&want_remote))
            .then(|| inode.parse().ok())
            .flatten()
    })
}

/// An address as /proc/net/tcp writes it: each 32-bit word of the IP
/// (stored in network order) printed as a native-endian number, a colon,
/// the port in hex.
fn hex_addr(addr: SocketAddr) -> String {
    let octets = match addr.ip() {
        std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
        std::net::IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    let ip: String = octets
        .chunks(4)
        .map(|w| {
            let word = u32::from_ne_bytes([w[0], w[1], w[2], w[3]]);
            format!("{word:08X}")
        })
        .collect();
    format!("{ip}:{:04X}", addr.port())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// This test binary's name, as a lookup names it.
    pub(crate) fn this_program() -> String {
        let me = std::env::current_exe().expect("exe");
        me.file_name().expect("name").to_string_lossy().to_string()
    }

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0438 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 11111 1 0 100 0 0 10 0
   1: 0100007F:C350 0100007F:0438 01 00000000:00000000 00:00000000 00000000  1000        0 22222 1 0 20 4 30 10 -1
";

    #[test]
    fn finds_the_client_row() {
        let peer: SocketAddr = "127.0.0.1:50000".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:1080".parse().unwrap();
        assert_eq!(socket_inode(TCP, peer, local), Some(22222));
        assert_eq!(socket_inode(TCP, local, peer), None);
        assert_eq!(
            hex_addr("[::1]:80".parse().unwrap()),
            "00000000000000000000000001000000:0050"
        );
    }

    #[test]
    fn socket_links_name_their_inode() {
        assert_eq!(socket_number("socket:[12345]"), Some(12345));
        assert_eq!(socket_number("pipe:[12345]"), None);
        assert_eq!(socket_number("/dev/null"), None);
    }

    /// A real loopback client (this test binary) is named, and its other
    /// sockets are remembered from that one scan.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_owner_of_a_loopback_client_and_its_other_sockets() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let local = listener.local_addr().unwrap();
        let first = std::net::TcpStream::connect(local).unwrap();
        let second = std::net::TcpStream::connect(local).unwrap();
        let owners = Owners::default();
        let name = owners.process_name(first.local_addr().unwrap(), local);
        assert_eq!(name.as_deref(), Some(this_program().as_str()));
        let second_inode = inode_of(second.local_addr().unwrap(), local).expect("inode");
        assert!(
            owners.lock().contains_key(&second_inode),
            "remembered from the first scan"
        );
        let stranger: SocketAddr = "127.0.0.1:1".parse().unwrap();
        assert_eq!(owners.process_name(stranger, local), None);
    }

    /// Listening on `[::]`, an IPv4 client is seen at a mapped address and
    /// still named.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_client_seen_at_an_ipv4_mapped_address_is_named() {
        let Ok(listener) = std::net::TcpListener::bind("[::]:0") else {
            return; // no IPv6 here: nothing to map
        };
        let port = listener.local_addr().unwrap().port();
        let _client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (accepted, peer) = listener.accept().unwrap();
        let local = accepted.local_addr().unwrap();
        assert!(peer.ip().to_string().starts_with("::ffff:"), "{peer}");
        assert!(supported(peer));
        let name = Owners::default().process_name(peer, local);
        assert_eq!(name.as_deref(), Some(this_program().as_str()));
    }
}
