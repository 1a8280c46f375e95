//! The inode of one TCP socket, found by its two addresses with a single
//! exact query to Linux's sock_diag netlink interface (what `ss` uses).
//!
//! Why not /proc/net/tcp: the kernel formats a line for every TCP socket
//! of the machine on each read, so finding one client there costs time in
//! proportion to all the connections open, llmspy's own included. With
//! 1,000 clients connecting at once (4,000 sockets open) those reads were
//! 40% of all the CPU spent; this query is one hash lookup in the kernel.
//! /proc/net/tcp stays as the fallback where sock_diag is not built in.
//!
//! The request and the reply are laid out by the pure functions below;
//! `inode` is the only part that does IO.

use std::net::{IpAddr, SocketAddr};

/// `SOCK_DIAG_BY_FAMILY`, the message type of a query and of its answer.
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLM_F_REQUEST: u16 = 1;
const HEADER: usize = 16;
/// `struct inet_diag_req_v2`: family, protocol, extensions, padding, the
/// states wanted, then the socket's id.
const REQUEST_BODY: usize = 8 + ID;
/// `struct inet_diag_sockid`: ports, two 16-byte addresses, the interface,
/// and a two-word cookie.
const ID: usize = 4 + 16 + 16 + 4 + 8;
/// Where `idiag_inode` sits in `struct inet_diag_msg`: after family,
/// state, timer and retransmits, the id, then expires, the two queues and
/// the uid.
const INODE_AT: usize = 4 + ID + 16;

/// The query for the socket whose own address is `own` and whose peer is
/// `remote` (for a client of llmspy: the client's address, then llmspy's).
/// None when the two are not of one address family.
pub fn request(own: SocketAddr, remote: SocketAddr, seq: u32) -> Option<Vec<u8>> {
    let family = match (own.ip(), remote.ip()) {
        (IpAddr::V4(_), IpAddr::V4(_)) => libc::AF_INET as u8,
        (IpAddr::V6(_), IpAddr::V6(_)) => libc::AF_INET6 as u8,
        _ => return None,
    };
    let mut msg = Vec::with_capacity(HEADER + REQUEST_BODY);
    msg.extend_from_slice(&((HEADER + REQUEST_BODY) as u32).to_ne_bytes());
    msg.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    msg.extend_from_slice(&NLM_F_REQUEST.to_ne_bytes());
    msg.extend_from_slice(&seq.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes());
    msg.push(family);
    msg.push(6); // IPPROTO_TCP
    msg.extend_from_slice(&[0, 0]);
    msg.extend_from_slice(&u32::MAX.to_ne_bytes()); // every state
    // Ports and addresses in network order, as on the wire.
    msg.extend_from_slice(&own.port().to_be_bytes());
    msg.extend_from_slice(&remote.port().to_be_bytes());
    msg.extend_from_slice(&address(own.ip()));
    msg.extend_from_slice(&address(remote.ip()));
    msg.extend_from_slice(&0u32.to_ne_bytes()); // any interface
    // INET_DIAG_NOCOOKIE: match on the addresses alone.
    msg.extend_from_slice(&u32::MAX.to_ne_bytes());
    msg.extend_from_slice(&u32::MAX.to_ne_bytes());
    Some(msg)
}

/// The socket's inode from the kernel's answer to `request(.., seq)`;
/// None for an error answer (no such socket), another query's answer, or
/// anything cut short.
pub fn inode_in_reply(reply: &[u8], seq: u32) -> Option<u64> {
    let word = |at: usize| -> Option<u32> {
        Some(u32::from_ne_bytes(reply.get(at..at + 4)?.try_into().ok()?))
    };
    let len = word(0)? as usize;
    let kind = u16::from_ne_bytes(reply.get(4..6)?.try_into().ok()?);
    if kind != SOCK_DIAG_BY_FAMILY || word(8)? != seq || len < HEADER + INODE_AT + 4 {
        return None;
    }
    let inode = word(HEADER + INODE_AT)?;
    (inode != 0).then_some(u64::from(inode))
}

fn address(ip: IpAddr) -> [u8; 16] {
    let mut out = [0; 16];
    match ip {
        IpAddr::V4(v4) => out[..4].copy_from_slice(&v4.octets()),
        IpAddr::V6(v6) => out = v6.octets(),
    }
    out
}

/// Ask the kernel for the inode of the TCP socket `own` ↔ `remote`. None
/// when sock_diag is unavailable or no such socket is open.
pub fn inode(own: SocketAddr, remote: SocketAddr) -> Option<u64> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let msg = request(own, remote, seq)?;
    // SAFETY: plain system calls on a socket this function owns; the
    // buffers outlive the calls and their lengths are passed with them.
    unsafe {
        let raw = libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            libc::NETLINK_SOCK_DIAG,
        );
        if raw < 0 {
            return None;
        }
        let socket = OwnedFd::from_raw_fd(raw);
        // An unbound netlink socket sends to the kernel, which answers
        // before `send` returns: the reply is waiting, so the read below
        // never blocks (and is told not to, in case).
        let sent = libc::send(socket.as_raw_fd(), msg.as_ptr().cast(), msg.len(), 0);
        if sent != msg.len() as isize {
            return None;
        }
        let mut reply = [0u8; 512];
        let got = libc::recv(
            socket.as_raw_fd(),
            reply.as_mut_ptr().cast(),
            reply.len(),
            libc::MSG_DONTWAIT,
        );
        let got = usize::try_from(got).ok()?;
        inode_in_reply(&reply[..got], seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_names_the_socket_in_network_order() {
        let own: SocketAddr = "127.0.0.1:50000".parse().unwrap();
        let remote: SocketAddr = "127.0.0.1:1080".parse().unwrap();
        let msg = request(own, remote, 7).unwrap();
        assert_eq!(msg.len(), 72);
        assert_eq!(u32::from_ne_bytes(msg[0..4].try_into().unwrap()), 72);
        assert_eq!(&msg[16..18], &[libc::AF_INET as u8, 6]);
        assert_eq!(&msg[24..26], &50000u16.to_be_bytes());
        assert_eq!(&msg[26..28], &1080u16.to_be_bytes());
        assert_eq!(&msg[28..32], &[127, 0, 0, 1]);
        assert_eq!(&msg[44..48], &[127, 0, 0, 1]);
        let v6: SocketAddr = "[::1]:1080".parse().unwrap();
        assert_eq!(request(own, v6, 1), None, "families differ");
        assert_eq!(
            request("[::1]:5".parse().unwrap(), v6, 1).unwrap()[16],
            libc::AF_INET6 as u8
        );
    }

    /// `NLMSG_ERROR`: the kernel's answer when no such socket exists.
    const NLMSG_ERROR: u16 = 2;

    #[test]
    fn only_a_whole_answer_to_this_query_gives_an_inode() {
        let mut reply = vec![0u8; HEADER + INODE_AT + 4];
        let len = reply.len() as u32;
        reply[0..4].copy_from_slice(&len.to_ne_bytes());
        reply[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        reply[8..12].copy_from_slice(&9u32.to_ne_bytes());
        reply[HEADER + INODE_AT..].copy_from_slice(&4242u32.to_ne_bytes());
        assert_eq!(inode_in_reply(&reply, 9), Some(4242));
        assert_eq!(inode_in_reply(&reply, 8), None, "another query's answer");
        assert_eq!(
            inode_in_reply(&reply[..reply.len() - 1], 9),
            None,
            "cut short"
        );
        reply[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
        assert_eq!(inode_in_reply(&reply, 9), None, "no such socket");
    }

    /// Against the kernel: a real loopback connection's inode, the same
    /// one /proc/net/tcp lists for it.
    #[test]
    fn the_kernel_names_the_inode_proc_lists() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let local = listener.local_addr().unwrap();
        let client = std::net::TcpStream::connect(local).unwrap();
        let peer = client.local_addr().unwrap();
        let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
        let listed = super::super::procfs::socket_inode(&table, peer, local).expect("listed");
        assert_eq!(inode(peer, local), Some(listed));
        drop(client);
        let gone: SocketAddr = "127.0.0.1:1".parse().unwrap();
        assert_eq!(inode(gone, local), None);
    }
}
