//! Query planning: from the parser's AST to the evaluation tree.
//!
//! This is Prometheus' `PreprocessExpr` plus `populateSeries`: `@ start()`/`@ end()` and
//! duration expressions (`step()`, `range()`) are resolved against the query's time range,
//! parentheses disappear, step-invariant sub-trees (those pinned by `@`) are marked so they
//! are evaluated once, and every selector gets the time range and `SelectHints` it will read
//! with, so one querier over the union of those ranges serves the whole query.

use argus_model::{Labels, LabelsBuilder, MatchOp, Matcher, SelectHints, METRIC_NAME};

use super::QueryError;
use crate::parser::{
    AggOp, AtModifier, BinOp, DurationParam, Expr, Function, PosRange, ValueType, VectorMatching,
    VectorSelector,
};

/// An instant vector selector in the plan.
#[derive(Debug, Clone)]
pub(crate) struct VectorSel {
    /// Index into [`Plan::selectors`].
    pub id: usize,
    /// Offset, ms.
    pub offset: i64,
    /// `@` timestamp, ms (start()/end() resolved).
    pub at: Option<i64>,
    pub anchored: bool,
    pub smoothed: bool,
}

/// A range vector selector.
#[derive(Debug, Clone)]
pub(crate) struct MatrixSel {
    pub vs: VectorSel,
    /// Range, ms.
    pub range: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct SubqueryNode {
    pub expr: Node,
    pub range: i64,
    /// Step, ms (the default already applied).
    pub step: i64,
    pub offset: i64,
    pub at: Option<i64>,
}

#[derive(Debug, Clone)]
pub(crate) struct CallNode {
    pub func: &'static Function,
    pub args: Vec<Node>,
    /// Span of each argument (annotations point at them).
    pub arg_pos: Vec<PosRange>,
    /// String literal arguments (None for other types).
    pub strings: Vec<Option<String>>,
    /// Exact bytes of string arguments that are not valid UTF-8 (for error messages).
    pub raw_strings: Vec<Option<Vec<u8>>>,
    /// Labels for `absent`/`absent_over_time` output.
    pub absent_labels: Labels,
}

#[derive(Debug, Clone)]
pub(crate) struct AggNode {
    pub op: AggOp,
    pub expr: Node,
    pub param: Option<Node>,
    /// Grouping labels, sorted.
    pub grouping: Vec<String>,
    pub without: bool,
    pub param_pos: PosRange,
    /// `count_values` label name (and its raw bytes when not UTF-8).
    pub count_values_label: Option<(String, Option<Vec<u8>>)>,
}

#[derive(Debug, Clone)]
pub(crate) struct BinNode {
    pub op: BinOp,
    pub lhs: Node,
    pub rhs: Node,
    pub matching: Option<VectorMatching>,
    pub return_bool: bool,
    pub lhs_type: ValueType,
    pub rhs_type: ValueType,
}

/// A node of the evaluation tree.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Number(f64),
    Str(String),
    Vector(Box<VectorSel>),
    Matrix(Box<MatrixSel>),
    Subquery(Box<SubqueryNode>),
    Call(Box<CallNode>),
    Aggregate(Box<AggNode>),
    Binary(Box<BinNode>),
    /// Unary minus.
    Neg(Box<Node>),
    /// A sub-tree whose value does not depend on the evaluation time: evaluated once at the
    /// first step and repeated.
    StepInvariant(Box<Node>),
}

impl Node {
    /// The node without a step-invariance wrapper.
    pub fn unwrap_invariant(&self) -> &Node {
        match self {
            Node::StepInvariant(n) => n,
            n => n,
        }
    }
}

/// What a selector reads.
#[derive(Debug, Clone)]
pub(crate) struct SelectorInfo {
    pub matchers: Vec<Matcher>,
    pub hints: SelectHints,
}

/// A planned query.
#[derive(Debug)]
pub(crate) struct Plan {
    pub root: Node,
    pub selectors: Vec<SelectorInfo>,
    /// Union of the selectors' time ranges (0, 0 when there are none).
    pub mint: i64,
    pub maxt: i64,
}

/// Functions whose result changes with the evaluation time even when their arguments don't
/// (Prometheus' `AtModifierUnsafeFunctions`).
fn at_unsafe(name: &str) -> bool {
    matches!(
        name,
        "days_in_month"
            | "day_of_month"
            | "day_of_week"
            | "day_of_year"
            | "hour"
            | "minute"
            | "month"
            | "year"
            | "predict_linear"
            | "time"
            | "timestamp"
    )
}

/// An enclosing subquery, for selector time ranges.
#[derive(Clone, Copy)]
struct SubqCtx {
    offset: i64,
    range: i64,
    at: Option<i64>,
    step: i64,
}

/// The ancestor of a selector that determines its hints.
#[derive(Clone)]
enum Parent {
    None,
    Func(&'static str),
    Agg(String, Vec<String>, bool),
    Binary,
}

struct Planner<'a> {
    start: i64,
    end: i64,
    step: i64,
    lookback: i64,
    default_subquery_step: &'a dyn Fn(i64) -> i64,
    selectors: Vec<SelectorInfo>,
    mint: i64,
    maxt: i64,
}

/// Plans `expr` for evaluation over `[start, end]` every `step` ms (0 for instant queries).
pub(crate) fn plan(
    expr: &Expr,
    start: i64,
    end: i64,
    step: i64,
    lookback: i64,
    default_subquery_step: &dyn Fn(i64) -> i64,
) -> Result<Plan, QueryError> {
    let mut p = Planner {
        start,
        end,
        step,
        lookback,
        default_subquery_step,
        selectors: Vec::new(),
        mint: i64::MAX,
        maxt: i64::MIN,
    };
    let node = p.build(expr, &[], &Parent::None)?;
    let (_, wrap) = step_invariance(&node);
    let root = if wrap {
        Node::StepInvariant(Box::new(node))
    } else {
        wrap_children(node)
    };
    let (mint, maxt) = if p.maxt == i64::MIN {
        (0, 0)
    } else {
        (p.mint, p.maxt)
    };
    Ok(Plan {
        root,
        selectors: p.selectors,
        mint,
        maxt,
    })
}

impl Planner<'_> {
    /// Resolves a range, step or offset. Ranges and steps must be positive: Prometheus 3
    /// checks computed duration expressions when it prepares the query (its
    /// `durationVisitor`), so the error is a `bad_data` one about the query. A plain literal
    /// 0 stays allowed (an empty window, or the default subquery step); a negative literal
    /// (`[-5m]`) is an expression with a unary minus and is refused like one, rather than
    /// reaching the storage as a time range that ends before it starts.
    fn resolve(&self, d: &DurationParam, allow_non_positive: bool) -> Result<i64, QueryError> {
        let ms = d.resolve(self.step, self.end - self.start);
        let bad = if d.expr.is_some() { ms <= 0 } else { ms < 0 };
        if bad && !allow_non_positive {
            return Err(QueryError::Parse(crate::parser::ParseError {
                pos: 0,
                message: "duration must be greater than 0".to_owned(),
            }));
        }
        Ok(ms)
    }

    fn at(&self, at: &Option<AtModifier>) -> Option<i64> {
        match at {
            Some(AtModifier::At(t)) => Some(*t),
            Some(AtModifier::Start) => Some(self.start),
            Some(AtModifier::End) => Some(self.end),
            None => None,
        }
    }

    fn selector(
        &mut self,
        vs: &VectorSelector,
        range: i64,
        subqs: &[SubqCtx],
        parent: &Parent,
    ) -> Result<VectorSel, QueryError> {
        let offset = self.resolve(&vs.offset, true)?;
        let at = self.at(&vs.at);
        // Time range as Prometheus' getTimeRangesForSelector computes it.
        let (mut s, mut e) = (self.start, self.end);
        let (mut sq_off, mut sq_range) = (0i64, 0i64);
        for sq in subqs {
            sq_off += sq.offset;
            sq_range += sq.range;
            if let Some(t) = sq.at {
                sq_off = sq.offset;
                sq_range = sq.range;
                s = t;
                e = t;
            }
        }
        if let Some(t) = at {
            s = t;
            e = t;
        } else {
            s = s - sq_off - sq_range;
            e -= sq_off;
        }
        if range == 0 {
            s -= self.lookback - 1;
            if vs.smoothed {
                e += self.lookback;
            }
        } else if vs.anchored {
            s -= self.lookback + range - 1;
        } else if vs.smoothed {
            s -= self.lookback + range - 1;
            e += self.lookback;
        } else {
            s -= range - 1;
        }
        s -= offset;
        e -= offset;
        self.mint = self.mint.min(s);
        self.maxt = self.maxt.max(e);
        let step = subqs.last().map_or(self.step, |sq| sq.step);
        let (func, grouping, by) = match parent {
            Parent::Func(f) => (Some((*f).to_owned()), Vec::new(), false),
            Parent::Agg(op, g, by) => (Some(op.clone()), g.clone(), *by),
            Parent::None | Parent::Binary => (None, Vec::new(), false),
        };
        let id = self.selectors.len();
        self.selectors.push(SelectorInfo {
            matchers: vs.matchers.clone(),
            hints: SelectHints {
                start: s,
                end: e,
                step,
                range,
                func,
                grouping,
                by,
            },
        });
        Ok(VectorSel {
            id,
            offset,
            at,
            anchored: vs.anchored,
            smoothed: vs.smoothed,
        })
    }

    fn build(&mut self, e: &Expr, subqs: &[SubqCtx], parent: &Parent) -> Result<Node, QueryError> {
        Ok(match e {
            Expr::Paren(p) => self.build(&p.expr, subqs, parent)?,
            Expr::NumberLiteral(n) => Node::Number(n.val),
            Expr::StringLiteral(s) => Node::Str(s.val.clone()),
            Expr::Unary(u) => {
                let inner = self.build(&u.expr, subqs, parent)?;
                if u.neg {
                    Node::Neg(Box::new(inner))
                } else {
                    inner
                }
            }
            Expr::VectorSelector(vs) => {
                Node::Vector(Box::new(self.selector(vs, 0, subqs, parent)?))
            }
            Expr::MatrixSelector(m) => {
                let range = self.resolve(&m.range, false)?;
                let vs = self.selector(&m.vs, range, subqs, parent)?;
                Node::Matrix(Box::new(MatrixSel { vs, range }))
            }
            Expr::Subquery(sq) => {
                let range = self.resolve(&sq.range, false)?;
                let mut step = self.resolve(&sq.step, false)?;
                if step <= 0 {
                    step = (self.default_subquery_step)(range);
                }
                let offset = self.resolve(&sq.offset, true)?;
                let at = self.at(&sq.at);
                let mut inner_subqs = subqs.to_vec();
                inner_subqs.push(SubqCtx {
                    offset,
                    range,
                    at,
                    step,
                });
                let expr = self.build(&sq.expr, &inner_subqs, &Parent::None)?;
                Node::Subquery(Box::new(SubqueryNode {
                    expr,
                    range,
                    step,
                    offset,
                    at,
                }))
            }
            Expr::Call(c) => self.build_call(c, subqs)?,
            Expr::Aggregate(a) => {
                let mut grouping = a.grouping.clone();
                grouping.sort();
                let agg_parent =
                    Parent::Agg(a.op.as_str().to_owned(), grouping.clone(), !a.without);
                let expr = self.build(&a.expr, subqs, &agg_parent)?;
                let param = match &a.param {
                    Some(p) => Some(self.build(p, subqs, &Parent::None)?),
                    None => None,
                };
                let count_values_label = match (a.op, a.param.as_deref().map(Expr::unparen)) {
                    (AggOp::CountValues, Some(Expr::StringLiteral(s))) => {
                        Some((s.val.clone(), s.raw.clone()))
                    }
                    _ => None,
                };
                Node::Aggregate(Box::new(AggNode {
                    op: a.op,
                    expr,
                    param,
                    grouping,
                    without: a.without,
                    param_pos: a.param.as_ref().map(|p| p.pos()).unwrap_or_default(),
                    count_values_label,
                }))
            }
            Expr::Binary(b) => {
                let lhs = self.build(&b.lhs, subqs, &Parent::Binary)?;
                let rhs = self.build(&b.rhs, subqs, &Parent::Binary)?;
                Node::Binary(Box::new(BinNode {
                    op: b.op,
                    lhs,
                    rhs,
                    matching: b.matching.clone(),
                    return_bool: b.return_bool,
                    lhs_type: b.lhs.value_type(),
                    rhs_type: b.rhs.value_type(),
                }))
            }
        })
    }

    fn build_call(
        &mut self,
        c: &crate::parser::Call,
        subqs: &[SubqCtx],
    ) -> Result<Node, QueryError> {
        // Experimental functions that only read the query's own parameters.
        let konst = match c.func.name {
            "start" => Some(self.start as f64 / 1000.0),
            "end" => Some(self.end as f64 / 1000.0),
            "range" => Some((self.end - self.start) as f64 / 1000.0),
            "step" => Some(self.step as f64 / 1000.0),
            _ => None,
        };
        if let Some(v) = konst {
            return Ok(Node::Number(v));
        }
        let parent = Parent::Func(c.func.name);
        let mut args = Vec::with_capacity(c.args.len());
        let mut arg_pos = Vec::with_capacity(c.args.len());
        let mut strings = Vec::with_capacity(c.args.len());
        let mut raw_strings = Vec::with_capacity(c.args.len());
        for a in &c.args {
            let a = a.unparen();
            arg_pos.push(a.pos());
            match a {
                Expr::StringLiteral(s) => {
                    strings.push(Some(s.val.clone()));
                    raw_strings.push(s.raw.clone());
                }
                _ => {
                    strings.push(None);
                    raw_strings.push(None);
                }
            }
            args.push(self.build(a, subqs, &parent)?);
        }
        let absent_labels = match c.args.first().map(Expr::unparen) {
            Some(Expr::VectorSelector(vs)) => absent_labels(&vs.matchers),
            Some(Expr::MatrixSelector(m)) => absent_labels(&m.vs.matchers),
            _ => Labels::empty(),
        };
        Ok(Node::Call(Box::new(CallNode {
            func: c.func,
            args,
            arg_pos,
            strings,
            raw_strings,
            absent_labels,
        })))
    }
}

/// The labels `absent()` reports: those matched exactly by a single equality matcher
/// (Prometheus' `createLabelsForAbsentFunction`).
fn absent_labels(ms: &[Matcher]) -> Labels {
    let mut b = LabelsBuilder::new();
    let mut has: Vec<&str> = Vec::new();
    for m in ms {
        if m.name == METRIC_NAME {
            continue;
        }
        if m.op == MatchOp::Equal && !has.contains(&m.name.as_str()) {
            b.set(&m.name, &m.value);
            has.push(&m.name);
        } else {
            b.del(&m.name);
        }
    }
    b.build()
}

/// (is the sub-tree step invariant, should it be wrapped) as Prometheus'
/// `preprocessExprHelper`.
fn step_invariance(n: &Node) -> (bool, bool) {
    match n {
        Node::Vector(vs) => (vs.at.is_some(), vs.at.is_some()),
        Node::Matrix(m) => (m.vs.at.is_some(), false),
        Node::Subquery(s) => (s.at.is_some(), s.at.is_some()),
        Node::Aggregate(a) => step_invariance(&a.expr),
        Node::Binary(b) => {
            let (l, _) = step_invariance(&b.lhs);
            let (r, _) = step_invariance(&b.rhs);
            if l && r {
                (true, true)
            } else {
                (false, false)
            }
        }
        Node::Call(c) => {
            let mut inv = !at_unsafe(c.func.name);
            for a in &c.args {
                inv &= step_invariance(a).0;
            }
            if inv {
                (true, true)
            } else {
                (false, false)
            }
        }
        Node::Neg(x) => step_invariance(x),
        Node::Number(_) | Node::Str(_) => (true, false),
        Node::StepInvariant(_) => (true, false),
    }
}

/// Wraps the highest step-invariant sub-trees below a node that is not itself invariant.
fn wrap_children(n: Node) -> Node {
    let wrap = |c: Node| -> Node {
        let (_, w) = step_invariance(&c);
        if w {
            Node::StepInvariant(Box::new(c))
        } else {
            wrap_children(c)
        }
    };
    match n {
        Node::Binary(mut b) => {
            let (l, _) = step_invariance(&b.lhs);
            let (r, _) = step_invariance(&b.rhs);
            if !(l && r) {
                b.lhs = wrap(b.lhs);
                b.rhs = wrap(b.rhs);
            }
            Node::Binary(b)
        }
        Node::Call(mut c) => {
            // Matrix arguments and subqueries are never wrapped: range functions evaluate
            // them directly (a pinned subquery is evaluated at its own fixed time).
            c.args = c
                .args
                .into_iter()
                .map(|a| match a {
                    Node::Matrix(_) => a,
                    Node::Subquery(mut s) => {
                        s.expr = wrap_subquery_inner(s.expr);
                        Node::Subquery(s)
                    }
                    a => wrap(a),
                })
                .collect();
            Node::Call(c)
        }
        Node::Aggregate(mut a) => {
            a.expr = wrap_children(a.expr);
            Node::Aggregate(a)
        }
        Node::Neg(x) => Node::Neg(Box::new(wrap_children(*x))),
        Node::Subquery(mut s) => {
            s.expr = wrap_subquery_inner(s.expr);
            Node::Subquery(s)
        }
        n => n,
    }
}

fn wrap_subquery_inner(n: Node) -> Node {
    let (inv, _) = step_invariance(&n);
    if inv {
        Node::StepInvariant(Box::new(n))
    } else {
        wrap_children(n)
    }
}
