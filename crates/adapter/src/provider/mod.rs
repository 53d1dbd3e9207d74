//! Turning API requests into PromQL against the in-process engine, and results into
//! Kubernetes objects.

pub mod custom;
pub mod external;
pub mod objects;
pub mod resource;

use argus_model::Labels;
use argus_query::Value;

/// The rate window of a rendered query, in seconds: the range of its range selectors
/// when they all agree (`rate(x[2m])` → 120), else `None`.
pub fn window_seconds(query: &str) -> Option<i64> {
    // Drop string literals first: regex matchers may contain brackets.
    let mut code = String::with_capacity(query.len());
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in query.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' && q != '`' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None if matches!(c, '"' | '\'' | '`') => quote = Some(c),
            None => code.push(c),
        }
    }
    let mut found: Option<i64> = None;
    let mut rest = code.as_str();
    while let Some(open) = rest.find('[') {
        let after = rest.get(open + 1..)?;
        let close = after.find(']')?;
        let inner = after.get(..close)?;
        // A subquery `[5m:1m]` has its range first.
        let range = inner.split(':').next().unwrap_or("").trim();
        let ms = argus_model::parse_duration_ms(range).ok()?;
        let s = ms / 1000;
        match found {
            None => found = Some(s),
            Some(f) if f == s => {}
            Some(_) => return None,
        }
        rest = after.get(close + 1..)?;
    }
    found
}

/// A query result as (labels, t ms, value) rows; scalars become one row without labels.
pub(crate) fn rows(value: Value) -> Vec<(Labels, i64, f64)> {
    match value {
        Value::Vector(v) => v.into_iter().map(|s| (s.labels, s.t, s.v)).collect(),
        Value::Scalar(t, v) => vec![(Labels::empty(), t, v)],
        Value::String(..) | Value::Matrix(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows() {
        assert_eq!(
            window_seconds("sum(rate(x{a=\"b\"}[2m])) by (pod)"),
            Some(120)
        );
        assert_eq!(window_seconds("rate(x[1m]) / rate(y[1m])"), Some(60));
        assert_eq!(window_seconds("rate(x[1m]) / rate(y[5m])"), None);
        assert_eq!(window_seconds("max_over_time(rate(x[1m])[5m:30s])"), None);
        assert_eq!(window_seconds("sum(x)"), None);
        assert_eq!(window_seconds("x[bogus]"), None);
        assert_eq!(
            window_seconds(r#"rate(x{pod=~"a[0-9]\"]"}[30s])"#),
            Some(30)
        );
    }
}
