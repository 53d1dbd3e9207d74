//! Binary operators: scalar/scalar, vector/scalar and vector/vector with label matching
//! (`on`, `ignoring`, `group_left`, `group_right`, `fill*`) and the set operators, following
//! Prometheus' `VectorBinop`, `VectorscalarBinop`, `VectorAnd/Or/Unless`.

use std::collections::{HashMap, HashSet};

use argus_model::{Labels, LabelsBuilder, METRIC_NAME};

use super::eval::{Evaluator, Shared, Signatures};
use super::plan::BinNode;
use super::value::{drop_metadata, Elem, Matrix, Vector};
use super::QueryError;
use crate::parser::{BinOp, Card, ValueType, VectorMatching};

/// The value of a float binary operation, and whether a comparison keeps the sample.
pub(crate) fn float_binop(op: BinOp, l: f64, r: f64) -> (f64, bool) {
    match op {
        BinOp::Add => (l + r, true),
        BinOp::Sub => (l - r, true),
        BinOp::Mul => (l * r, true),
        BinOp::Div => (l / r, true),
        BinOp::Pow => (l.powf(r), true),
        BinOp::Mod => (l % r, true),
        BinOp::Atan2 => (l.atan2(r), true),
        BinOp::Eql => (l, l == r),
        BinOp::Neq => (l, l != r),
        BinOp::Gtr => (l, l > r),
        BinOp::Lss => (l, l < r),
        BinOp::Gte => (l, l >= r),
        BinOp::Lte => (l, l <= r),
        // Set operators never reach element-wise evaluation.
        BinOp::And | BinOp::Or | BinOp::Unless => (l, true),
    }
}

/// Scalar-scalar operation (comparisons yield 0 or 1).
pub(crate) fn scalar_binop(op: BinOp, l: f64, r: f64) -> f64 {
    let (v, keep) = float_binop(op, l, r);
    if op.is_comparison() {
        if keep {
            1.0
        } else {
            0.0
        }
    } else {
        v
    }
}

/// Prometheus' `Labels.MatchLabels`: the `on` labels, or all but `__name__` and the
/// `ignoring` labels.
pub(crate) fn match_labels(l: &Labels, m: &VectorMatching) -> Labels {
    if m.on {
        l.filter(|x| m.matching_labels.iter().any(|n| n == x.name))
    } else {
        l.filter(|x| x.name != METRIC_NAME && !m.matching_labels.iter().any(|n| n == x.name))
    }
}

impl Evaluator<'_, '_> {
    pub(crate) fn eval_binary(&mut self, b: &BinNode) -> Result<Matrix, QueryError> {
        let delayed = self.sh.delayed_name_removal;
        match (b.lhs_type, b.rhs_type) {
            (ValueType::Scalar, ValueType::Scalar) => {
                let op = b.op;
                self.range_eval(&[&b.lhs, &b.rhs], None, |_, v, _, _| {
                    let l = v.first().and_then(|x| x.first()).map_or(f64::NAN, |e| e.f);
                    let r = v.get(1).and_then(|x| x.first()).map_or(f64::NAN, |e| e.f);
                    Ok(vec![Elem {
                        metric: Labels::empty(),
                        t: 0,
                        f: scalar_binop(op, l, r),
                        drop_name: false,
                    }])
                })
            }
            (ValueType::Vector, ValueType::Vector) => {
                let matching = b.matching.clone().unwrap_or_default();
                let (op, rb) = (b.op, b.return_bool);
                self.range_eval(&[&b.lhs, &b.rhs], Some(&matching), |sh, v, sigs, _| {
                    let empty = Vec::new();
                    let (l, r) = (v.first().unwrap_or(&empty), v.get(1).unwrap_or(&empty));
                    let no = Vec::new();
                    let (ls, rs) = (
                        sigs.elems.first().unwrap_or(&no),
                        sigs.elems.get(1).unwrap_or(&no),
                    );
                    match op {
                        BinOp::And => Ok(vector_and(l, r, ls, rs, sigs)),
                        BinOp::Or => Ok(vector_or(l, r, ls, rs, sigs)),
                        BinOp::Unless => Ok(vector_unless(l, r, ls, rs, sigs)),
                        _ => vector_binop(sh, op, l, r, ls, rs, &matching, rb, delayed),
                    }
                })
            }
            (ValueType::Vector, _) | (_, ValueType::Vector) => {
                let swap = b.lhs_type == ValueType::Scalar;
                let (op, rb) = (b.op, b.return_bool);
                self.range_eval(&[&b.lhs, &b.rhs], None, |_, v, _, _| {
                    let empty = Vec::new();
                    let (vec, sc) = if swap {
                        (v.get(1).unwrap_or(&empty), v.first())
                    } else {
                        (v.first().unwrap_or(&empty), v.get(1))
                    };
                    let s = sc.and_then(|x| x.first()).map_or(f64::NAN, |e| e.f);
                    Ok(vector_scalar_binop(op, vec, s, swap, rb, delayed))
                })
            }
            _ => Err(QueryError::Execution(
                "BUG: binary operation on unsupported types".into(),
            )),
        }
    }
}

fn vector_and(l: &Vector, r: &Vector, ls: &[usize], rs: &[usize], sigs: &Signatures) -> Vector {
    if l.is_empty() || r.is_empty() {
        return Vector::new();
    }
    let mut present = vec![false; sigs.count];
    for &s in rs {
        if let Some(p) = present.get_mut(s) {
            *p = true;
        }
    }
    l.iter()
        .zip(ls)
        .filter(|(_, s)| present.get(**s).copied().unwrap_or(false))
        .map(|(e, _)| e.clone())
        .collect()
}

fn vector_or(l: &Vector, r: &Vector, ls: &[usize], rs: &[usize], sigs: &Signatures) -> Vector {
    if l.is_empty() {
        return r.clone();
    }
    if r.is_empty() {
        return l.clone();
    }
    let mut present = vec![false; sigs.count];
    let mut out = Vec::with_capacity(l.len() + r.len());
    for (e, &s) in l.iter().zip(ls) {
        if let Some(p) = present.get_mut(s) {
            *p = true;
        }
        out.push(e.clone());
    }
    for (e, &s) in r.iter().zip(rs) {
        if !present.get(s).copied().unwrap_or(false) {
            out.push(e.clone());
        }
    }
    out
}

fn vector_unless(l: &Vector, r: &Vector, ls: &[usize], rs: &[usize], sigs: &Signatures) -> Vector {
    if l.is_empty() || r.is_empty() {
        return l.clone();
    }
    let mut present = vec![false; sigs.count];
    for &s in rs {
        if let Some(p) = present.get_mut(s) {
            *p = true;
        }
    }
    l.iter()
        .zip(ls)
        .filter(|(_, s)| !present.get(**s).copied().unwrap_or(false))
        .map(|(e, _)| e.clone())
        .collect()
}

/// Labels of a vector-vector result (Prometheus' `resultMetric`).
fn result_metric(l: &Labels, r: &Labels, op: BinOp, m: &VectorMatching) -> Labels {
    let mut b = LabelsBuilder::from(l);
    if op.changes_metric_schema() {
        b.del("__name__").del("__type__").del("__unit__");
    }
    if m.card == Card::OneToOne {
        if m.on {
            b.keep(&m.matching_labels);
        } else {
            for n in &m.matching_labels {
                b.del(n);
            }
        }
    }
    for n in &m.include {
        match r.get(n) {
            Some(v) => b.set(n, v),
            None => b.del(n),
        };
    }
    b.build()
}

#[allow(clippy::too_many_arguments)]
fn vector_binop(
    _sh: &mut Shared<'_>,
    op: BinOp,
    lhs: &Vector,
    rhs: &Vector,
    lsigs: &[usize],
    rsigs: &[usize],
    m: &VectorMatching,
    return_bool: bool,
    delayed: bool,
) -> Result<Vector, QueryError> {
    let has_fill = m.fill_lhs.is_some() || m.fill_rhs.is_some();
    if (lhs.is_empty() && rhs.is_empty()) || ((lhs.is_empty() || rhs.is_empty()) && !has_fill) {
        return Ok(Vector::new());
    }
    // For one-to-many, swap sides and remember to swap back when computing values.
    let swapped = m.card == Card::OneToMany;
    let (lhs, rhs, lsigs, rsigs) = if swapped {
        (rhs, lhs, rsigs, lsigs)
    } else {
        (lhs, rhs, lsigs, rsigs)
    };
    // As in Prometheus, the fill values are not swapped with the sides: `fill_right` fills
    // for unmatched elements of the (swapped) left side, `fill_left` for the right side.
    let (fill_for_rhs, fill_for_lhs) = (m.fill_rhs, m.fill_lhs);
    let mut right: HashMap<usize, &Elem> = HashMap::with_capacity(rhs.len());
    for (rs, &sig) in rhs.iter().zip(rsigs) {
        if let Some(dup) = right.get(&sig) {
            let one_side = if swapped { "left" } else { "right" };
            let group = match_labels(&rs.metric, m);
            let (a, b) = if dup.metric <= rs.metric {
                (&dup.metric, &rs.metric)
            } else {
                (&rs.metric, &dup.metric)
            };
            return Err(QueryError::Execution(format!(
                "found duplicate series for the match group {group} on the {one_side} hand-side of the operation: [{a}, {b}];many-to-many matching not allowed: matching labels must be unique on one side"
            )));
        }
        right.insert(sig, rs);
    }
    // One-to-one: which signatures matched. Many-to-one: result labels per signature.
    let mut st = BinopState {
        matched: HashMap::with_capacity(right.len()),
        out: Vector::new(),
    };
    let ctx = BinopCtx {
        op,
        m,
        swapped,
        return_bool,
        delayed,
    };
    for (ls, &sig) in lhs.iter().zip(lsigs) {
        match right.get(&sig) {
            Some(rs) => ctx.apply(&mut st, ls, rs, sig)?,
            None => {
                if let Some(fill) = fill_for_rhs {
                    let rs = Elem {
                        metric: match_labels(&ls.metric, m),
                        t: 0,
                        f: fill,
                        drop_name: false,
                    };
                    ctx.apply(&mut st, ls, &rs, sig)?;
                }
            }
        }
    }
    if let Some(fill) = fill_for_lhs {
        let mut unmatched: Vec<(usize, &Elem)> = right
            .iter()
            .filter(|(sig, _)| !st.matched.contains_key(sig))
            .map(|(s, e)| (*s, *e))
            .collect();
        unmatched.sort_by(|a, b| a.1.metric.cmp(&b.1.metric));
        for (sig, rs) in unmatched {
            let ls = Elem {
                metric: match_labels(&rs.metric, m),
                t: 0,
                f: fill,
                drop_name: false,
            };
            ctx.apply(&mut st, &ls, rs, sig)?;
        }
    }
    Ok(st.out)
}

struct BinopState {
    matched: HashMap<usize, HashSet<Labels>>,
    out: Vector,
}

struct BinopCtx<'a> {
    op: BinOp,
    m: &'a VectorMatching,
    swapped: bool,
    return_bool: bool,
    delayed: bool,
}

impl BinopCtx<'_> {
    /// One matched pair (Prometheus' `doBinOp`).
    fn apply(
        &self,
        st: &mut BinopState,
        ls: &Elem,
        rs: &Elem,
        sig: usize,
    ) -> Result<(), QueryError> {
        let (fl, fr) = if self.swapped {
            (rs.f, ls.f)
        } else {
            (ls.f, rs.f)
        };
        let (mut v, keep) = float_binop(self.op, fl, fr);
        if self.return_bool {
            v = if keep { 1.0 } else { 0.0 };
        }
        let mut metric = result_metric(&ls.metric, &rs.metric, self.op, self.m);
        if !self.delayed && self.return_bool {
            metric = drop_metadata(&metric);
        }
        if self.m.card == Card::OneToOne {
            if st.matched.contains_key(&sig) {
                return Err(QueryError::Execution(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)".into(),
                ));
            }
            st.matched.insert(sig, HashSet::new());
        } else {
            let set = st.matched.entry(sig).or_default();
            if !set.insert(metric.clone()) {
                return Err(QueryError::Execution(
                    "multiple matches for labels: grouping labels must ensure unique matches"
                        .into(),
                ));
            }
        }
        if !keep && !self.return_bool {
            return Ok(());
        }
        st.out.push(Elem {
            metric,
            t: 0,
            f: v,
            drop_name: self.return_bool,
        });
        Ok(())
    }
}

fn vector_scalar_binop(
    op: BinOp,
    lhs: &Vector,
    scalar: f64,
    swap: bool,
    return_bool: bool,
    delayed: bool,
) -> Vector {
    let mut out = Vector::with_capacity(lhs.len());
    for e in lhs {
        let (l, r) = if swap { (scalar, e.f) } else { (e.f, scalar) };
        let (mut v, mut keep) = float_binop(op, l, r);
        // A comparison keeps the vector element's value even when it is on the right.
        if op.is_comparison() && swap {
            v = e.f;
        }
        if return_bool {
            v = if keep { 1.0 } else { 0.0 };
            keep = true;
        }
        if keep {
            let mut el = e.clone();
            el.f = v;
            if op.changes_metric_schema() || return_bool {
                if !delayed {
                    el.metric = drop_metadata(&el.metric);
                }
                el.drop_name = true;
            }
            out.push(el);
        }
    }
    out
}
