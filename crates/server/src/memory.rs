//! Allocator settings for a small, steady footprint (glibc malloc on Linux).

/// Tunes glibc malloc before any thread starts. Without it the log-in workload raised the
/// peak RSS by 367 MiB (bench/RESULTS.md): glibc raises its mmap threshold to the size of
/// the first large block freed (Argon2's 19 MiB), after which every hash is carved from a
/// per-thread arena and kept there, one arena per blocking thread. A fixed threshold keeps
/// blocks of 1 MiB and more as mappings that go back to the system when freed, and four
/// arenas (two per core of the benchmark machine) bound what small allocations can strand
/// across threads. With two, threads queued on the arenas' locks: under the create load
/// `perf` showed a fifth of the time in malloc and free and in futex waits, and four arenas
/// or more were about 8 % faster.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called first thing in `main`,
    // before the runtime starts any thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 4);
    }
}

/// How often the trimmer looks whether the server has gone quiet.
const QUIET_CHECK: std::time::Duration = std::time::Duration::from_millis(500);

/// Hands memory that a burst of work freed back to the system once the server is quiet.
/// glibc returns freed memory only from the top of a heap: what start-up or a load freed
/// below live blocks stays resident (at start-up 8 of the main heap's 10 MiB were free),
/// until `malloc_trim` releases the free pages. It runs once per quiet spell: after
/// start-up, and again after any requests or jobs (`activity` counts them), when a check
/// finds nothing new since the one before.
pub fn spawn_trimmer(activity: impl Fn() -> u64 + Send + 'static) {
    tokio::spawn(async move {
        let mut quiet = Quiet::new(activity());
        let mut tick = tokio::time::interval(QUIET_CHECK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if quiet.check(activity()) {
                // It walks every arena's free lists under their locks: off the workers.
                let _ = tokio::task::spawn_blocking(trim).await;
            }
        }
    });
}

/// Whether the server has just gone quiet: the activity count at the last check, and
/// whether work was done since the last trim (start-up counts as work).
struct Quiet {
    seen: u64,
    dirty: bool,
}

impl Quiet {
    fn new(seen: u64) -> Quiet {
        Quiet { seen, dirty: true }
    }

    /// True once per quiet spell: at the first check that finds the count unchanged after
    /// work.
    fn check(&mut self, now: u64) -> bool {
        if now != self.seen {
            self.seen = now;
            self.dirty = true;
            false
        } else {
            std::mem::replace(&mut self.dirty, false)
        }
    }
}

/// Releases the allocator's free pages to the system.
fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory to the system; it takes the arenas' own
    // locks and may run beside any allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::Quiet;

    #[test]
    fn trims_once_per_quiet_spell() {
        let mut q = Quiet::new(5);
        assert!(q.check(5), "after start-up");
        assert!(!q.check(5), "nothing new since");
        assert!(!q.check(9), "busy");
        assert!(!q.check(12), "still busy");
        assert!(q.check(12), "quiet again");
        assert!(!q.check(12));
    }
}
