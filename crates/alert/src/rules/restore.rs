//! Restoring alerts' `for` state after a restart from `ALERTS_FOR_STATE` (Prometheus'
//! `Group.RestoreForState`), honouring `rules.alert.for-outage-tolerance` and
//! `rules.alert.for-grace-period`.

use std::collections::HashMap;

use argus_model::{is_stale_nan, Labels, Matcher, Queryable, SelectHints, METRIC_NAME};

use super::alerting::{AlertState, AlertingRule, ALERTNAME_LABEL, ALERTS_FOR_STATE_METRIC};

/// Restores the `for` state of one rule's current alerts at `ts_ms`. Returns how many alerts
/// got a restored `ActiveAt`.
pub(crate) fn restore_rule(
    rule: &mut AlertingRule,
    queryable: &dyn Queryable,
    ts_ms: i64,
    outage_tolerance_ms: i64,
    grace_period_ms: i64,
) -> Result<usize, String> {
    let hold = rule.hold_ms;
    if hold < grace_period_ms {
        // It would not wait longer than its own `for` anyway.
        rule.restored = true;
        return Ok(0);
    }
    if rule
        .active
        .values()
        .all(|a| a.state == AlertState::Inactive)
    {
        rule.restored = true;
        return Ok(0);
    }
    let mint = ts_ms - outage_tolerance_ms;
    let q = queryable.querier(mint, ts_ms).map_err(|e| e.to_string())?;
    let mut matchers = vec![
        Matcher::equal(METRIC_NAME, ALERTS_FOR_STATE_METRIC),
        Matcher::equal(ALERTNAME_LABEL, &rule.name),
    ];
    for (k, v) in &rule.labels {
        // Templated values differ per alert; only static ones narrow the selection.
        if !v.contains("{{") {
            matchers.push(Matcher::equal(k, v));
        }
    }
    let hints = SelectHints {
        start: mint,
        end: ts_ms,
        ..Default::default()
    };
    let mut set = q.select(false, Some(&hints), &matchers);
    let mut last: HashMap<Labels, (i64, f64)> = HashMap::new();
    while let Some(series) = set.next() {
        let series = series.map_err(|e| e.to_string())?;
        let mut it = series.iterator();
        let mut newest = None;
        while it.next() {
            let s = it.at();
            if s.t >= mint && s.t <= ts_ms {
                newest = Some((s.t, s.v));
            }
        }
        if let Some(e) = it.err() {
            return Err(e.to_string());
        }
        if let Some(n) = newest {
            last.insert(series.labels().without_metric_name(), n);
        }
    }
    let mut restored = 0;
    for a in rule.active.values_mut() {
        if a.state == AlertState::Inactive {
            continue;
        }
        let Some(&(t, v)) = last.get(&a.labels) else {
            continue;
        };
        if is_stale_nan(v) {
            continue;
        }
        // Prometheus works in whole seconds here.
        let down_at = t.div_euclid(1000) * 1000;
        let mut active_at = (v as i64) * 1000;
        let remaining = hold - (down_at - active_at);
        if remaining <= 0 {
            // It was firing when we went down; the next evaluation fires it again.
        } else if remaining < grace_period_ms {
            // Fire no earlier than a grace period from now.
            active_at = ts_ms + grace_period_ms - hold;
        } else {
            // The time we were down does not count as pending time.
            active_at += ts_ms - down_at;
        }
        a.active_at_ms = active_at;
        restored += 1;
    }
    rule.restored = true;
    Ok(restored)
}
