//! Reloading the rules file when it changes on disk (ConfigMap updates arrive as file
//! swaps) in addition to the SIGHUP reload the server triggers via
//! [`AdapterState::reload`]. A refused file keeps the previous configuration.

use std::time::{Duration, SystemTime};

use crate::state::AdapterState;

fn stamp(p: &std::path::Path) -> Option<(SystemTime, u64)> {
    // Follow symlinks: Kubernetes swaps the `..data` link of a ConfigMap volume.
    let m = std::fs::metadata(p).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// Polls the configured rules file every `every` and reloads it when its modification
/// time or size changes. Returns `None` when no file is configured.
pub fn spawn_file_watcher(
    state: &AdapterState,
    every: Duration,
) -> Option<tokio::task::JoinHandle<()>> {
    let path = state.config_file()?.to_path_buf();
    let state = state.clone();
    Some(tokio::spawn(async move {
        let mut last = stamp(&path);
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = stamp(&path);
            if now.is_some() && now != last {
                last = now;
                // Errors are logged and counted by reload(); the old config stays.
                let _ = state.reload();
            }
        }
    }))
}
