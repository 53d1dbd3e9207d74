//! The sending half of a queue: shards, batching, retries, and resharding.
//!
//! Each shard is a task with a bounded channel of `capacity` samples. A series always
//! hashes to the same shard, and a shard sends one batch at a time and retries it until it
//! succeeds or is dropped, so samples of one series reach the receiver in WAL order. A
//! stalled receiver fills the channels, and the WAL watcher, which only ever `try_send`s,
//! waits: memory stays bounded by `shards × capacity` samples plus one batch per shard.
//!
//! Resharding stops every shard (each sends what it holds), then starts the new set; the
//! watcher waits in between. Ordering per series is thereby kept across a reshard.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use argus_model::now_ms;
use parking_lot::RwLock;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::ack::{runs, AckTracker};
use crate::client::{Backoff, Client, Outcome};
use crate::config::RemoteWriteConfig;
use crate::encode::{BatchEncoder, QueuedSample};
use crate::metrics::{DropReason, QueueMetrics};
use crate::scaling::{desired, next_shards, Ewma, Rates};

/// Counters the resharding decision reads.
#[derive(Default)]
pub(crate) struct Stats {
    pub enqueued: AtomicU64,
    pub completed: AtomicU64,
    pub send_nanos: AtomicU64,
    pub retrying: AtomicUsize,
    pub last_success_ms: AtomicI64,
    pub highest_read_ms: AtomicI64,
    pub highest_sent_ms: AtomicI64,
    /// The watcher has unread WAL data.
    pub behind: AtomicBool,
}

struct ShardSet {
    txs: Vec<mpsc::Sender<QueuedSample>>,
    handles: Vec<JoinHandle<()>>,
}

/// What a queue's parts share.
pub(crate) struct Shared {
    pub cfg: Arc<RemoteWriteConfig>,
    pub remote_name: String,
    pub metrics: QueueMetrics,
    pub tracker: AckTracker,
    pub stats: Stats,
    client: Client,
    slot: RwLock<Option<ShardSet>>,
    num_shards: AtomicUsize,
    /// Ends retries and sends at once (shutdown after the flush deadline).
    pub cancel: CancellationToken,
    /// Asks the watcher and the background loops to stop.
    pub stopping: CancellationToken,
}

impl Shared {
    pub(crate) fn new(
        cfg: Arc<RemoteWriteConfig>,
        metrics: QueueMetrics,
        tracker: AckTracker,
        client: Client,
    ) -> Arc<Self> {
        let q = &cfg.queue_config;
        metrics.shards_min.set(q.min_shards as i64);
        metrics.shards_max.set(q.max_shards as i64);
        metrics.shard_capacity.set(q.capacity as i64);
        metrics
            .max_samples_per_send
            .set(q.max_samples_per_send as i64);
        Arc::new(Shared {
            remote_name: cfg.remote_name(),
            cfg,
            metrics,
            tracker,
            stats: Stats::default(),
            client,
            slot: RwLock::new(None),
            num_shards: AtomicUsize::new(0),
            cancel: CancellationToken::new(),
            stopping: CancellationToken::new(),
        })
    }

    /// The HTTP client.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// Current shard count.
    pub(crate) fn shards(&self) -> usize {
        self.num_shards.load(Ordering::Relaxed)
    }

    /// Hands `s` to its shard without waiting; gives it back when the shard is full or the
    /// queue is resharding.
    pub(crate) fn try_enqueue(&self, s: QueuedSample) -> Result<(), QueuedSample> {
        let g = self.slot.read();
        let Some(set) = g.as_ref() else {
            return Err(s);
        };
        let n = set.txs.len().max(1) as u64;
        let Some(tx) = usize::try_from(s.series.hash % n)
            .ok()
            .and_then(|i| set.txs.get(i))
        else {
            return Err(s);
        };
        tx.try_send(s).map_err(|e| e.into_inner())
    }

    /// Counts `n` samples as pending before they are handed to the shards, so a fast
    /// acknowledgement never drives the gauge below zero. Per record rather than per
    /// sample: two atomic updates less on the hottest path.
    pub(crate) fn count_enqueued(&self, n: u64) {
        self.stats.enqueued.fetch_add(n, Ordering::Relaxed);
        self.metrics.pending.add(n as i64);
    }

    /// Takes back `n` counted samples the queue stopped before enqueuing.
    pub(crate) fn uncount_enqueued(&self, n: u64) {
        self.stats.enqueued.fetch_sub(n, Ordering::Relaxed);
        self.metrics.pending.sub(n as i64);
    }

    /// Starts `n` shards (none may be running).
    pub(crate) fn start_shards(self: &Arc<Self>, n: usize) {
        let cap = self.cfg.queue_config.capacity.max(1);
        let mut txs = Vec::with_capacity(n);
        let mut handles = Vec::with_capacity(n);
        for _ in 0..n {
            let (tx, rx) = mpsc::channel(cap);
            txs.push(tx);
            handles.push(tokio::spawn(run_shard(self.clone(), rx)));
        }
        self.num_shards.store(n, Ordering::Relaxed);
        self.metrics.shards.set(n as i64);
        *self.slot.write() = Some(ShardSet { txs, handles });
    }

    /// Stops the shards after they have sent what they hold (or `cancel` fired).
    pub(crate) async fn stop_shards(&self) {
        let set = self.slot.write().take();
        let Some(ShardSet { txs, handles }) = set else {
            return;
        };
        drop(txs);
        for h in handles {
            let _ = h.await;
        }
    }

    fn finish(&self, batch: &[QueuedSample], scratch: &mut Vec<(u64, u64)>) {
        runs(batch.iter().map(|s| s.seq), scratch);
        self.tracker.ack(scratch);
        self.stats
            .completed
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        self.metrics.pending.sub(batch.len() as i64);
    }

    /// Drops samples older than `sample_age_limit` from `batch` (acknowledging them).
    fn drop_too_old(&self, batch: &mut Vec<QueuedSample>, scratch: &mut Vec<(u64, u64)>) {
        let limit = self.cfg.queue_config.sample_age_limit.0;
        if limit <= 0 {
            return;
        }
        let min_t = now_ms().saturating_sub(limit);
        let (old, keep): (Vec<_>, Vec<_>) = batch.drain(..).partition(|s| s.t < min_t);
        *batch = keep;
        if !old.is_empty() {
            self.metrics
                .dropped(DropReason::TooOld)
                .inc_by(old.len() as u64);
            self.finish(&old, scratch);
        }
    }

    /// Sends `batch` until it is accepted, dropped, or the queue is cancelled; empties it.
    async fn send_batch(
        &self,
        enc: &mut BatchEncoder,
        batch: &mut Vec<QueuedSample>,
        scratch: &mut Vec<(u64, u64)>,
    ) {
        let q = &self.cfg.queue_config;
        let mut backoff = Backoff::new(q.min_backoff.to_std(), q.max_backoff.to_std());
        let mut retrying = false;
        loop {
            self.drop_too_old(batch, scratch);
            if batch.is_empty() {
                break;
            }
            let (body, _) = enc.encode(batch);
            let len = body.len() as u64;
            let start = Instant::now();
            let outcome = tokio::select! {
                o = self.client.send(body) => o,
                _ = self.cancel.cancelled() => break,
            };
            let took = start.elapsed();
            self.metrics.batch_duration.observe(took.as_secs_f64());
            self.stats.send_nanos.fetch_add(
                u64::try_from(took.as_nanos()).unwrap_or(u64::MAX),
                Ordering::Relaxed,
            );
            let n = batch.len() as u64;
            match outcome {
                Outcome::Sent => {
                    self.metrics.samples.inc_by(n);
                    self.metrics.bytes.inc_by(len);
                    let max_t = batch.iter().map(|s| s.t).max().unwrap_or(0);
                    let prev = self
                        .stats
                        .highest_sent_ms
                        .fetch_max(max_t, Ordering::Relaxed);
                    self.metrics
                        .highest_sent_ts
                        .set(prev.max(max_t) as f64 / 1000.0);
                    self.stats
                        .last_success_ms
                        .store(now_ms(), Ordering::Relaxed);
                    self.finish(batch, scratch);
                    break;
                }
                Outcome::Drop { reason } => {
                    self.metrics.failed.inc_by(n);
                    warn!(
                        remote_name = %self.remote_name,
                        url = %self.cfg.url,
                        samples = n,
                        error = %reason,
                        "Non-recoverable error sending a batch; it is dropped."
                    );
                    self.finish(batch, scratch);
                    break;
                }
                Outcome::Retry { after, reason } => {
                    self.metrics.retried.inc_by(n);
                    if !retrying {
                        retrying = true;
                        self.stats.retrying.fetch_add(1, Ordering::Relaxed);
                    }
                    let delay = backoff.delay(after);
                    warn!(
                        remote_name = %self.remote_name,
                        url = %self.cfg.url,
                        samples = n,
                        error = %reason,
                        retry_in = ?delay,
                        "Failed to send a batch; retrying."
                    );
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = self.cancel.cancelled() => break,
                    }
                }
            }
        }
        if retrying {
            self.stats.retrying.fetch_sub(1, Ordering::Relaxed);
        }
        batch.clear();
    }
}

async fn run_shard(sh: Arc<Shared>, mut rx: mpsc::Receiver<QueuedSample>) {
    let max = sh.cfg.queue_config.max_samples_per_send.max(1);
    let deadline = sh.cfg.queue_config.batch_send_deadline.to_std();
    let mut batch = Vec::with_capacity(max);
    let mut enc = BatchEncoder::new();
    let mut scratch = Vec::new();
    let timer = tokio::time::sleep(deadline);
    tokio::pin!(timer);
    loop {
        let room = max - batch.len();
        tokio::select! {
            biased;
            _ = sh.cancel.cancelled() => return,
            n = rx.recv_many(&mut batch, room) => {
                if n == 0 {
                    // Closed: send what is left and stop.
                    if !batch.is_empty() {
                        sh.send_batch(&mut enc, &mut batch, &mut scratch).await;
                    }
                    return;
                }
                if batch.len() >= max {
                    sh.send_batch(&mut enc, &mut batch, &mut scratch).await;
                    timer.as_mut().reset(tokio::time::Instant::now() + deadline);
                }
            }
            _ = &mut timer => {
                if !batch.is_empty() {
                    sh.send_batch(&mut enc, &mut batch, &mut scratch).await;
                }
                timer.as_mut().reset(tokio::time::Instant::now() + deadline);
            }
        }
    }
}

/// Re-evaluates the shard count every `interval` until the queue stops.
pub(crate) async fn reshard_loop(sh: Arc<Shared>, interval: Duration) {
    let mut samples_in = Ewma::default();
    let mut samples_out = Ewma::default();
    let mut send_secs = Ewma::default();
    let (mut last_in, mut last_out, mut last_nanos) = (0u64, 0u64, 0u64);
    let mut last = Instant::now();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = sh.stopping.cancelled() => return,
        }
        let secs = last.elapsed().as_secs_f64();
        last = Instant::now();
        let st = &sh.stats;
        let now_in = st.enqueued.load(Ordering::Relaxed);
        let now_out = st.completed.load(Ordering::Relaxed);
        let now_nanos = st.send_nanos.load(Ordering::Relaxed);
        samples_in.update(now_in.saturating_sub(last_in) as f64, secs);
        samples_out.update(now_out.saturating_sub(last_out) as f64, secs);
        send_secs.update(now_nanos.saturating_sub(last_nanos) as f64 / 1e9, secs);
        (last_in, last_out, last_nanos) = (now_in, now_out, now_nanos);
        let sent = st.highest_sent_ms.load(Ordering::Relaxed);
        let newest = if st.behind.load(Ordering::Relaxed) {
            now_ms()
        } else {
            st.highest_read_ms.load(Ordering::Relaxed)
        };
        let rates = Rates {
            samples_in: samples_in.rate(),
            samples_out: samples_out.rate(),
            send_seconds: send_secs.rate(),
            lag_seconds: if sent > 0 {
                newest.saturating_sub(sent) as f64 / 1000.0
            } else {
                0.0
            },
        };
        let wish = desired(&rates);
        sh.metrics.shards_desired.set(wish);
        // Never reshard while a batch is failing: stopping the shards would wait for it.
        if st.retrying.load(Ordering::Relaxed) > 0 {
            continue;
        }
        let q = &sh.cfg.queue_config;
        let cur = sh.shards();
        let Some(n) = next_shards(cur, wish, q.min_shards, q.max_shards) else {
            continue;
        };
        info!(
            remote_name = %sh.remote_name,
            url = %sh.cfg.url,
            from = cur,
            to = n,
            desired = wish,
            lag_seconds = rates.lag_seconds,
            "Resharding the remote write queue."
        );
        sh.stop_shards().await;
        if sh.stopping.is_cancelled() {
            return;
        }
        sh.start_shards(n);
    }
}
