//! Threads whose work nobody is waiting for (the OpenTelemetry exporter)
//! yield the CPU to the relay. On a busy machine the relay's requests come
//! first and these threads catch up in the gaps; on an idle one nothing
//! changes, since a lower priority only matters when threads compete for a
//! core.

/// How much lower than the relay: at nice 10 the kernel gives such a thread
/// about a tenth of the share of a normal one while both want the CPU, so it
/// still makes steady progress under a sustained load.
const NICE: i32 = 10;

/// Lower the calling thread's CPU priority. Best effort: where it cannot
/// (another OS, a sandbox that forbids it), the thread runs as it was.
pub fn lower_this_thread() {
    #[cfg(target_os = "linux")]
    {
        // On Linux the nice value belongs to the thread: `setpriority` with
        // a thread id changes that thread only, not the whole process.
        // SAFETY: `gettid` has no preconditions; `setpriority` only reads its
        // arguments.
        unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, NICE);
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn lowers_only_the_calling_thread() {
        let before = unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
        let inside = std::thread::spawn(|| {
            super::lower_this_thread();
            unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }
        })
        .join()
        .expect("thread");
        assert_eq!(inside, (before + super::NICE).min(19));
        let after = unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
        assert_eq!(after, before, "the caller's own thread is untouched");
    }
}
