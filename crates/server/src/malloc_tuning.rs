//! glibc malloc settings applied before any thread starts.
//!
//! glibc gives each thread that contends on a lock its own arena (up to 8 per core). The
//! head's long-lived series and chunks then end up spread over many arenas, interleaved with
//! the short-lived buffers of remote-write requests and queries, and freed space in one
//! arena cannot serve another: at 100k series RSS grew ~30 MiB above the live heap during
//! ingest and ~440 MiB during the benchmark's queries (809 MiB peak). Two arenas keep
//! contention low on small machines and remove most of that. An `MALLOC_ARENA_MAX` set in the
//! environment still wins, so operators can tune it without a rebuild.

/// Arenas when the environment does not say.
const ARENA_MAX: i32 = 2;

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
            // SAFETY: mallopt only changes allocator parameters; no other thread exists yet,
            // so no allocation races with the change.
            let ok = unsafe { libc::mallopt(libc::M_ARENA_MAX, ARENA_MAX) } == 1;
            if ok {
                return Applied {
                    arena_max: Some(ARENA_MAX),
                };
            }
        }
    }
    Applied { arena_max: None }
}
