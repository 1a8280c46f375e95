//! The process that owns a loopback client socket, from Linux's /proc:
//! find the socket's inode in /proc/net/tcp{,6} (its local address is the
//! client's peer address, its remote ours), then the process holding a
//! descriptor to `socket:[inode]`. Only processes of the same user (or
//! all, as root) are visible; anything unreadable is skipped.

use std::net::SocketAddr;

/// Whether a lookup can work for this peer here.
pub fn supported(peer: SocketAddr) -> bool {
    cfg!(target_os = "linux") && peer.ip().is_loopback()
}

/// The program name (from the command line, else `comm`) of the process
/// whose socket is `peer` connected to `local`.
pub fn process_name(peer: SocketAddr, local: SocketAddr) -> Option<String> {
    let table = if peer.is_ipv4() {
        "/proc/net/tcp"
    } else {
        "/proc/net/tcp6"
    };
    let text = std::fs::read_to_string(table).ok()?;
    let inode = socket_inode(&text, peer, local)?;
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
        let owns = fds.flatten().any(|fd| {
            std::fs::read_link(fd.path()).is_ok_and(|l| l.as_os_str() == wanted.as_str())
        });
        if owns {
            return program_of(pid);
        }
    }
    None
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
mod tests {
    use super::*;

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
}
