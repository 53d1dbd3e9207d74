//! Tailing the TSDB's WAL for one queue (Prometheus' `tsdb/wlog/watcher.go` plays this
//! part there).
//!
//! The watcher runs on its own thread, because reading segments is blocking I/O. It reads
//! the newest checkpoint and every segment in order, keeping a map from WAL series
//! reference to the series as it will be sent (external labels added, `write_relabel_configs`
//! applied, labels encoded once). Samples records before the queue's start position only
//! feed nothing; from the start position on, each samples record is registered with the
//! [`AckTracker`](crate::ack::AckTracker) and its samples are enqueued into the shards,
//! waiting while they are full: a stalled receiver stops the reading, not the memory.
//!
//! Where to start: the saved position of the queue; for a new queue, the end of the WAL
//! when the queue was created (only data written from then on is sent, as in Prometheus).
//! Segments are always read from their start, for the series records, so a position need
//! not be a frame boundary: records starting at or after it are sent.
//!
//! Truncation: after the TSDB checkpoints segments `..=N` it deletes them. When the next
//! segment the watcher wants is gone, it logs what was skipped, reads `checkpoint.N` for
//! the series it defines and, if any skipped segment had not been sent yet, also sends the
//! samples the checkpoint kept (duplicates of already sent ones are possible and harmless;
//! the rest of those segments' samples had been persisted to blocks and are no longer in
//! the WAL). Series not in a newer checkpoint and not seen since are forgotten.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use argus_model::Labels;
use argus_tsdb::wal::reader::WalReader;
use argus_tsdb::wal::record::{decode, Record, TYPE_SAMPLES, TYPE_SERIES, TYPE_TOMBSTONES};
use argus_tsdb::wal::segment::{last_checkpoint, list_segments};
use argus_tsdb::wal::tail::{SegmentTail, TailRead};
use tracing::{debug, error, info, warn};

use crate::encode::{QueuedSample, SeriesEntry};
use crate::metrics::DropReason;
use crate::position::Position;
use crate::series_rules::SeriesRules;
use crate::shards::Shared;

/// Largest record the watcher accepts (the TSDB's own replay limit).
const MAX_RECORD: u64 = u32::MAX as u64;

/// Records handled between checks for a stop request.
const RECORDS_PER_TICK: usize = 4096;

/// How often catching up logs its progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

struct Cached {
    /// `None` when relabeling dropped the series.
    entry: Option<Arc<SeriesEntry>>,
    /// Last segment (or checkpoint number) that defined it.
    seen: u64,
}

struct Open {
    seg: u64,
    tail: SegmentTail,
    /// A newer segment existed when the reader last ran out of data here.
    writer_moved_on: bool,
    corrupt_logged: bool,
}

/// Hashes WAL series references, which are small sequential integers: one multiply
/// (Fibonacci hashing) instead of SipHash on every sample; the keys come from the TSDB, not
/// from the network, so flooding is not a concern.
#[derive(Default)]
struct RefHasher(u64);

impl Hasher for RefHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type RefMap<V> = HashMap<u64, V, BuildHasherDefault<RefHasher>>;

/// The WAL follower of one queue.
pub(crate) struct Watcher {
    wal_dir: PathBuf,
    sh: Arc<Shared>,
    rules: SeriesRules,
    start: Position,
    poll: Duration,
    series: RefMap<Cached>,
    cur: Option<Open>,
    /// Last segment read to its end.
    done_segment: Option<u64>,
    /// Last checkpoint whose series were loaded.
    done_checkpoint: Option<u64>,
    buf: Vec<u8>,
    pending: Vec<(Arc<SeriesEntry>, i64, f64)>,
    last_progress: Instant,
    sent_since_progress: u64,
}

impl Watcher {
    pub(crate) fn new(
        wal_dir: &Path,
        sh: Arc<Shared>,
        rules: SeriesRules,
        start: Position,
        poll: Duration,
    ) -> Self {
        Watcher {
            wal_dir: wal_dir.to_path_buf(),
            sh,
            rules,
            start,
            poll,
            series: RefMap::default(),
            cur: None,
            done_segment: None,
            done_checkpoint: None,
            buf: Vec::new(),
            pending: Vec::new(),
            last_progress: Instant::now(),
            sent_since_progress: 0,
        }
    }

    fn stopped(&self) -> bool {
        self.sh.stopping.is_cancelled()
    }

    /// Sleeps up to `d`, waking early on stop.
    fn nap(&self, d: Duration) {
        let until = Instant::now() + d;
        while !self.stopped() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            std::thread::sleep(left.min(Duration::from_millis(20)));
        }
    }

    /// Runs until the queue stops.
    pub(crate) fn run(mut self) {
        while !self.stopped() {
            match self.tick() {
                Ok(true) => {}
                Ok(false) => self.nap(self.poll),
                Err(e) => {
                    error!(
                        remote_name = %self.sh.remote_name,
                        error = %e,
                        "Reading the WAL failed; retrying in a second."
                    );
                    self.cur = None;
                    self.nap(Duration::from_secs(1));
                }
            }
        }
    }

    /// One step; `Ok(false)` when there is nothing to read right now.
    fn tick(&mut self) -> Result<bool, argus_tsdb::TsdbError> {
        if self.cur.is_none() && !self.open_next()? {
            return Ok(false);
        }
        for _ in 0..RECORDS_PER_TICK {
            if self.stopped() {
                return Ok(true);
            }
            let Some(open) = self.cur.as_mut() else {
                return Ok(true);
            };
            let seg = open.seg;
            match open.tail.next(&mut self.buf)? {
                TailRead::Record { start, end } => {
                    let rec = std::mem::take(&mut self.buf);
                    self.handle(seg, start, end, &rec);
                    self.buf = rec;
                }
                TailRead::Pending { offset, buffered } => {
                    if !self.newer_segment_exists(seg)? {
                        self.at_tail();
                        return Ok(false);
                    }
                    let Some(open) = self.cur.as_mut() else {
                        return Ok(true);
                    };
                    if !open.writer_moved_on {
                        // The writer finishes a segment before creating the next: one
                        // more read sees everything it wrote here.
                        open.writer_moved_on = true;
                        continue;
                    }
                    if buffered > 0 {
                        warn!(
                            remote_name = %self.sh.remote_name,
                            segment = seg,
                            offset,
                            bytes = buffered,
                            "WAL segment ends inside a record (torn by a crash); the rest of it is skipped."
                        );
                    }
                    self.finish_segment(seg);
                    return Ok(true);
                }
                TailRead::Corrupt { offset, reason } => {
                    if self.newer_segment_exists(seg)? {
                        warn!(
                            remote_name = %self.sh.remote_name,
                            segment = seg,
                            offset,
                            reason = %reason,
                            "WAL segment is damaged; the rest of it is skipped."
                        );
                        self.finish_segment(seg);
                        return Ok(true);
                    }
                    if let Some(open) = self.cur.as_mut() {
                        if !open.corrupt_logged {
                            open.corrupt_logged = true;
                            warn!(
                                remote_name = %self.sh.remote_name,
                                segment = seg,
                                offset,
                                reason = %reason,
                                "The newest WAL segment is damaged; waiting for the next one."
                            );
                        }
                    }
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    fn newer_segment_exists(&self, seg: u64) -> Result<bool, argus_tsdb::TsdbError> {
        Ok(list_segments(&self.wal_dir)?.iter().any(|(i, _)| *i > seg))
    }

    fn finish_segment(&mut self, seg: u64) {
        self.done_segment = Some(seg);
        self.cur = None;
        self.sh.tracker.set_read(Position {
            segment: seg + 1,
            offset: 0,
        });
    }

    fn at_tail(&mut self) {
        self.sh
            .stats
            .behind
            .store(false, std::sync::atomic::Ordering::Relaxed);
    }

    /// Opens the next segment to read, handling checkpoints and gaps first.
    fn open_next(&mut self) -> Result<bool, argus_tsdb::TsdbError> {
        let segs = list_segments(&self.wal_dir)?;
        let next = match self.done_segment {
            None => segs.first(),
            Some(s) => segs.iter().find(|(i, _)| *i > s),
        };
        let Some((n, path)) = next.cloned() else {
            return Ok(false);
        };
        if let Some((cp, dir)) = last_checkpoint(&self.wal_dir)? {
            if cp < n && self.done_checkpoint.is_none_or(|d| cp > d) {
                // Unsent data in the checkpointed range: segments that were deleted before
                // this queue read them, or a saved position inside them.
                let unsent = match self.done_segment {
                    Some(s) => s < cp,
                    None => self.start.segment <= cp,
                };
                self.read_checkpoint(cp, &dir, unsent)?;
            }
        }
        let expected = match self.done_segment {
            Some(s) => s + 1,
            None => self.start.segment,
        };
        if expected < n {
            let e = expected;
            warn!(
                remote_name = %self.sh.remote_name,
                url = %self.sh.cfg.url,
                first_missing = e,
                last_missing = n - 1,
                resuming_at = n,
                "WAL segments were truncated before this queue sent them; only the samples their checkpoint kept were sent."
            );
        }
        self.sh.metrics.current_segment.set(n as i64);
        let newest = segs.last().map_or(n, |(i, _)| *i);
        self.sh
            .stats
            .behind
            .store(n < newest, std::sync::atomic::Ordering::Relaxed);
        self.cur = Some(Open {
            seg: n,
            tail: SegmentTail::open(&path, 0, MAX_RECORD)?,
            writer_moved_on: false,
            corrupt_logged: false,
        });
        debug!(remote_name = %self.sh.remote_name, segment = n, "Reading WAL segment.");
        Ok(true)
    }

    fn read_checkpoint(
        &mut self,
        cp: u64,
        dir: &Path,
        send_samples: bool,
    ) -> Result<(), argus_tsdb::TsdbError> {
        let files: Vec<PathBuf> = list_segments(dir)?.into_iter().map(|(_, p)| p).collect();
        let mut r = WalReader::new(files, MAX_RECORD);
        let mut in_cp = HashSet::new();
        let mut buf = Vec::new();
        let mut samples = 0u64;
        let end = self.sh.tracker.read_position().unwrap_or_default();
        loop {
            match r.next(&mut buf) {
                Ok(true) => {}
                Ok(false) => break,
                Err(Ok(c)) => {
                    warn!(
                        remote_name = %self.sh.remote_name,
                        checkpoint = cp,
                        offset = c.offset,
                        reason = %c.reason,
                        "WAL checkpoint is damaged; the rest of it is skipped."
                    );
                    break;
                }
                Err(Err(e)) => return Err(e),
            }
            match decode(&buf) {
                Ok(Record::Series(list)) => {
                    for (r, l) in list {
                        in_cp.insert(r);
                        self.add_series(r, &l, cp);
                    }
                }
                Ok(Record::Samples(list)) if send_samples => {
                    samples += self.enqueue_samples(end, &list);
                }
                Ok(_) => {}
                Err(reason) => {
                    warn!(remote_name = %self.sh.remote_name, checkpoint = cp, reason = %reason, "Undecodable checkpoint record skipped.");
                }
            }
            if self.stopped() {
                return Ok(());
            }
        }
        let before = self.series.len();
        self.series.retain(|r, c| in_cp.contains(r) || c.seen > cp);
        self.done_checkpoint = Some(cp);
        info!(
            remote_name = %self.sh.remote_name,
            checkpoint = cp,
            series = self.series.len(),
            forgotten = before - self.series.len(),
            samples_resent = samples,
            "Read WAL checkpoint."
        );
        Ok(())
    }

    fn add_series(&mut self, r: u64, l: &Labels, seen: u64) {
        let entry = self.rules.apply(l).map(|l| Arc::new(SeriesEntry::new(&l)));
        self.series.insert(r, Cached { entry, seen });
    }

    fn handle(&mut self, seg: u64, start: u64, end: u64, rec: &[u8]) {
        let sending = Position {
            segment: seg,
            offset: start,
        } >= self.start;
        let m = &self.sh.metrics;
        let end_pos = Position {
            segment: seg,
            offset: end,
        };
        match rec.first().copied() {
            Some(TYPE_SAMPLES) => {
                m.records_samples.inc();
                if !sending {
                    return;
                }
                match decode(rec) {
                    Ok(Record::Samples(list)) => {
                        let n = self.enqueue_samples(end_pos, &list);
                        self.sent_since_progress += n;
                    }
                    Ok(_) | Err(_) => self.bad_record(seg, start),
                }
            }
            Some(TYPE_SERIES) => {
                m.records_series.inc();
                match decode(rec) {
                    Ok(Record::Series(list)) => {
                        for (r, l) in list {
                            self.add_series(r, &l, seg);
                        }
                    }
                    Ok(_) | Err(_) => self.bad_record(seg, start),
                }
            }
            Some(TYPE_TOMBSTONES) => m.records_tombstones.inc(),
            _ => self.bad_record(seg, start),
        }
        if sending {
            self.sh.tracker.set_read(end_pos);
            self.progress(seg, end);
        }
    }

    fn bad_record(&self, seg: u64, offset: u64) {
        warn!(
            remote_name = %self.sh.remote_name,
            segment = seg,
            offset,
            "Undecodable WAL record skipped."
        );
    }

    fn progress(&mut self, seg: u64, offset: u64) {
        if self.last_progress.elapsed() < PROGRESS_EVERY {
            return;
        }
        let behind = self.newer_segment_exists(seg).unwrap_or(false);
        self.sh
            .stats
            .behind
            .store(behind, std::sync::atomic::Ordering::Relaxed);
        if behind || self.sent_since_progress > 0 {
            let secs = self.last_progress.elapsed().as_secs_f64();
            info!(
                remote_name = %self.sh.remote_name,
                segment = seg,
                offset,
                acked = %self.sh.tracker.acked().unwrap_or_default(),
                samples_per_second = (self.sent_since_progress as f64 / secs).round(),
                shards = self.sh.shards(),
                behind,
                "Remote write queue progress."
            );
        }
        self.last_progress = Instant::now();
        self.sent_since_progress = 0;
    }

    /// Registers and enqueues one samples record; returns how many samples were enqueued.
    fn enqueue_samples(
        &mut self,
        end: Position,
        list: &[argus_tsdb::wal::record::RefSample],
    ) -> u64 {
        let mut pending = std::mem::take(&mut self.pending);
        pending.clear();
        let (mut relabeled, mut unknown) = (0u64, 0u64);
        let mut max_t = i64::MIN;
        for s in list {
            match self.series.get(&s.r) {
                Some(Cached { entry: Some(e), .. }) => {
                    pending.push((e.clone(), s.t, s.v));
                    max_t = max_t.max(s.t);
                }
                Some(Cached { entry: None, .. }) => relabeled += 1,
                None => unknown += 1,
            }
        }
        let m = &self.sh.metrics;
        if relabeled > 0 {
            m.dropped(DropReason::Relabeled).inc_by(relabeled);
        }
        if unknown > 0 {
            m.dropped(DropReason::UnknownRef).inc_by(unknown);
            debug!(remote_name = %self.sh.remote_name, samples = unknown, "Samples of unknown series skipped.");
        }
        if max_t > i64::MIN {
            let prev = self
                .sh
                .stats
                .highest_read_ms
                .fetch_max(max_t, std::sync::atomic::Ordering::Relaxed);
            m.highest_ts.set(prev.max(max_t) as f64 / 1000.0);
        }
        let total = pending.len() as u64;
        let seq = self.sh.tracker.register(end, total);
        self.sh.count_enqueued(total);
        let mut n = 0;
        for (series, t, v) in pending.drain(..) {
            if !self.enqueue_one(QueuedSample { series, t, v, seq }) {
                break;
            }
            n += 1;
        }
        if n < total {
            self.sh.uncount_enqueued(total - n);
        }
        self.pending = pending;
        n
    }

    /// Waits for room in the sample's shard; false when the queue stopped first.
    fn enqueue_one(&self, mut s: QueuedSample) -> bool {
        let mut delay = Duration::from_millis(1);
        loop {
            match self.sh.try_enqueue(s) {
                Ok(()) => return true,
                Err(back) => s = back,
            }
            if self.stopped() {
                return false;
            }
            self.sh.metrics.enqueue_retries.inc();
            std::thread::sleep(delay);
            delay = (delay * 2).min(Duration::from_millis(50));
        }
    }
}
