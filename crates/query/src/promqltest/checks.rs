//! The extra invariants Prometheus' test runner checks on every instant eval (`FORMAT.md`
//! §6.5): the result must not depend on the evaluation time once every selector is pinned
//! with `@`, and a range query around the eval time must agree with the instant query.

use super::run::{compare_range_point, TestStorage};
use super::script::Eval;
use crate::engine::{Engine, QueryOptions, Value};
use crate::parser::{parse, AtModifier, Expr};

/// Functions that read the evaluation time or the query's own range, which make both
/// invariants inapplicable.
const TIME_DEPENDENT: &[&str] = &[
    "time",
    "timestamp",
    "predict_linear",
    "minute",
    "hour",
    "day_of_week",
    "day_of_month",
    "day_of_year",
    "days_in_month",
    "month",
    "year",
];
const RANGE_DEPENDENT: &[&str] = &["start", "end", "range", "step"];

fn calls_any(e: &Expr, names: &[&str]) -> bool {
    let mut found = false;
    e.inspect(&mut |n, _| {
        if let Expr::Call(c) = n {
            found |= names.contains(&c.func.name);
        }
    });
    found
}

/// Pins every selector and subquery without `@` (outside pinned subqueries) to `t`.
fn pin(e: &mut Expr, t: i64) {
    match e {
        Expr::VectorSelector(vs) => {
            vs.at.get_or_insert(AtModifier::At(t));
        }
        Expr::MatrixSelector(m) => {
            m.vs.at.get_or_insert(AtModifier::At(t));
        }
        // Selectors inside a (now) pinned subquery stay as they are.
        Expr::Subquery(s) => {
            s.at.get_or_insert(AtModifier::At(t));
        }
        Expr::Aggregate(a) => {
            pin(&mut a.expr, t);
            if let Some(p) = a.param.as_deref_mut() {
                pin(p, t);
            }
        }
        Expr::Unary(u) => pin(&mut u.expr, t),
        Expr::Binary(b) => {
            pin(&mut b.lhs, t);
            pin(&mut b.rhs, t);
        }
        Expr::Paren(p) => pin(&mut p.expr, t),
        Expr::Call(c) => c.args.iter_mut().for_each(|a| pin(a, t)),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) => {}
    }
}

/// Runs the §6.5 checks for an instant eval whose main run already passed; `expected`
/// compares a result value with the eval's expectations.
pub(crate) fn extra_instant_checks(
    engine: &Engine,
    storage: &dyn TestStorage,
    ev: &Eval,
    t: i64,
    expected: &dyn Fn(&Value) -> Result<(), String>,
) -> Result<(), String> {
    let Ok(expr) = parse(&ev.query) else {
        return Ok(());
    };
    let opts = QueryOptions::default();
    let lower_q = ev.query.to_ascii_lowercase();
    let dynamic = lower_q.contains("step()") || lower_q.contains("range()");
    if !calls_any(&expr, TIME_DEPENDENT) && !calls_any(&expr, RANGE_DEPENDENT) && !dynamic {
        let mut pinned = expr.clone();
        pin(&mut pinned, t);
        let times = if t == 0 {
            vec![-1000, 0, 1000]
        } else {
            vec![-10 * t, 0, t / 5, t, 10 * t]
        };
        for at in times {
            let r = engine
                .instant_query_expr(storage, &pinned, at, &opts)
                .map_err(|e| format!("@-pinned query at {at} failed: {e}"))?;
            expected(&r.value).map_err(|e| format!("@-pinned query {pinned} at {at}: {e}"))?;
        }
    }
    let lower = ev.query.to_ascii_lowercase();
    let dynamic_durations = lower.contains("step()") || lower.contains("range()");
    let skip_range = dynamic_durations
        || ev.expect.ordered
        || ev.expect.string.is_some()
        || ev.expect.range_vector.is_some()
        || calls_any(&expr, RANGE_DEPENDENT)
        || !matches!(
            expr.value_type(),
            crate::parser::ValueType::Vector | crate::parser::ValueType::Scalar
        );
    if !skip_range {
        let r = engine
            .range_query(storage, &ev.query, t - 60_000, t + 60_000, 60_000, &opts)
            .map_err(|e| format!("range query around {t} failed: {e}"))?;
        compare_range_point(ev, &r.value, t).map_err(|e| format!("range query around {t}: {e}"))?;
    }
    Ok(())
}
