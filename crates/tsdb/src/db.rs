//! The database: a directory of blocks plus the head, its WAL, and a background loop for
//! compaction, retention and WAL fsync.
//!
//! ```text
//! <dir>/lock                      exclusive flock while open
//! <dir>/wal/00000000 ...          WAL segments (+ checkpoint.N/)
//! <dir>/<ULID>/meta.json|index|chunks/000001|tombstones    one directory per block
//! ```

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use argus_model::{
    AppendError, Appendable, Appender, Labels, Querier, Queryable, SeriesRef, StorageError,
};
use parking_lot::{Condvar, Mutex, RwLock};
use prometheus::Registry;
use tracing::{error, info, warn};

use crate::block::Block;
use crate::error::{Result, TsdbError};
use crate::fs::dir_lock::DirLock;
use crate::head::appender::HeadAppender;
use crate::head::replay::{replay_from, ReplayStats};
use crate::head::snapshot;
use crate::head::{Head, HeadOptions};
use crate::metrics::Metrics;
use crate::options::{FsyncPolicy, Options};
use crate::querier::DbQuerier;
use crate::wal::checkpoint::remove_tmp_checkpoints;
use crate::wal::writer::WalWriter;

/// Handle to an open database. Cheap to clone; all clones share one database.
#[derive(Clone)]
pub struct Db {
    pub(crate) inner: Arc<DbInner>,
}

/// The blocks currently part of the database, swapped atomically by compaction.
pub(crate) struct DbState {
    /// Blocks sorted by min time (then ULID).
    pub blocks: Vec<Arc<Block>>,
    /// Held by every querier created against this state; compaction waits until the
    /// previous generation is released before dropping head data that moved to a block.
    pub generation: Arc<()>,
}

pub(crate) struct DbInner {
    pub dir: PathBuf,
    pub opts: Options,
    pub head: Arc<Head>,
    pub state: RwLock<DbState>,
    pub metrics: Metrics,
    /// Serializes compaction, retention, deletes and snapshots.
    pub maintenance: Mutex<()>,
    pub read_only: bool,
    lock: Mutex<Option<DirLock>>,
    closed: AtomicBool,
    stop: Arc<(Mutex<bool>, Condvar)>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    pub replay: ReplayStats,
}

impl Db {
    /// Opens (creating if needed) the database in `dir`: locks it, loads and verifies every
    /// block, replays the WAL, and starts the background loop. Returns when the database is
    /// ready for appends and queries.
    pub fn open(dir: impl AsRef<Path>, opts: Options, registry: &Registry) -> Result<Db> {
        Self::open_inner(dir.as_ref(), opts, Metrics::new(registry), false)
    }

    /// Opens a database for reading only (tools such as `argus tsdb dump`): no lock, no
    /// WAL writes or repairs, no background work. The WAL is replayed into memory.
    pub fn open_read_only(dir: impl AsRef<Path>) -> Result<Db> {
        let opts = Options {
            auto_compaction: false,
            out_of_order_window_ms: i64::MAX / 4,
            ..Options::default()
        };
        Self::open_inner(dir.as_ref(), opts, Metrics::unregistered(), true)
    }

    fn open_inner(dir: &Path, opts: Options, metrics: Metrics, read_only: bool) -> Result<Db> {
        opts.validate()?;
        if read_only {
            if !dir.is_dir() {
                return Err(TsdbError::InvalidArgument(format!(
                    "{} is not a directory",
                    dir.display()
                )));
            }
        } else {
            std::fs::create_dir_all(dir).map_err(|e| TsdbError::io("create dir", dir, e))?;
        }
        let lock = if read_only {
            None
        } else {
            Some(DirLock::acquire(dir)?)
        };
        if !read_only {
            remove_tmp_dirs(dir);
        }
        let blocks = load_blocks(dir)?;
        let head_opts = HeadOptions {
            chunk_range: opts.min_block_ms,
            samples_per_chunk: opts.samples_per_chunk,
            ooo_window: opts.out_of_order_window_ms,
        };
        let head = Arc::new(Head::new(head_opts, metrics.clone(), None));
        if let Some(max) = blocks.iter().map(|b| b.meta().max_time).max() {
            head.set_min_valid_time(max);
        }
        let wal_dir = dir.join("wal");
        if !read_only {
            remove_tmp_checkpoints(&wal_dir);
        }
        let snap = if opts.head_snapshot {
            snapshot::load(&head, dir, !read_only)
        } else {
            None
        };
        let mut stats = replay_from(
            &head,
            &wal_dir,
            !read_only,
            snap.map(|(p, _)| p.wal_segment),
        )?;
        stats.snapshot = snap.map(|(_, s)| s);
        if !read_only {
            let w = WalWriter::open(
                &wal_dir,
                stats.next_segment,
                opts.wal_segment_bytes,
                opts.fsync,
                metrics.wal.clone(),
            )?;
            head.commit.lock().wal = Some(w);
        }
        // Series replayed without samples (all were persisted or deleted) are dropped now.
        crate::head::truncate::gc(&head);
        metrics
            .retention_limit_bytes
            .set(i64::try_from(opts.retention_bytes).unwrap_or(i64::MAX));
        let inner = Arc::new(DbInner {
            dir: dir.to_path_buf(),
            opts,
            head,
            state: RwLock::new(DbState {
                blocks,
                generation: Arc::new(()),
            }),
            metrics,
            maintenance: Mutex::new(()),
            read_only,
            lock: Mutex::new(lock),
            closed: AtomicBool::new(false),
            stop: Arc::new((Mutex::new(false), Condvar::new())),
            threads: Mutex::new(Vec::new()),
            replay: stats,
        });
        inner.update_block_metrics();
        let db = Db { inner };
        if !read_only {
            db.start_background();
        }
        info!(
            dir = %dir.display(),
            blocks = db.inner.state.read().blocks.len(),
            head_series = db.inner.head.num_series(),
            "TSDB started."
        );
        Ok(db)
    }

    fn start_background(&self) {
        let mut threads = self.inner.threads.lock();
        // Threads hold a weak handle, so dropping every `Db` without `close` still frees it.
        if self.inner.opts.auto_compaction {
            let weak = Arc::downgrade(&self.inner);
            let stop = self.inner.stop.clone();
            let every = self.inner.opts.compaction_interval;
            if let Ok(h) = std::thread::Builder::new()
                .name("tsdb-compact".into())
                .spawn(move || {
                    while !wait_stop(&stop, every) {
                        let Some(inner) = weak.upgrade() else { break };
                        if let Err(e) = crate::compact::run_cycle(&inner) {
                            error!(error = %e, "Compaction cycle failed.");
                        }
                    }
                })
            {
                threads.push(h);
            }
        }
        if let FsyncPolicy::Interval(every) = self.inner.opts.fsync {
            let weak = Arc::downgrade(&self.inner);
            let stop = self.inner.stop.clone();
            if let Ok(h) = std::thread::Builder::new()
                .name("tsdb-wal-fsync".into())
                .spawn(move || {
                    while !wait_stop(&stop, every) {
                        let Some(inner) = weak.upgrade() else { break };
                        inner.background_fsync();
                    }
                })
            {
                threads.push(h);
            }
        }
    }

    /// Stops background work, fsyncs the WAL and releases the directory lock. Appends fail
    /// afterwards; queriers already open keep working. Idempotent.
    pub fn close(&self) -> Result<()> {
        if self.inner.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        {
            let (m, cv) = &*self.inner.stop;
            *m.lock() = true;
            cv.notify_all();
        }
        for h in self.inner.threads.lock().drain(..) {
            let _ = h.join();
        }
        self.inner.head.closed.store(true, Ordering::Release);
        let res = match self.inner.head.commit.lock().wal.as_mut() {
            Some(w) => w.sync(),
            None => Ok(()),
        };
        if res.is_ok() && !self.inner.read_only && self.inner.opts.head_snapshot {
            // An admin-triggered compaction may still be running; it changes the head.
            let _m = self.inner.maintenance.lock();
            // A failed snapshot costs only start-up time: the WAL has everything.
            if let Err(e) = snapshot::write(&self.inner.head, &self.inner.dir) {
                warn!(error = %e, "Writing the head snapshot failed; the next start replays the WAL.");
            }
        }
        self.inner.lock.lock().take();
        info!(dir = %self.inner.dir.display(), "TSDB closed.");
        res
    }

    /// True after [`close`](Self::close).
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Acquire)
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The WAL directory (`<dir>/wal`), for readers that follow the log, such as the
    /// remote-write sender.
    pub fn wal_dir(&self) -> PathBuf {
        self.inner.dir.join("wal")
    }

    /// The options the database was opened with.
    pub fn options(&self) -> &Options {
        &self.inner.opts
    }

    /// The head (statistics, tests).
    pub fn head(&self) -> &Arc<Head> {
        &self.inner.head
    }

    /// The current blocks, oldest first.
    pub fn blocks(&self) -> Vec<Arc<Block>> {
        self.inner.state.read().blocks.clone()
    }

    /// What WAL replay found at open.
    pub fn replay_stats(&self) -> &ReplayStats {
        &self.inner.replay
    }

    /// Runs one compaction cycle now (head persistence, block merges, retention), as the
    /// background loop does every `compaction_interval`.
    pub fn compact(&self) -> Result<()> {
        if self.inner.read_only {
            return Err(TsdbError::InvalidArgument("database is read-only".into()));
        }
        crate::compact::run_cycle(&self.inner)
    }

    /// Persists everything in the head to blocks now, regardless of the usual 1.5× range
    /// delay (tests and tools; Prometheus' `CompactHead`).
    pub fn flush_head(&self) -> Result<()> {
        if self.inner.read_only {
            return Err(TsdbError::InvalidArgument("database is read-only".into()));
        }
        crate::compact::flush_all(&self.inner)
    }

    /// Creates an appender that owns a handle to the database (for callers that need a
    /// `'static` appender, such as async tasks).
    pub fn owned_appender(&self) -> Box<dyn Appender> {
        if self.is_closed() || self.inner.read_only {
            return Box::new(ClosedAppender);
        }
        Box::new(HeadAppender::new(self.inner.head.clone()))
    }

    /// Total bytes of blocks + WAL.
    pub fn size_bytes(&self) -> u64 {
        self.inner.blocks_size() + crate::fs::atomic_write::dir_size(&self.inner.dir.join("wal"))
    }
}

impl DbInner {
    fn background_fsync(&self) {
        let handle = self
            .head
            .commit
            .lock()
            .wal
            .as_mut()
            .and_then(|w| w.take_dirty_handle());
        let Some(f) = handle else { return };
        let start = std::time::Instant::now();
        if let Err(e) = f.sync_data() {
            error!(error = %e, "Background WAL fsync failed.");
            return;
        }
        self.metrics
            .wal
            .fsync_duration
            .observe(start.elapsed().as_secs_f64());
    }

    pub(crate) fn blocks_size(&self) -> u64 {
        self.state.read().blocks.iter().map(|b| b.size()).sum()
    }

    pub(crate) fn update_block_metrics(&self) {
        let st = self.state.read();
        self.metrics.blocks_loaded.set(st.blocks.len() as i64);
        let size: u64 = st.blocks.iter().map(|b| b.size()).sum();
        self.metrics
            .blocks_bytes
            .set(i64::try_from(size).unwrap_or(i64::MAX));
        let lowest = st
            .blocks
            .first()
            .map(|b| b.meta().min_time)
            .unwrap_or_else(|| self.head.min_time());
        self.metrics.lowest_timestamp.set(lowest);
        self.metrics.wal.storage_size.set(
            i64::try_from(crate::fs::atomic_write::dir_size(&self.dir.join("wal")))
                .unwrap_or(i64::MAX),
        );
    }

    /// Replaces `remove` blocks by `add` blocks. Removed blocks are deleted once the last
    /// holder drops them. With `wait`, returns only when no querier opened before the swap is
    /// left (needed before head data that moved into `add` is dropped from memory).
    pub(crate) fn swap_blocks(&self, remove: &[String], add: Vec<Arc<Block>>, wait: bool) {
        let old_gen = {
            let mut st = self.state.write();
            let mut blocks: Vec<Arc<Block>> = st
                .blocks
                .iter()
                .filter(|b| {
                    let gone = remove.contains(&b.meta().ulid);
                    if gone {
                        b.mark_for_deletion();
                    }
                    !gone
                })
                .cloned()
                .collect();
            blocks.extend(add);
            blocks.sort_by(|a, b| {
                (a.meta().min_time, &a.meta().ulid).cmp(&(b.meta().min_time, &b.meta().ulid))
            });
            st.blocks = blocks;
            std::mem::replace(&mut st.generation, Arc::new(()))
        };
        self.metrics.reloads.inc();
        self.update_block_metrics();
        if wait {
            self.wait_readers(old_gen);
        }
    }

    fn wait_readers(&self, gen: Arc<()>) {
        let mut waited = Duration::ZERO;
        let step = Duration::from_millis(20);
        while Arc::strong_count(&gen) > 1 {
            std::thread::sleep(step);
            waited += step;
            if waited.as_millis() % 60_000 == 0 {
                warn!(
                    readers = Arc::strong_count(&gen) - 1,
                    waited = ?waited,
                    "Waiting for queriers opened before a compaction to finish."
                );
            }
        }
    }
}

/// Waits up to `d`; true when the database is stopping.
fn wait_stop(stop: &(Mutex<bool>, Condvar), d: Duration) -> bool {
    let (m, cv) = stop;
    let mut stopped = m.lock();
    if *stopped {
        return true;
    }
    cv.wait_for(&mut stopped, d);
    *stopped
}

/// Deletes leftovers of interrupted block writes and deletions (`*.tmp-for-*`).
fn remove_tmp_dirs(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(".tmp-for-creation") || name.ends_with(".tmp-for-deletion") {
            info!(dir = %e.path().display(), "Removing leftover temporary block directory.");
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Opens every block directory (named by ULID) under `dir`. A damaged block fails the open
/// with an error naming it: reading it as garbage is never an option, and silently ignoring
/// it would hide data loss.
fn load_blocks(dir: &Path) -> Result<Vec<Arc<Block>>> {
    let rd = std::fs::read_dir(dir).map_err(|e| TsdbError::io("read dir", dir, e))?;
    let mut blocks = Vec::new();
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !crate::ulid::is_ulid(&name) || !e.path().is_dir() {
            continue;
        }
        let b = Block::open(&e.path()).map_err(|err| {
            error!(block = %name, error = %err, "Block is damaged; move or delete it to start.");
            err
        })?;
        blocks.push(Arc::new(b));
    }
    blocks.sort_by(|a, b| {
        (a.meta().min_time, &a.meta().ulid).cmp(&(b.meta().min_time, &b.meta().ulid))
    });
    Ok(blocks)
}

/// The appender handed out after `close`.
struct ClosedAppender;

impl Appender for ClosedAppender {
    fn append(
        &mut self,
        _r: Option<SeriesRef>,
        _l: &Labels,
        _t: i64,
        _v: f64,
    ) -> std::result::Result<SeriesRef, AppendError> {
        Err(AppendError::Storage(StorageError::Closed))
    }
    fn commit(self: Box<Self>) -> std::result::Result<(), StorageError> {
        Err(StorageError::Closed)
    }
    fn rollback(self: Box<Self>) -> std::result::Result<(), StorageError> {
        Ok(())
    }
}

impl Appendable for Db {
    fn appender(&self) -> Box<dyn Appender + '_> {
        self.owned_appender()
    }
}

impl Queryable for Db {
    fn querier(&self, mint: i64, maxt: i64) -> std::result::Result<Box<dyn Querier>, StorageError> {
        // An inverted range is an empty one, as in Prometheus' TSDB (no block or head overlaps
        // it): `/api/v1/series?start=<after end>` answers an empty list, not an error.
        Ok(Box::new(DbQuerier::new(&self.inner, mint, maxt)))
    }
}

impl Drop for DbInner {
    fn drop(&mut self) {
        let (m, cv) = &*self.stop;
        *m.lock() = true;
        cv.notify_all();
        // Last handle gone without close(): flush what the fsync policy promised.
        if let Some(w) = self.head.commit.lock().wal.as_mut() {
            let _ = w.sync();
        }
    }
}
