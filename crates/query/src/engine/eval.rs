//! The step loop: evaluating plan nodes over `[start, end]` every `interval` ms.
//!
//! Mirrors Prometheus' evaluator: each node yields a matrix with one point per step at which
//! a series has a value; `range_eval` gathers the per-step instant vectors of a node's
//! arguments and calls the node's per-step operation; step-invariant sub-trees are evaluated
//! once; subqueries run a child evaluator on their own aligned step grid. Limits (max
//! samples, deadline, cancellation) are checked as evaluation proceeds.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use argus_model::{Labels, Querier, Sample};

use super::plan::{Node, SelectorInfo, SubqueryNode};
use super::selectors::LoadedSeries;
use super::value::{drop_metadata, Annotations, Elem, Matrix, Series, Val, Vector};
use super::QueryError;
use crate::parser::VectorMatching;

/// State shared by every evaluator of one query (subqueries run child evaluators).
pub(crate) struct Shared<'q> {
    pub querier: &'q dyn Querier,
    pub selectors: &'q [SelectorInfo],
    /// Expanded series per selector, loaded on first use.
    pub loaded: Vec<Option<Vec<LoadedSeries>>>,
    pub lookback: i64,
    pub max_samples: usize,
    pub current_samples: usize,
    pub peak_samples: usize,
    pub total_samples: u64,
    pub deadline: Option<Instant>,
    pub cancel: Option<Arc<AtomicBool>>,
    pub annos: Annotations,
    /// The query text, for annotation positions.
    pub query: &'q str,
    pub delayed_name_removal: bool,
    ticks: u32,
}

impl<'q> Shared<'q> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        querier: &'q dyn Querier,
        selectors: &'q [SelectorInfo],
        lookback: i64,
        max_samples: usize,
        deadline: Option<Instant>,
        cancel: Option<Arc<AtomicBool>>,
        query: &'q str,
        delayed_name_removal: bool,
    ) -> Self {
        Shared {
            querier,
            selectors,
            loaded: (0..selectors.len()).map(|_| None).collect(),
            lookback,
            max_samples,
            current_samples: 0,
            peak_samples: 0,
            total_samples: 0,
            deadline,
            cancel,
            annos: Annotations::default(),
            query,
            delayed_name_removal,
            ticks: 0,
        }
    }

    /// Fails if the query was canceled or ran out of time. Cheap enough to call per step.
    pub fn check_deadline(&mut self) -> Result<(), QueryError> {
        if self
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            return Err(QueryError::Canceled("expression evaluation"));
        }
        self.ticks = self.ticks.wrapping_add(1);
        if self.ticks % 32 == 0 {
            if let Some(d) = self.deadline {
                if Instant::now() > d {
                    return Err(QueryError::Timeout("expression evaluation"));
                }
            }
        }
        Ok(())
    }

    /// Accounts for `n` more samples held in memory.
    pub fn add_samples(&mut self, n: usize) -> Result<(), QueryError> {
        self.current_samples = self.current_samples.saturating_add(n);
        self.peak_samples = self.peak_samples.max(self.current_samples);
        if self.current_samples > self.max_samples {
            return Err(QueryError::TooManySamples("query execution"));
        }
        Ok(())
    }

    /// Releases `n` samples.
    pub fn sub_samples(&mut self, n: usize) {
        self.current_samples = self.current_samples.saturating_sub(n);
    }
}

/// Join signatures of the series of binary-operation operands.
pub(crate) struct Signatures {
    /// Per operand, the signature ordinal of each gathered element.
    pub elems: Vec<Vec<usize>>,
    /// Number of distinct signatures.
    pub count: usize,
}

/// Evaluates nodes over one step grid.
pub(crate) struct Evaluator<'s, 'q> {
    pub sh: &'s mut Shared<'q>,
    pub start: i64,
    pub end: i64,
    pub interval: i64,
}

pub(crate) fn total_points(m: &Matrix) -> usize {
    m.iter().map(|s| s.points.len()).sum()
}

impl<'s, 'q> Evaluator<'s, 'q> {
    /// The evaluation timestamps.
    pub fn steps(&self) -> impl Iterator<Item = i64> + Clone {
        let (start, end, interval) = (self.start, self.end, self.interval.max(1));
        (0..)
            .map(move |i: i64| start + i * interval)
            .take_while(move |t| *t <= end)
    }

    pub fn num_steps(&self) -> usize {
        if self.end < self.start {
            0
        } else {
            ((self.end - self.start) / self.interval.max(1) + 1) as usize
        }
    }

    /// A child evaluator on another grid, sharing the query state.
    pub fn child(&mut self, start: i64, end: i64, interval: i64) -> Evaluator<'_, 'q> {
        Evaluator {
            sh: &mut *self.sh,
            start,
            end,
            interval,
        }
    }

    /// Evaluates a node that must yield a matrix (anything but a string).
    pub fn eval_matrix(&mut self, node: &Node) -> Result<Matrix, QueryError> {
        match self.eval(node)? {
            Val::Matrix(m) => Ok(m),
            Val::Str(_) => Err(QueryError::Execution(
                "BUG: string where a vector or scalar was expected".into(),
            )),
        }
    }

    /// A scalar series with `f(ts)` at every step.
    pub fn scalar_series(&mut self, f: impl Fn(i64) -> f64) -> Result<Matrix, QueryError> {
        let points: Vec<Sample> = self.steps().map(|t| Sample::new(t, f(t))).collect();
        self.sh.add_samples(points.len())?;
        Ok(vec![Series {
            metric: Labels::empty(),
            points,
            drop_name: false,
        }])
    }

    pub fn eval(&mut self, node: &Node) -> Result<Val, QueryError> {
        self.sh.check_deadline()?;
        if self.end < self.start {
            return Ok(Val::Matrix(Matrix::new()));
        }
        match node {
            Node::Number(v) => {
                let v = *v;
                Ok(Val::Matrix(self.scalar_series(|_| v)?))
            }
            Node::Str(s) => Ok(Val::Str(s.clone())),
            Node::Vector(vs) => {
                if vs.smoothed {
                    return Ok(Val::Matrix(self.eval_smoothed_selector(vs)?));
                }
                Ok(Val::Matrix(self.eval_vector_selector(vs)?))
            }
            Node::Matrix(m) => {
                if self.start != self.end {
                    return Err(QueryError::Execution(
                        "cannot do range evaluation of matrix selector".into(),
                    ));
                }
                Ok(Val::Matrix(self.eval_matrix_selector_raw(&m.vs, m.range)?))
            }
            Node::Subquery(sq) => Ok(Val::Matrix(self.eval_subquery(sq)?)),
            Node::Call(c) => crate::functions::eval_call(self, c).map(Val::Matrix),
            Node::Aggregate(a) => self.eval_aggregate(a).map(Val::Matrix),
            Node::Binary(b) => self.eval_binary(b).map(Val::Matrix),
            Node::Neg(x) => {
                let mut m = self.eval_matrix(x)?;
                let delayed = self.sh.delayed_name_removal;
                for s in &mut m {
                    if !delayed {
                        s.metric = drop_metadata(&s.metric);
                    }
                    s.drop_name = true;
                    for p in &mut s.points {
                        p.v = -p.v;
                    }
                }
                if !delayed {
                    m = merge_same_labelset(m)?;
                }
                Ok(Val::Matrix(m))
            }
            Node::StepInvariant(x) => self.eval_step_invariant(x),
        }
    }

    fn eval_step_invariant(&mut self, x: &Node) -> Result<Val, QueryError> {
        let (start, interval) = (self.start, self.interval);
        let res = self.child(start, start, interval).eval(x)?;
        if matches!(x, Node::Matrix(_) | Node::Subquery(_)) || self.start == self.end {
            return Ok(res);
        }
        let Val::Matrix(mut m) = res else {
            return Ok(res);
        };
        let n = self.num_steps();
        for s in &mut m {
            let Some(first) = s.points.first().copied() else {
                continue;
            };
            s.points = self.steps().map(|t| Sample::new(t, first.v)).collect();
            self.sh.add_samples(n.saturating_sub(1))?;
        }
        Ok(Val::Matrix(m))
    }

    /// Evaluates a subquery's inner expression on its own grid covering every window this
    /// evaluator's steps need; points keep the inner step timestamps.
    pub fn eval_subquery(&mut self, sq: &SubqueryNode) -> Result<Matrix, QueryError> {
        let first_ref = sq.at.unwrap_or(self.start) - sq.offset;
        let last_ref = sq.at.unwrap_or(self.end) - sq.offset;
        let step = sq.step.max(1);
        let lo = first_ref - sq.range;
        let mut inner_start = step * lo.div_euclid(step);
        if inner_start <= lo {
            inner_start += step;
        }
        self.child(inner_start, last_ref, step)
            .eval_matrix(&sq.expr)
    }

    /// Gathers the instant vector at `ts` from `m`, advancing the cursors.
    fn gather(m: &Matrix, cursors: &mut [usize], ts: i64, out: &mut Vector, idx: &mut Vec<usize>) {
        out.clear();
        idx.clear();
        for (i, s) in m.iter().enumerate() {
            let Some(c) = cursors.get_mut(i) else {
                continue;
            };
            if let Some(p) = s.points.get(*c) {
                if p.t == ts {
                    out.push(Elem {
                        metric: s.metric.clone(),
                        t: ts,
                        f: p.v,
                        drop_name: s.drop_name,
                    });
                    idx.push(i);
                    *c += 1;
                }
            }
        }
    }

    /// Evaluates `args` and calls `f` with their instant vectors at every step, assembling
    /// the per-step results into series (Prometheus' `rangeEval`).
    pub fn range_eval(
        &mut self,
        args: &[&Node],
        matching: Option<&VectorMatching>,
        mut f: impl FnMut(&mut Shared<'q>, &[Vector], &Signatures, i64) -> Result<Vector, QueryError>,
    ) -> Result<Matrix, QueryError> {
        let mut mats = Vec::with_capacity(args.len());
        for a in args {
            mats.push(match a {
                Node::Str(_) => Matrix::new(),
                a => self.eval_matrix(a)?,
            });
        }
        let held: usize = mats.iter().map(total_points).sum();
        let series_sigs = matching.map(|m| signature_ordinals(&mats, m));
        let num_sigs = series_sigs.as_ref().map_or(0, |(_, n)| *n);
        let mut cursors: Vec<Vec<usize>> = mats.iter().map(|m| vec![0; m.len()]).collect();
        let mut vectors: Vec<Vector> = mats.iter().map(|m| Vec::with_capacity(m.len())).collect();
        let mut idx: Vec<Vec<usize>> = vec![Vec::new(); mats.len()];
        let mut sigs = Signatures {
            elems: vec![Vec::new(); mats.len()],
            count: num_sigs,
        };
        let instant = self.start == self.end;
        let mut out: Matrix = Vec::new();
        let mut index: HashMap<Labels, (usize, i64)> = HashMap::new();
        for ts in self.steps() {
            self.sh.check_deadline()?;
            for (i, m) in mats.iter().enumerate() {
                if let (Some(c), Some(v), Some(ix)) =
                    (cursors.get_mut(i), vectors.get_mut(i), idx.get_mut(i))
                {
                    Self::gather(m, c, ts, v, ix);
                }
                if let (Some((ord, _)), Some(dst), Some(ix)) =
                    (series_sigs.as_ref(), sigs.elems.get_mut(i), idx.get(i))
                {
                    dst.clear();
                    if let Some(o) = ord.get(i) {
                        dst.extend(ix.iter().filter_map(|&j| o.get(j).copied()));
                    }
                }
            }
            let res = f(self.sh, &vectors, &sigs, ts)?;
            self.sh.add_samples(res.len())?;
            if instant {
                if !self.sh.delayed_name_removal && contains_same_labelset(&res) {
                    return Err(dup_labelset());
                }
                self.sh.sub_samples(held);
                return Ok(res
                    .into_iter()
                    .map(|e| Series {
                        metric: e.metric,
                        points: vec![Sample::new(ts, e.f)],
                        drop_name: e.drop_name,
                    })
                    .collect());
            }
            for e in res {
                match index.get_mut(&e.metric) {
                    Some((i, last)) => {
                        if *last == ts {
                            return Err(dup_labelset());
                        }
                        *last = ts;
                        if let Some(s) = out.get_mut(*i) {
                            s.points.push(Sample::new(ts, e.f));
                        }
                    }
                    None => {
                        index.insert(e.metric.clone(), (out.len(), ts));
                        out.push(Series {
                            metric: e.metric,
                            points: vec![Sample::new(ts, e.f)],
                            drop_name: e.drop_name,
                        });
                    }
                }
            }
        }
        self.sh.sub_samples(held);
        Ok(out)
    }
}

/// The error for duplicate output series.
pub(crate) fn dup_labelset() -> QueryError {
    QueryError::Execution("vector cannot contain metrics with the same labelset".into())
}

pub(crate) fn contains_same_labelset(v: &Vector) -> bool {
    if v.len() <= 1 {
        return false;
    }
    let mut seen = HashSet::with_capacity(v.len());
    v.iter().any(|e| !seen.insert(&e.metric))
}

/// True when two series of a matrix have the same labels.
pub(crate) fn contains_same_labelset_matrix(m: &Matrix) -> bool {
    if m.len() <= 1 {
        return false;
    }
    let mut seen = HashSet::with_capacity(m.len());
    m.iter().any(|s| !seen.insert(&s.metric))
}

/// The matching signature of a series: the values of the `on` labels, or of all labels but
/// `__name__` and the `ignoring` labels.
pub(crate) fn signature(l: &Labels, m: &VectorMatching) -> Vec<u8> {
    let mut out = Vec::new();
    for lb in l.iter() {
        let include = if m.on {
            m.matching_labels.iter().any(|n| n == lb.name)
        } else {
            lb.name != argus_model::METRIC_NAME && !m.matching_labels.iter().any(|n| n == lb.name)
        };
        if include {
            out.extend_from_slice(lb.name.as_bytes());
            out.push(0xff);
            out.extend_from_slice(lb.value.as_bytes());
            out.push(0xff);
        }
    }
    out
}

/// Signature ordinals for every series of every operand.
fn signature_ordinals(mats: &[Matrix], m: &VectorMatching) -> (Vec<Vec<usize>>, usize) {
    let mut map: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut out = Vec::with_capacity(mats.len());
    for mat in mats {
        let mut ords = Vec::with_capacity(mat.len());
        for s in mat {
            let sig = signature(&s.metric, m);
            let n = map.len();
            ords.push(*map.entry(sig).or_insert(n));
        }
        out.push(ords);
    }
    let n = map.len();
    (out, n)
}

/// Merges series that ended up with the same labels (after name removal); overlapping
/// timestamps are an error.
pub(crate) fn merge_same_labelset(m: Matrix) -> Result<Matrix, QueryError> {
    if m.len() <= 1 {
        return Ok(m);
    }
    {
        let mut seen = HashSet::with_capacity(m.len());
        if m.iter().all(|s| seen.insert(&s.metric)) {
            return Ok(m);
        }
    }
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut out: Matrix = Vec::new();
    let mut merged: Vec<bool> = Vec::new();
    for s in m {
        match index.get(&s.metric) {
            Some(&i) => {
                if let (Some(base), Some(flag)) = (out.get_mut(i), merged.get_mut(i)) {
                    base.points.extend(s.points);
                    *flag = true;
                }
            }
            None => {
                index.insert(s.metric.clone(), out.len());
                out.push(s);
                merged.push(false);
            }
        }
    }
    for (s, m) in out.iter_mut().zip(merged) {
        if m {
            s.points.sort_by_key(|p| p.t);
            if s.points
                .windows(2)
                .any(|w| w.first().map(|a| a.t) == w.get(1).map(|b| b.t))
            {
                return Err(dup_labelset());
            }
        }
    }
    Ok(out)
}

/// Delayed name removal at the end of evaluation.
pub(crate) fn cleanup_metric_labels(mut m: Matrix) -> Result<Matrix, QueryError> {
    for s in &mut m {
        if s.drop_name {
            s.metric = drop_metadata(&s.metric);
        }
    }
    merge_same_labelset(m)
}
