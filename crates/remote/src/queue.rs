//! One running queue: its WAL watcher thread, shards, resharding loop and position saver,
//! started and stopped together.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use argus_tsdb::wal::segment::list_segments;
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

use crate::ack::AckTracker;
use crate::client::Client;
use crate::config::RemoteWriteConfig;
use crate::error::RemoteError;
use crate::manager::ManagerOptions;
use crate::metadata::{metadata_loop, SourceSlot};
use crate::metrics::Families;
use crate::position::{Loaded, Position, PositionFile};
use crate::series_rules::SeriesRules;
use crate::shards::{reshard_loop, Shared};
use crate::watcher::Watcher;

/// What a queue reports about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStatus {
    /// `remote_name`.
    pub remote_name: String,
    /// Endpoint.
    pub url: String,
    /// Everything before this WAL position is acknowledged (what the position file holds
    /// after the next save).
    pub acked: Option<Position>,
    /// Shards running.
    pub shards: usize,
    /// WAL records whose samples are still in flight.
    pub outstanding_records: usize,
    /// The position file.
    pub position_file: std::path::PathBuf,
}

pub(crate) struct Queue {
    pub hash: u64,
    sh: Arc<Shared>,
    file: PositionFile,
    watcher: Option<std::thread::JoinHandle<()>>,
    reshard: Option<JoinHandle<()>>,
    saver: Option<JoinHandle<()>>,
    metadata: Option<JoinHandle<()>>,
}

/// The end of the WAL now: where a new queue starts.
fn wal_end(wal_dir: &Path) -> Result<Position, RemoteError> {
    let segs = list_segments(wal_dir)?;
    let Some((n, path)) = segs.last() else {
        return Ok(Position::default());
    };
    let size = std::fs::metadata(path)
        .map_err(|e| RemoteError::io("stat", path, e))?
        .len();
    Ok(Position {
        segment: *n,
        offset: size,
    })
}

impl Queue {
    /// Starts the queue of `cfg` (inside a tokio runtime).
    pub(crate) fn start(
        cfg: &RemoteWriteConfig,
        external_labels: &BTreeMap<String, String>,
        wal_dir: &Path,
        state_dir: &Path,
        families: &Families,
        opts: &ManagerOptions,
        source: &SourceSlot,
    ) -> Result<Queue, RemoteError> {
        let remote_name = cfg.remote_name();
        let client = Client::new(cfg).map_err(|message| RemoteError::Client {
            remote_name: remote_name.clone(),
            message,
        })?;
        let file = PositionFile::new(state_dir, cfg.destination_key(), &cfg.url, &cfg.name);
        let start = match file.load()? {
            Loaded::At(p) => {
                info!(remote_name = %remote_name, url = %cfg.url, position = %p, file = %file.path().display(), "Remote write queue resumes from its saved WAL position.");
                p
            }
            Loaded::Missing => {
                let p = wal_end(wal_dir)?;
                info!(remote_name = %remote_name, url = %cfg.url, position = %p, "New remote write queue sends data written from now on.");
                // Saved at once, so a crash before the first acknowledgement does not
                // turn into "new queue" again and skip what was written meanwhile.
                file.store(p)?;
                p
            }
            Loaded::Damaged(why) => {
                warn!(remote_name = %remote_name, file = %file.path().display(), reason = %why, "Remote write position file is damaged; resending the whole WAL.");
                Position::default()
            }
        };
        let cfg = Arc::new(cfg.clone());
        let metrics = families.queue(&remote_name, &cfg.url);
        let sh = Shared::new(cfg.clone(), metrics, AckTracker::new(Some(start)), client);
        sh.start_shards(cfg.queue_config.min_shards);
        let rules = SeriesRules {
            external: external_labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            relabel: cfg.write_relabel_configs.clone(),
        };
        let watcher = Watcher::new(wal_dir, sh.clone(), rules, start, opts.wal_poll_interval);
        let watcher = std::thread::Builder::new()
            .name(format!("rw-watch-{remote_name}"))
            .spawn(move || watcher.run())
            .map_err(|e| RemoteError::io("spawn watcher thread for", wal_dir, e))?;
        let reshard = tokio::spawn(reshard_loop(sh.clone(), opts.shard_update_interval));
        let saver = tokio::spawn(save_loop(
            sh.clone(),
            file.clone(),
            opts.position_sync_interval,
        ));
        let metadata = cfg
            .metadata_config
            .send
            .then(|| tokio::spawn(metadata_loop(sh.clone(), source.clone())));
        Ok(Queue {
            metadata,
            hash: cfg.config_hash(external_labels),
            sh,
            file,
            watcher: Some(watcher),
            reshard: Some(reshard),
            saver: Some(saver),
        })
    }

    pub(crate) fn status(&self) -> QueueStatus {
        QueueStatus {
            remote_name: self.sh.remote_name.clone(),
            url: self.sh.cfg.url.clone(),
            acked: self.sh.tracker.acked(),
            shards: self.sh.shards(),
            outstanding_records: self.sh.tracker.outstanding(),
            position_file: self.file.path().to_path_buf(),
        }
    }

    /// Stops reading, gives the shards up to `flush_deadline` to send what they hold, then
    /// cancels the rest (it is resent after a restart) and saves the position.
    pub(crate) async fn stop(mut self, flush_deadline: Duration) {
        let sh = self.sh.clone();
        sh.stopping.cancel();
        if let Some(w) = self.watcher.take() {
            let _ = tokio::task::spawn_blocking(move || w.join()).await;
        }
        let reshard = self.reshard.take();
        let flush = async {
            if let Some(r) = reshard {
                let _ = r.await;
            }
            sh.stop_shards().await;
        };
        tokio::pin!(flush);
        if tokio::time::timeout(flush_deadline, &mut flush)
            .await
            .is_err()
        {
            warn!(
                remote_name = %sh.remote_name,
                url = %sh.cfg.url,
                deadline = ?flush_deadline,
                "Remote write queue did not flush in time; unsent samples are sent after the next start."
            );
            sh.cancel.cancel();
            flush.await;
        }
        if let Some(m) = self.metadata.take() {
            let _ = m.await;
        }
        if let Some(s) = self.saver.take() {
            let _ = s.await;
        }
        save(&sh, &self.file, &mut None);
        sh.metrics.remove();
        info!(remote_name = %sh.remote_name, url = %sh.cfg.url, acked = %sh.tracker.acked().unwrap_or_default(), "Remote write queue stopped.");
    }
}

fn save(sh: &Shared, file: &PositionFile, last: &mut Option<Position>) {
    let Some(p) = sh.tracker.acked() else { return };
    if *last == Some(p) {
        return;
    }
    match file.store(p) {
        Ok(()) => *last = Some(p),
        Err(e) => error!(
            remote_name = %sh.remote_name,
            error = %e,
            "Saving the remote write position failed; after a crash more data is resent."
        ),
    }
}

async fn save_loop(sh: Arc<Shared>, file: PositionFile, every: Duration) {
    let mut last = sh.tracker.acked();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = sh.stopping.cancelled() => return,
        }
        let sh2 = sh.clone();
        let file2 = file.clone();
        let mut l = last;
        // fsync is blocking.
        last = tokio::task::spawn_blocking(move || {
            save(&sh2, &file2, &mut l);
            l
        })
        .await
        .unwrap_or(last);
    }
}
