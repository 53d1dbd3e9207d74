//! glibc malloc settings applied before any thread starts.
//!
//! glibc gives each thread that contends on a lock its own arena (up to 8 per core). The
//! head's long-lived series and chunks then end up spread over many arenas, interleaved with
//! the short-lived buffers of remote-write requests and queries, and freed space in one
//! arena cannot serve another: at 100k series RSS grew ~30 MiB above the live heap during
//! ingest and ~440 MiB during the benchmark's queries (809 MiB peak). Two arenas remove most
//! of that. Measured on 2 cores (bench harness, 100k series × 1 h, quiet machine, runs of
//! 2, 4 and 8 arenas): peak RSS after ingest 259.7-259.8, 259.0-261.2 and 271.4 MiB,
//! including the queries 430, 539-617 and 650 MiB; ingest CPU varied from 4.2 to 7.7 s per
//! million samples between runs of the same setting, with no consistent arena effect. An `MALLOC_ARENA_MAX` set in the
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
