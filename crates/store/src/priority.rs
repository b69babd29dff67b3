//! CPU priority for the single SQLite writer.
//!
//! SQLite has one writer; under a write load it is the one thing every registration waits for,
//! while the request handlers that feed it run on every other runtime thread. On two cores the
//! writer shared its core with a runtime worker and, scheduled fairly, ran only about half the
//! time it held the write lock: the queue behind it waited for the CPU, not for the disk. The
//! writer's groups therefore run at a raised priority (nice [`WRITER_NICE`]) for exactly as
//! long as they write, then the thread goes back to where it was.
//!
//! Raising a priority needs the privilege to do so: root, `CAP_SYS_NICE`, or a nice limit
//! (`RLIMIT_NICE`, systemd's `LimitNICE=`) that allows it. Without it the writer runs at the
//! normal priority, as before; [`raised`] tells `/metrics`, and the first refusal is logged once.

use std::sync::atomic::{AtomicU8, Ordering};

/// The writer's nice value while it writes (normal is 0; lower runs first).
pub const WRITER_NICE: i32 = -10;

/// Not tried yet, raised at least once, refused.
const UNKNOWN: u8 = 0;
const RAISED: u8 = 1;
const REFUSED: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(UNKNOWN);

/// Whether the writer runs at its raised priority: `None` before its first write.
pub fn raised() -> Option<bool> {
    match STATE.load(Ordering::Relaxed) {
        RAISED => Some(true),
        REFUSED => Some(false),
        _ => None,
    }
}

/// The calling thread at the writer's priority until dropped; a no-op where refused.
pub(crate) struct Raised {
    /// The thread's nice value before, restored on drop; `None` when nothing was changed.
    before: Option<i32>,
}

impl Raised {
    /// Raises the calling thread's priority if the process may (tried again only while it
    /// has never been refused).
    pub(crate) fn now() -> Raised {
        if STATE.load(Ordering::Relaxed) == REFUSED {
            return Raised { before: None };
        }
        match sys::set_nice(WRITER_NICE) {
            Ok(before) => {
                STATE.store(RAISED, Ordering::Relaxed);
                Raised {
                    before: Some(before),
                }
            }
            Err(e) => {
                if STATE.swap(REFUSED, Ordering::Relaxed) != REFUSED {
                    tracing::info!(
                        error = %e,
                        "the SQLite writer runs at normal CPU priority (raising it needs \
                         CAP_SYS_NICE or a nice limit such as systemd's LimitNICE=-10)"
                    );
                }
                Raised { before: None }
            }
        }
    }
}

impl Drop for Raised {
    fn drop(&mut self) {
        if let Some(before) = self.before {
            // Lowering a priority back is always allowed.
            let _ = sys::set_nice(before);
        }
    }
}

#[cfg(target_os = "linux")]
mod sys {
    /// Sets the calling thread's nice value (Linux keeps one per thread); returns the old one.
    pub(super) fn set_nice(nice: i32) -> std::io::Result<i32> {
        // SAFETY: plain system calls on the calling thread's own id.
        unsafe {
            let tid = libc::gettid() as libc::id_t;
            let before = libc::getpriority(libc::PRIO_PROCESS, tid);
            if libc::setpriority(libc::PRIO_PROCESS, tid, nice) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(before)
        }
    }

    /// The calling thread's nice value.
    #[cfg(test)]
    pub(super) fn nice() -> i32 {
        // SAFETY: as above.
        unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    /// Elsewhere a nice value belongs to the whole process: leave it alone.
    pub(super) fn set_nice(_nice: i32) -> std::io::Result<i32> {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "per-thread priority is Linux only",
        ))
    }

    #[cfg(test)]
    pub(super) fn nice() -> i32 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_writer_priority_is_raised_while_held_and_restored_after() {
        let before = sys::nice();
        {
            let g = Raised::now();
            match g.before {
                Some(b) => {
                    assert_eq!(b, before);
                    assert_eq!(sys::nice(), WRITER_NICE);
                    assert_eq!(raised(), Some(true));
                }
                // Not permitted here (no CAP_SYS_NICE): nothing may have changed.
                None => {
                    assert_eq!(sys::nice(), before);
                    assert_eq!(raised(), Some(false));
                }
            }
        }
        assert_eq!(sys::nice(), before, "the thread got its priority back");
    }
}
