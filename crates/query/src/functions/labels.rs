//! Label manipulation and ordering: `label_replace`, `label_join`, `sort`, `sort_desc`,
//! `sort_by_label`, `sort_by_label_desc`.

use std::cmp::Ordering;

use argus_model::{LabelsBuilder, METRIC_NAME};
use regex::Regex;

use crate::engine::eval::{merge_same_labelset, Evaluator};
use crate::engine::plan::CallNode;
use crate::engine::value::{Matrix, Vector};
use crate::engine::QueryError;

/// Prometheus' UTF-8 label name validation: non-empty and valid UTF-8.
fn valid_label_name(name: &str, raw: Option<&Vec<u8>>) -> bool {
    !name.is_empty() && raw.is_none()
}

fn string_arg(c: &CallNode, i: usize) -> Result<(&str, Option<&Vec<u8>>), QueryError> {
    let s = c
        .strings
        .get(i)
        .and_then(|s| s.as_deref())
        .ok_or_else(|| QueryError::Execution(format!("BUG: argument {i} is not a string")))?;
    Ok((s, c.raw_strings.get(i).and_then(Option::as_ref)))
}

/// The string as Go prints `%s` of a possibly non-UTF-8 value.
fn display(s: &str, raw: Option<&Vec<u8>>) -> String {
    match raw {
        Some(b) => String::from_utf8_lossy(b).into_owned(),
        None => s.to_owned(),
    }
}

pub(crate) fn label_replace(
    ev: &mut Evaluator<'_, '_>,
    c: &CallNode,
) -> Result<Matrix, QueryError> {
    let (dst, dst_raw) = string_arg(c, 1)?;
    let (repl, _) = string_arg(c, 2)?;
    let (src, _) = string_arg(c, 3)?;
    let (re, _) = string_arg(c, 4)?;
    let regex = Regex::new(&format!("^(?s:{re})$")).map_err(|_| {
        QueryError::Execution(format!(
            "invalid regular expression in label_replace(): {re}"
        ))
    })?;
    if !valid_label_name(dst, dst_raw) {
        return Err(QueryError::Execution(format!(
            "invalid destination label name in label_replace(): {}",
            display(dst, dst_raw)
        )));
    }
    let arg = c
        .args
        .first()
        .ok_or_else(|| QueryError::Execution("BUG: label_replace without vector".into()))?;
    let mut m = ev.eval_matrix(arg)?;
    for s in &mut m {
        let v = s.metric.get_or_empty(src);
        if let Some(caps) = regex.captures(v) {
            let mut res = String::new();
            caps.expand(repl, &mut res);
            let mut b = LabelsBuilder::from(&s.metric);
            b.set(dst, &res);
            s.metric = b.build();
            if dst == METRIC_NAME {
                s.drop_name = false;
            }
        }
    }
    merge_same_labelset(m)
}

pub(crate) fn label_join(ev: &mut Evaluator<'_, '_>, c: &CallNode) -> Result<Matrix, QueryError> {
    let (dst, dst_raw) = string_arg(c, 1)?;
    let (sep, _) = string_arg(c, 2)?;
    let mut srcs = Vec::new();
    for i in 3..c.args.len() {
        let (s, raw) = string_arg(c, i)?;
        if !valid_label_name(s, raw) {
            return Err(QueryError::Execution(format!(
                "invalid source label name in label_join(): {}",
                display(s, raw)
            )));
        }
        srcs.push(s);
    }
    if !valid_label_name(dst, dst_raw) {
        return Err(QueryError::Execution(format!(
            "invalid destination label name in label_join(): {}",
            display(dst, dst_raw)
        )));
    }
    let arg = c
        .args
        .first()
        .ok_or_else(|| QueryError::Execution("BUG: label_join without vector".into()))?;
    let mut m = ev.eval_matrix(arg)?;
    for s in &mut m {
        let joined = srcs
            .iter()
            .map(|l| s.metric.get_or_empty(l))
            .collect::<Vec<_>>()
            .join(sep);
        let mut b = LabelsBuilder::from(&s.metric);
        b.set(dst, &joined);
        s.metric = b.build();
        if dst == METRIC_NAME {
            s.drop_name = false;
        }
    }
    merge_same_labelset(m)
}

/// Ascending by value, NaN last (`sort`); `desc` for `sort_desc`.
pub(crate) fn sort_by_value(mut v: Vector, desc: bool) -> Vector {
    v.sort_by(|a, b| match (a.f.is_nan(), b.f.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => {
            let o = a.f.partial_cmp(&b.f).unwrap_or(Ordering::Equal);
            if desc {
                o.reverse()
            } else {
                o
            }
        }
    });
    v
}

/// Splits into runs of digits and non-digits.
fn chunks(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev_digit = None;
    for (i, c) in s.char_indices() {
        let d = c.is_ascii_digit();
        if prev_digit.is_some_and(|p| p != d) {
            out.push(s.get(start..i).unwrap_or(""));
            start = i;
        }
        prev_digit = Some(d);
    }
    if start < s.len() {
        out.push(s.get(start..).unwrap_or(""));
    }
    out
}

/// Natural "less than" (facette/natsort, as Prometheus uses it): digit runs compare as
/// integers.
pub(crate) fn natural_less(a: &str, b: &str) -> bool {
    let (ca, cb) = (chunks(a), chunks(b));
    for (i, x) in ca.iter().enumerate() {
        let Some(y) = cb.get(i) else {
            return false;
        };
        let last_a = i + 1 == ca.len();
        let last_b = i + 1 == cb.len();
        if let (Ok(xi), Ok(yi)) = (x.parse::<i64>(), y.parse::<i64>()) {
            if xi == yi {
                if last_a {
                    return true;
                } else if last_b {
                    return false;
                }
                continue;
            }
            return xi < yi;
        }
        if x == y {
            if last_a {
                return true;
            } else if last_b {
                return false;
            }
            continue;
        }
        return x < y;
    }
    false
}

/// `sort_by_label(v, labels...)` (`desc` reverses).
pub(crate) fn sort_by_label(mut v: Vector, labels: &[String], desc: bool) -> Vector {
    v.sort_by(|a, b| {
        for l in labels {
            let (x, y) = (a.metric.get_or_empty(l), b.metric.get_or_empty(l));
            if x == y {
                continue;
            }
            let o = if natural_less(x, y) {
                Ordering::Less
            } else {
                Ordering::Greater
            };
            return if desc { o.reverse() } else { o };
        }
        let o = a.metric.cmp(&b.metric);
        if desc {
            o.reverse()
        } else {
            o
        }
    });
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        assert!(natural_less("a2", "a10"));
        assert!(!natural_less("a10", "a2"));
        assert!(natural_less("abc", "abd"));
        assert!(
            natural_less("1", "1"),
            "equal strings compare as less, like natsort"
        );
        assert_eq!(chunks("ab12cd3"), vec!["ab", "12", "cd", "3"]);
    }
}
