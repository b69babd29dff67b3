//! Allocator settings for a small, steady footprint (glibc malloc on Linux).

/// Tunes glibc malloc before any thread starts. Without it the log-in workload raised the
/// peak RSS by 367 MiB (bench/RESULTS.md): glibc raises its mmap threshold to the size of
/// the first large block freed (Argon2's 19 MiB), after which every hash is carved from a
/// per-thread arena and kept there, one arena per blocking thread. A fixed threshold keeps
/// blocks of 1 MiB and more as mappings that go back to the system when freed, and two
/// arenas bound what small allocations can strand across threads.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called first thing in `main`,
    // before the runtime starts any thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
