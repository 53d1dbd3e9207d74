//! The head appender: validates samples as they are added, then on commit writes the WAL and
//! applies the batch to memory under the commit lock ("ack means in the WAL").
//!
//! Rejections follow Prometheus (`docs/usage.md`): out of order, out of bounds (older than
//! persisted data or half a chunk range behind the head), duplicate timestamp with a
//! different value; with an out-of-order window, too old instead of the first two.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use argus_model::{AppendError, Appender, Labels, SeriesRef, StorageError};

use super::series::MemSeries;
use super::{Fit, Head};
use crate::wal::record::{encode_samples, encode_series, RefSample};

/// A sample waiting for commit.
struct Pending {
    series: Arc<MemSeries>,
    t: i64,
    v: f64,
}

/// A batch of appends to the head.
pub struct HeadAppender {
    head: Arc<Head>,
    samples: Vec<Pending>,
    /// Per series of this batch: newest pending in-order sample (t, v).
    last: HashMap<u64, (i64, f64)>,
    /// Series this batch holds a `pending` count on (released on drop).
    touched: HashMap<u64, Arc<MemSeries>>,
}

impl Drop for HeadAppender {
    fn drop(&mut self) {
        for s in self.touched.values() {
            s.pending.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl HeadAppender {
    /// A new batch.
    pub fn new(head: Arc<Head>) -> Self {
        HeadAppender {
            head,
            samples: Vec::new(),
            last: HashMap::new(),
            touched: HashMap::new(),
        }
    }

    fn series_for(
        &mut self,
        r: Option<SeriesRef>,
        labels: &Labels,
    ) -> Result<Arc<MemSeries>, AppendError> {
        if let Some(r) = r {
            if let Some(s) = self.touched.get(&r.0) {
                if &s.labels == labels || labels.is_empty() {
                    return Ok(s.clone());
                }
            }
            if let Some(s) = self.head.series.get_by_ref(r.0) {
                if &s.labels == labels || labels.is_empty() {
                    if let Some(s) = self.pin(s) {
                        return Ok(s);
                    }
                }
            }
        }
        validate_labels(labels)?;
        // Garbage collection may remove a series between lookup and pinning; retry then.
        for _ in 0..8 {
            let (s, _) = self.head.get_or_create(labels).ok_or_else(|| {
                AppendError::Storage(StorageError::Other("BUG: series map stripe missing".into()))
            })?;
            if let Some(s) = self.pin(s) {
                return Ok(s);
            }
        }
        Err(AppendError::Storage(StorageError::Other(
            "series keeps being garbage-collected; retry".into(),
        )))
    }

    /// Marks `s` as having pending samples so GC leaves it alone; None when GC removed it
    /// before the mark took effect.
    fn pin(&mut self, s: Arc<MemSeries>) -> Option<Arc<MemSeries>> {
        if let Some(t) = self.touched.get(&s.r) {
            if Arc::ptr_eq(t, &s) {
                return Some(s);
            }
        }
        s.pending.fetch_add(1, Ordering::SeqCst);
        let alive = self
            .head
            .series
            .get_by_ref(s.r)
            .is_some_and(|x| Arc::ptr_eq(&x, &s));
        if !alive {
            s.pending.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        self.touched.insert(s.r, s.clone());
        Some(s)
    }

    /// Number of samples in the batch.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// True when nothing was appended.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
}

/// Label sets the head refuses: empty ones, and names that are empty.
fn validate_labels(labels: &Labels) -> Result<(), AppendError> {
    if labels.is_empty() {
        return Err(AppendError::InvalidLabels {
            labels: labels.to_string(),
            reason: "empty label set".into(),
        });
    }
    if labels.iter().any(|l| l.name.is_empty()) {
        return Err(AppendError::InvalidLabels {
            labels: labels.to_string(),
            reason: "empty label name".into(),
        });
    }
    Ok(())
}

impl Appender for HeadAppender {
    fn append(
        &mut self,
        r: Option<SeriesRef>,
        labels: &Labels,
        t: i64,
        v: f64,
    ) -> Result<SeriesRef, AppendError> {
        let s = self.series_for(r, labels)?;
        let last_t = {
            let d = s.data.lock();
            let (mut lt, mut lv) = (d.last_t, d.last_v);
            if let Some(&(pt, pv)) = self.last.get(&s.r) {
                if pt > lt {
                    (lt, lv) = (pt, pv);
                }
            }
            let fit = self.head.fit(lt, lv, t, v, true, |x| {
                d.ooo_at(x).or_else(|| {
                    self.samples
                        .iter()
                        .rev()
                        .find(|p| p.series.r == s.r && p.t == x)
                        .map(|p| p.v)
                })
            });
            match fit {
                Ok(Fit::Duplicate) => return Ok(SeriesRef(s.r)),
                Ok(_) => {}
                Err(e) => {
                    self.head.count_rejection(&e);
                    return Err(e);
                }
            }
            lt
        };
        if t > last_t {
            self.last.insert(s.r, (t, v));
        }
        let r = s.r;
        self.samples.push(Pending { series: s, t, v });
        Ok(SeriesRef(r))
    }

    fn commit(mut self: Box<Self>) -> Result<(), StorageError> {
        let samples = std::mem::take(&mut self.samples);
        commit_samples(&self.head, samples).map_err(StorageError::from)
    }

    fn rollback(self: Box<Self>) -> Result<(), StorageError> {
        // Series created by this batch stay in the head without samples; head GC removes them.
        Ok(())
    }
}

/// Writes the batch to the WAL and applies it, under the commit lock.
fn commit_samples(head: &Head, samples: Vec<Pending>) -> crate::error::Result<()> {
    if samples.is_empty() {
        return Ok(());
    }
    let mut c = head.commit.lock();
    if head.closed.load(Ordering::Acquire) {
        return Err(crate::error::TsdbError::Closed);
    }
    if let Some(wal) = c.wal.as_mut() {
        let mut new_series: Vec<&Arc<MemSeries>> = Vec::new();
        for p in &samples {
            if !p.series.logged.load(Ordering::Relaxed) {
                p.series.logged.store(true, Ordering::Relaxed);
                new_series.push(&p.series);
            }
        }
        let mut series_rec = Vec::new();
        if !new_series.is_empty() {
            encode_series(
                new_series
                    .iter()
                    .map(|s| (s.r, &s.labels))
                    .collect::<Vec<_>>()
                    .into_iter(),
                &mut series_rec,
            );
        }
        let refs: Vec<RefSample> = samples
            .iter()
            .map(|p| RefSample {
                r: p.series.r,
                t: p.t,
                v: p.v,
            })
            .collect();
        let mut recs: Vec<Vec<u8>> = Vec::with_capacity(2);
        if !series_rec.is_empty() {
            recs.push(series_rec);
        }
        // Keep records well below the segment size.
        for chunk in refs.chunks(16_384) {
            let mut b = Vec::with_capacity(chunk.len() * 12 + 16);
            encode_samples(chunk, &mut b);
            recs.push(b);
        }
        let slices: Vec<&[u8]> = recs.iter().map(Vec::as_slice).collect();
        if let Err(e) = wal.log(&slices) {
            for s in new_series {
                s.logged.store(false, Ordering::Relaxed);
            }
            return Err(e);
        }
    }
    let id = c.next_append_id;
    c.next_append_id += 1;
    let low = head.low_watermark();
    let mut appended = 0u64;
    let mut ooo = 0u64;
    for p in &samples {
        match apply(head, &p.series, p.t, p.v, id, low) {
            Applied::InOrder => appended += 1,
            Applied::OutOfOrder => ooo += 1,
            Applied::Skipped => {}
        }
    }
    head.publish(id);
    drop(c);
    head.metrics.samples_appended.inc_by(appended + ooo);
    head.metrics.ooo_appended.inc_by(ooo);
    Ok(())
}

/// Result of applying one sample.
pub(crate) enum Applied {
    InOrder,
    OutOfOrder,
    Skipped,
}

/// Applies one sample to memory, re-checking it against the series' current state (another
/// batch may have committed in between). Used by commit and WAL replay.
pub(crate) fn apply(
    head: &Head,
    s: &MemSeries,
    t: i64,
    v: f64,
    append_id: u64,
    low: u64,
) -> Applied {
    let mut d = s.data.lock();
    let fit = head.fit(d.last_t, d.last_v, t, v, false, |x| d.ooo_at(x));
    match fit {
        Ok(Fit::InOrder) => {
            // Clean first: this commit's record (newer than `low`) then takes the inline
            // slot instead of spilling to the heap.
            d.clean_tx(low);
            let cut = d.append(
                t,
                v,
                append_id,
                head.opts.chunk_range,
                head.opts.samples_per_chunk,
            );
            drop(d);
            if cut {
                head.metrics.chunks_created.inc();
                head.metrics.head_chunks.inc();
            }
            head.observe_time(t);
            Applied::InOrder
        }
        Ok(Fit::OutOfOrder) => {
            if d.insert_ooo(t, v, append_id) {
                Applied::OutOfOrder
            } else {
                Applied::Skipped
            }
        }
        Ok(Fit::Duplicate) => Applied::Skipped,
        Err(e) => {
            drop(d);
            head.count_rejection(&e);
            Applied::Skipped
        }
    }
}
