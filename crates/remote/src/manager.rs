//! The set of queues, one per `remote_write` entry, kept in step with the configuration.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use prometheus::Registry;
use tracing::info;

use crate::client::Client;
use crate::config::RemoteWriteConfig;
use crate::error::RemoteError;
use crate::metadata::{MetadataSource, SourceSlot};
use crate::metrics::Families;
use crate::queue::{Queue, QueueStatus};

/// Timings of the manager's queues; the defaults suit production.
#[derive(Debug, Clone)]
pub struct ManagerOptions {
    /// How long a stopping queue may keep sending what it holds (Prometheus'
    /// `flushDeadline`, 1m).
    pub flush_deadline: Duration,
    /// How often the acknowledged position is saved (1s): after a crash at most this much
    /// acknowledged data is sent again.
    pub position_sync_interval: Duration,
    /// How often the shard count is re-evaluated (10s, as Prometheus).
    pub shard_update_interval: Duration,
    /// How often the watcher looks for new WAL data once it has read everything (100ms).
    pub wal_poll_interval: Duration,
}

impl Default for ManagerOptions {
    fn default() -> Self {
        ManagerOptions {
            flush_deadline: Duration::from_secs(60),
            position_sync_interval: Duration::from_secs(1),
            shard_update_interval: Duration::from_secs(10),
            wal_poll_interval: Duration::from_millis(100),
        }
    }
}

/// Runs the remote-write queues of a server.
///
/// ```text
/// let rw = RemoteWriteManager::new(data_dir, &registry)?;   // <data>/wal, <data>/remote_write/
/// rw.apply_config(&argus_remote::parse(cfg.remote_write.as_ref())?,
///                 &cfg.global.external_labels).await?;     // at start and on every reload
/// ...
/// rw.shutdown().await;                                     // before the TSDB is closed
/// ```
pub struct RemoteWriteManager {
    wal_dir: PathBuf,
    state_dir: PathBuf,
    families: Families,
    opts: ManagerOptions,
    metadata: SourceSlot,
    queues: tokio::sync::Mutex<State>,
}

struct State {
    queues: HashMap<u64, Queue>,
    closed: bool,
}

impl RemoteWriteManager {
    /// A manager for the TSDB in `data_dir`: it reads `<data_dir>/wal` and keeps one position
    /// file per queue in `<data_dir>/remote_write/`. Metrics go to `registry`.
    pub fn new(data_dir: impl AsRef<Path>, registry: &Registry) -> Result<Self, RemoteError> {
        let d = data_dir.as_ref();
        Self::with_options(
            d.join("wal"),
            d.join("remote_write"),
            registry,
            ManagerOptions::default(),
        )
    }

    /// A manager with explicit directories and timings.
    pub fn with_options(
        wal_dir: impl Into<PathBuf>,
        state_dir: impl Into<PathBuf>,
        registry: &Registry,
        opts: ManagerOptions,
    ) -> Result<Self, RemoteError> {
        let state_dir = state_dir.into();
        std::fs::create_dir_all(&state_dir)
            .map_err(|e| RemoteError::io("create dir", &state_dir, e))?;
        Ok(RemoteWriteManager {
            wal_dir: wal_dir.into(),
            state_dir,
            families: Families::register(registry)?,
            opts,
            metadata: SourceSlot::default(),
            queues: tokio::sync::Mutex::new(State {
                queues: HashMap::new(),
                closed: false,
            }),
        })
    }

    /// Where metric metadata comes from (normally the scrape manager); queues with
    /// `metadata_config.send` send it every `send_interval`. Until it is set, none is sent.
    pub fn set_metadata_source(&self, source: std::sync::Arc<dyn MetadataSource>) {
        *self.metadata.write() = Some(source);
    }

    /// Where the position files are.
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// Makes the running queues match `configs`: unchanged queues keep running, changed
    /// ones are restarted (resuming from their saved position), removed ones are stopped
    /// after flushing, new ones start at the current end of the WAL. Must be called from a
    /// tokio runtime. Nothing changes when an entry is invalid.
    pub async fn apply_config(
        &self,
        configs: &[RemoteWriteConfig],
        external_labels: &BTreeMap<String, String>,
    ) -> Result<(), RemoteError> {
        let mut st = self.queues.lock().await;
        if st.closed {
            return Err(RemoteError::Shutdown);
        }
        // Check every entry before touching a running queue.
        for c in configs {
            Client::new(c).map_err(|message| RemoteError::Client {
                remote_name: c.remote_name(),
                message,
            })?;
        }
        let wanted: HashMap<u64, &RemoteWriteConfig> =
            configs.iter().map(|c| (c.destination_key(), c)).collect();
        let stale: Vec<u64> = st
            .queues
            .iter()
            .filter(|(k, q)| {
                wanted
                    .get(*k)
                    .is_none_or(|c| c.config_hash(external_labels) != q.hash)
            })
            .map(|(k, _)| *k)
            .collect();
        let stopping: Vec<Queue> = stale.iter().filter_map(|k| st.queues.remove(k)).collect();
        let stops = stopping
            .into_iter()
            .map(|q| q.stop(self.opts.flush_deadline));
        for s in stops {
            s.await;
        }
        let mut started = 0;
        for c in configs {
            let key = c.destination_key();
            if st.queues.contains_key(&key) {
                continue;
            }
            let q = Queue::start(
                c,
                external_labels,
                &self.wal_dir,
                &self.state_dir,
                &self.families,
                &self.opts,
                &self.metadata,
            )?;
            st.queues.insert(key, q);
            started += 1;
        }
        info!(
            queues = st.queues.len(),
            started,
            stopped = stale.len(),
            "Remote write configuration applied."
        );
        Ok(())
    }

    /// The running queues.
    pub async fn status(&self) -> Vec<QueueStatus> {
        let st = self.queues.lock().await;
        let mut out: Vec<QueueStatus> = st.queues.values().map(Queue::status).collect();
        out.sort_by(|a, b| (&a.remote_name, &a.url).cmp(&(&b.remote_name, &b.url)));
        out
    }

    /// Stops every queue (flushing for at most the flush deadline) and saves positions.
    /// Later `apply_config` calls fail.
    pub async fn shutdown(&self) {
        let mut st = self.queues.lock().await;
        st.closed = true;
        let queues: Vec<Queue> = st.queues.drain().map(|(_, q)| q).collect();
        for q in queues {
            q.stop(self.opts.flush_deadline).await;
        }
    }
}
