//! The open-file limit: raised to the hard limit at start, and the share of
//! it client connections may hold so upstream connections, the control API
//! and the CA files always find a descriptor.

/// The process's open-file limits after [`raise`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdLimit {
    pub soft: u64,
    pub hard: u64,
    /// The soft limit before it was raised, when it was.
    pub raised_from: Option<u64>,
}

/// Below this hard limit a few hundred agents' connections can exhaust it.
pub const LOW_HARD_LIMIT: u64 = 4096;

/// Descriptors kept back from client connections: the listener, log and
/// save files, CA reads, DNS, and some headroom for accept itself.
const RESERVED: u64 = 32;

/// Raise the soft open-file limit to the hard limit. Each proxied request
/// holds two descriptors (client and upstream), and common defaults (1024)
/// run out with a few hundred concurrent streams.
#[cfg(unix)]
pub fn raise() -> std::io::Result<FdLimit> {
    let (soft, hard) = get()?;
    if soft >= hard {
        return Ok(FdLimit {
            soft,
            hard,
            raised_from: None,
        });
    }
    let wanted = libc::rlimit {
        rlim_cur: hard as libc::rlim_t,
        rlim_max: hard as libc::rlim_t,
    };
    // SAFETY: setrlimit reads the struct we pass and nothing else.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(FdLimit {
        soft: hard,
        hard,
        raised_from: Some(soft),
    })
}

#[cfg(not(unix))]
pub fn raise() -> std::io::Result<FdLimit> {
    Ok(FdLimit {
        soft: u64::MAX,
        hard: u64::MAX,
        raised_from: None,
    })
}

/// (soft, hard) open-file limits; "unlimited" as `u64::MAX`.
#[cfg(unix)]
fn get() -> std::io::Result<(u64, u64)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // rlim_t is u64 on Linux and macOS but not on every unix.
    #[allow(clippy::unnecessary_cast)]
    let value = |v: libc::rlim_t| {
        if v == libc::RLIM_INFINITY {
            u64::MAX
        } else {
            v as u64
        }
    };
    Ok((value(lim.rlim_cur), value(lim.rlim_max)))
}

/// How many client connections to hold at most under the current soft
/// limit: about half of what is left after the reserve, since every
/// proxied request also needs an upstream connection.
pub fn client_connection_budget() -> usize {
    #[cfg(unix)]
    let soft = get().map_or(1024, |(soft, _)| soft);
    #[cfg(not(unix))]
    let soft = 1 << 20;
    budget_for(soft)
}

fn budget_for(soft: u64) -> usize {
    let usable = soft.saturating_sub(RESERVED) / 2;
    usize::try_from(usable).unwrap_or(usize::MAX).max(8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_leaves_room_for_upstreams_and_the_reserve() {
        assert_eq!(budget_for(256), 112);
        assert_eq!(budget_for(1024), 496);
        assert_eq!(budget_for(10), 8);
        assert!(budget_for(u64::MAX) > 1_000_000);
    }
}
