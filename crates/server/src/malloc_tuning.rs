//! glibc malloc settings applied before any thread starts.
//!
//! glibc gives each thread that contends on a lock its own arena (up to 8 per core). The
//! head's long-lived series and chunks then end up spread over many arenas, interleaved with
//! the short-lived buffers of remote-write requests and queries, and freed space in one
//! arena cannot serve another: at 100k series RSS grew ~30 MiB above the live heap during
//! ingest and ~440 MiB during the benchmark's queries (809 MiB peak). Capping the arenas
//! removes most of that, but too few make the ingest threads queue on arena locks. Measured
//! on 2 cores (bench harness, 100k series × 1 h, quiet machine):
//!
//! | arenas | CPU s / 1M samples | samples/s | peak RSS ingest / incl. queries |
//! |---|---|---|---|
//! | 2 | 7.74 | 225k | 259.7 / 429.7 MiB |
//! | 4 | 4.15 | 427k | 259.0 / 539.3 MiB |
//! | 8 | 4.25 | 424k | 271.4 / 650.1 MiB |
//!
//! So two per core. An `MALLOC_ARENA_MAX` set in the environment still wins, so operators
//! can tune it without a rebuild.

/// Arenas per available core when the environment does not say.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENAS_PER_CORE: usize = 2;
/// Bounds of the cap, whatever the core count.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENA_BOUNDS: (usize, usize) = (2, 16);

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn arena_max() -> i32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let n = (cores * ARENAS_PER_CORE).clamp(ARENA_BOUNDS.0, ARENA_BOUNDS.1);
    i32::try_from(n).unwrap_or(2)
}

/// What was applied, for the start-up log.
pub struct Applied {
    /// The arena cap set, or None when left to the environment / another allocator.
    pub arena_max: Option<i32>,
}

/// Applies the settings. Must run before the first thread is spawned.
pub fn apply() -> Applied {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            let n = arena_max();
            // SAFETY: mallopt only changes allocator parameters; no other thread exists yet,
            // so no allocation races with the change.
            let ok = unsafe { libc::mallopt(libc::M_ARENA_MAX, n) } == 1;
            if ok {
                return Applied { arena_max: Some(n) };
            }
        }
    }
    Applied { arena_max: None }
}
