//! Reading selectors: lookback and staleness for instant selectors, left-open windows for
//! range selectors, all driven by forward-only sample iterators.
//!
//! Each series is iterated once per evaluation: steps advance the iterator monotonically,
//! and `seek` skips gaps larger than the lookback or window so long ranges with sparse steps
//! do not decode every sample (Prometheus' `vectorSelectorSingle` and `matrixIterSlice`).

use std::collections::VecDeque;

use argus_model::{is_stale_nan, Labels, Sample, SampleIterator, Series as StorageSeries};

use super::eval::Evaluator;
use super::plan::VectorSel;
use super::value::{Matrix, Series};
use super::QueryError;

/// A forward-only view of one series' samples.
pub(crate) struct Cursor {
    it: Box<dyn SampleIterator>,
    /// The next sample not yet consumed.
    cur: Option<Sample>,
    /// The newest consumed sample.
    last: Option<Sample>,
}

impl Cursor {
    pub fn new(mut it: Box<dyn SampleIterator>) -> Self {
        let cur = it.next().then(|| it.at());
        Cursor {
            it,
            cur,
            last: None,
        }
    }

    fn advance(&mut self) {
        self.cur = self.it.next().then(|| self.it.at());
    }

    fn seek(&mut self, t: i64) {
        self.cur = self.it.seek(t).then(|| self.it.at());
    }

    /// The error that ended iteration early, if any.
    pub fn error(&self) -> Option<QueryError> {
        self.it.err().cloned().map(QueryError::Storage)
    }

    /// The newest sample in `(ref_t - lookback, ref_t]`, unless it is a stale marker.
    pub fn value_at(&mut self, ref_t: i64, lookback: i64) -> Option<Sample> {
        let min = ref_t.saturating_sub(lookback);
        if self.cur.is_some_and(|c| c.t <= min) {
            self.last = None;
            self.seek(min.saturating_add(1));
        }
        while let Some(c) = self.cur {
            if c.t > ref_t {
                break;
            }
            self.last = Some(c);
            self.advance();
        }
        match self.last {
            Some(s) if s.t > min && !is_stale_nan(s.v) => Some(s),
            _ => None,
        }
    }
}

/// A sliding window of one series' samples, for range selectors. Stale markers are left
/// out, as Prometheus does.
pub(crate) struct Window {
    cursor: Cursor,
    buf: VecDeque<Sample>,
}

impl Window {
    pub fn new(it: Box<dyn SampleIterator>) -> Self {
        Window {
            cursor: Cursor::new(it),
            buf: VecDeque::new(),
        }
    }

    /// Moves the window to `(mint, maxt]` (bounds never decrease) and returns its samples.
    pub fn slide(&mut self, mint: i64, maxt: i64) -> &[Sample] {
        while self.buf.front().is_some_and(|s| s.t <= mint) {
            self.buf.pop_front();
        }
        if self.buf.is_empty() && self.cursor.cur.is_some_and(|c| c.t <= mint) {
            self.cursor.seek(mint.saturating_add(1));
        }
        while let Some(c) = self.cursor.cur {
            if c.t > maxt {
                break;
            }
            if !is_stale_nan(c.v) && c.t > mint {
                self.buf.push_back(c);
            }
            self.cursor.advance();
        }
        self.buf.make_contiguous()
    }

    pub fn error(&self) -> Option<QueryError> {
        self.cursor.error()
    }
}

/// Series of a selector, expanded.
pub(crate) struct LoadedSeries {
    pub labels: Labels,
    pub series: Box<dyn StorageSeries>,
}

impl Evaluator<'_, '_> {
    /// Expands a selector's series set (once per query).
    pub(crate) fn load(&mut self, id: usize) -> Result<(), QueryError> {
        if self.sh.loaded.get(id).is_some_and(Option::is_some) {
            return Ok(());
        }
        let info = self
            .sh
            .selectors
            .get(id)
            .ok_or_else(|| QueryError::Execution(format!("BUG: unknown selector {id}")))?;
        let mut set = self
            .sh
            .querier
            .select(false, Some(&info.hints), &info.matchers);
        let mut out = Vec::new();
        while let Some(s) = set.next() {
            self.sh.check_deadline()?;
            let s = s.map_err(QueryError::Storage)?;
            out.push(LoadedSeries {
                labels: s.labels().clone(),
                series: s,
            });
        }
        for w in set.warnings() {
            self.sh.annos.raw_warning(w);
        }
        if let Some(slot) = self.sh.loaded.get_mut(id) {
            *slot = Some(out);
        }
        Ok(())
    }

    /// The expanded series of a selector (after [`Self::load`]).
    pub(crate) fn loaded(&self, id: usize) -> &[LoadedSeries] {
        self.sh
            .loaded
            .get(id)
            .and_then(|s| s.as_deref())
            .unwrap_or(&[])
    }

    /// Evaluates an instant vector selector at every step.
    pub(crate) fn eval_vector_selector(&mut self, vs: &VectorSel) -> Result<Matrix, QueryError> {
        self.load(vs.id)?;
        let lookback = self.sh.lookback;
        let steps = self.steps();
        let mut out = Matrix::new();
        let n = self.loaded(vs.id).len();
        for i in 0..n {
            self.sh.check_deadline()?;
            let (labels, it) = match self.loaded(vs.id).get(i) {
                Some(s) => (s.labels.clone(), s.series.iterator()),
                None => continue,
            };
            let mut cursor = Cursor::new(it);
            let mut series = Series::new(labels, false);
            for ts in steps.clone() {
                let ref_t = vs.at.unwrap_or(ts) - vs.offset;
                if let Some(s) = cursor.value_at(ref_t, lookback) {
                    series.points.push(Sample::new(ts, s.v));
                }
            }
            if let Some(e) = cursor.error() {
                return Err(e);
            }
            if !series.points.is_empty() {
                self.sh.add_samples(series.points.len())?;
                self.sh.total_samples += series.points.len() as u64;
                out.push(series);
            }
        }
        Ok(out)
    }

    /// A `smoothed` instant selector: the value at each step is interpolated between the
    /// samples around it (within one lookback delta on either side).
    pub(crate) fn eval_smoothed_selector(&mut self, vs: &VectorSel) -> Result<Matrix, QueryError> {
        self.load(vs.id)?;
        let lb = self.sh.lookback;
        let steps = self.steps();
        let mut out = Matrix::new();
        let n = self.loaded(vs.id).len();
        for i in 0..n {
            self.sh.check_deadline()?;
            let (labels, it) = match self.loaded(vs.id).get(i) {
                Some(s) => (s.labels.clone(), s.series.iterator()),
                None => continue,
            };
            let mut w = Window::new(it);
            let mut series = Series::new(labels, false);
            for ts in steps.clone() {
                let ref_t = vs.at.unwrap_or(ts) - vs.offset;
                let f = w.slide(ref_t - lb, ref_t + lb);
                let idx = f.partition_point(|p| p.t < ref_t);
                let v = match (idx.checked_sub(1).and_then(|j| f.get(j)), f.get(idx)) {
                    (_, Some(next)) if next.t == ref_t => Some(next.v),
                    (Some(prev), Some(next)) => Some(
                        prev.v
                            + (next.v - prev.v) * (ref_t - prev.t) as f64
                                / (next.t - prev.t) as f64,
                    ),
                    (Some(prev), None) => Some(prev.v),
                    _ => None,
                };
                if let Some(v) = v {
                    series.points.push(Sample::new(ts, v));
                }
            }
            if let Some(e) = w.error() {
                return Err(e);
            }
            if !series.points.is_empty() {
                self.sh.add_samples(series.points.len())?;
                out.push(series);
            }
        }
        Ok(out)
    }

    /// For `timestamp(selector)`: the timestamps of the selected samples.
    pub(crate) fn eval_selector_timestamps(
        &mut self,
        vs: &VectorSel,
    ) -> Result<Matrix, QueryError> {
        self.load(vs.id)?;
        let lookback = self.sh.lookback;
        let steps = self.steps();
        let mut out = Matrix::new();
        let n = self.loaded(vs.id).len();
        for i in 0..n {
            self.sh.check_deadline()?;
            let (labels, it) = match self.loaded(vs.id).get(i) {
                Some(s) => (s.labels.clone(), s.series.iterator()),
                None => continue,
            };
            let mut cursor = Cursor::new(it);
            let mut series = Series::new(labels, true);
            for ts in steps.clone() {
                let ref_t = vs.at.unwrap_or(ts) - vs.offset;
                if let Some(s) = cursor.value_at(ref_t, lookback) {
                    series.points.push(Sample::new(ts, s.t as f64 / 1000.0));
                }
            }
            if let Some(e) = cursor.error() {
                return Err(e);
            }
            if !series.points.is_empty() {
                self.sh.add_samples(series.points.len())?;
                out.push(series);
            }
        }
        Ok(out)
    }

    /// A range selector evaluated at the (single) evaluation time: the raw samples in
    /// `(t - offset - range, t - offset]`.
    pub(crate) fn eval_matrix_selector_raw(
        &mut self,
        vs: &VectorSel,
        range: i64,
    ) -> Result<Matrix, QueryError> {
        self.load(vs.id)?;
        let maxt = vs.at.unwrap_or(self.start) - vs.offset;
        let mint = maxt - range;
        let mut out = Matrix::new();
        let n = self.loaded(vs.id).len();
        for i in 0..n {
            self.sh.check_deadline()?;
            let (labels, it) = match self.loaded(vs.id).get(i) {
                Some(s) => (s.labels.clone(), s.series.iterator()),
                None => continue,
            };
            let mut w = Window::new(it);
            let points = if vs.anchored || vs.smoothed {
                // The window reaches one lookback further back (and forward, when
                // smoothed) so the values at the range boundaries can be picked or
                // interpolated.
                let lb = self.sh.lookback;
                let hi = if vs.smoothed { maxt + lb } else { maxt };
                let raw = w.slide(mint - lb, hi).to_vec();
                crate::functions::extended::extend_points(&raw, mint, maxt, vs.smoothed)
            } else {
                w.slide(mint, maxt).to_vec()
            };
            if let Some(e) = w.error() {
                return Err(e);
            }
            if !points.is_empty() {
                self.sh.add_samples(points.len())?;
                self.sh.total_samples += points.len() as u64;
                out.push(Series {
                    metric: labels,
                    points,
                    drop_name: false,
                });
            }
        }
        Ok(out)
    }
}
