//! Rule evaluation over simulated time with MemStorage: the alert state machine, what is
//! written and sent, recording rules, staleness, limits, failures, templates.

#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use argus_alert::rules::alerting::AlertState;
use argus_alert::rules::Rule;
use argus_model::{is_stale_nan, Labels};
use common::{fill, Setup, MIN};

const ALERT_RULES: &str = r#"groups:
- name: g
  interval: 1m
  rules:
  - alert: High
    expr: x > 0
    for: 2m
    labels: {severity: page}
    annotations: {summary: "{{ $labels.job }} is {{ $value }}"}
"#;

fn alert_state(s: &Setup) -> Vec<(AlertState, i64)> {
    let g = &s.mgr.groups()[0];
    let r = g.rules()[0].lock();
    let Rule::Alerting(a) = &*r else { panic!() };
    a.active
        .values()
        .map(|x| (x.state, x.active_at_ms))
        .collect()
}

#[test]
fn pending_firing_resolved_and_resent() {
    let s = Setup::new(ALERT_RULES, |_| {});
    let x = Labels::from_pairs(&[("__name__", "x"), ("job", "a")]);
    fill(&s.storage, &x, 0, 5 * MIN, 1.0);
    fill(&s.storage, &x, 6 * MIN, 30 * MIN, 0.0);

    s.eval(0);
    assert_eq!(alert_state(&s), vec![(AlertState::Pending, 0)]);
    assert!(s.sender.take().is_empty(), "pending alerts are not sent");
    s.eval(MIN);
    assert_eq!(alert_state(&s), vec![(AlertState::Pending, 0)]);
    s.eval(2 * MIN);
    assert_eq!(alert_state(&s), vec![(AlertState::Firing, 0)]);
    let sent = s.sender.take();
    assert_eq!(sent.len(), 1);
    let a = &sent[0];
    assert_eq!(
        a.labels,
        Labels::from_pairs(&[("alertname", "High"), ("job", "a"), ("severity", "page")])
    );
    assert_eq!(a.annotations, Labels::from_pairs(&[("summary", "a is 1")]));
    assert_eq!(
        (a.starts_at_ms, a.ends_at_ms),
        (2 * MIN, 6 * MIN),
        "endsAt = 4 × resend delay"
    );
    assert_eq!(
        a.generator_url,
        "http://argus.example:9090/graph?g0.expr=x+%3E+0&g0.tab=1"
    );
    s.eval(3 * MIN);
    assert!(s.sender.take().is_empty(), "resend delay is 1m");
    s.eval(4 * MIN);
    assert_eq!(s.sender.take()[0].ends_at_ms, 8 * MIN);

    // Condition clears: resolved, sent at once with endsAt = resolution time.
    s.eval(6 * MIN);
    assert_eq!(alert_state(&s), vec![(AlertState::Inactive, 0)]);
    let sent = s.sender.take();
    assert_eq!((sent.len(), sent[0].ends_at_ms), (1, 6 * MIN));
    s.eval(7 * MIN);
    assert!(s.sender.take().is_empty());
    s.eval(8 * MIN);
    assert_eq!(
        s.sender.take()[0].ends_at_ms,
        6 * MIN,
        "resolved alerts are re-sent"
    );
    // Kept for 15 minutes, then forgotten.
    s.eval(21 * MIN);
    assert_eq!(alert_state(&s).len(), 1);
    s.eval(22 * MIN);
    assert!(alert_state(&s).is_empty());

    // ALERTS: pending at 0..1m, firing 2m..4m, stale at 6m; ALERTS_FOR_STATE = activeAt.
    let alerts = s.series("ALERTS");
    let pending = alerts
        .iter()
        .find(|(l, _)| l.get("alertstate") == Some("pending"))
        .unwrap();
    assert_eq!(
        pending.1.iter().map(|x| x.t).collect::<Vec<_>>(),
        vec![0, MIN, 2 * MIN]
    );
    assert!(
        is_stale_nan(pending.1[2].v),
        "pending series goes stale when it fires"
    );
    let firing = alerts
        .iter()
        .find(|(l, _)| l.get("alertstate") == Some("firing"))
        .unwrap();
    assert_eq!(firing.0.get("severity"), Some("page"));
    assert_eq!(
        firing.1.iter().map(|x| x.t).collect::<Vec<_>>(),
        vec![2 * MIN, 3 * MIN, 4 * MIN, 6 * MIN]
    );
    assert!(is_stale_nan(firing.1[3].v));
    let fs = s.series("ALERTS_FOR_STATE");
    assert_eq!(fs.len(), 1);
    assert_eq!(fs[0].1[0].v, 0.0);
}

#[test]
fn keep_firing_for() {
    let rules = ALERT_RULES.replace("for: 2m", "for: 0s\n    keep_firing_for: 3m");
    let s = Setup::new(&rules, |_| {});
    let x = Labels::from_pairs(&[("__name__", "x"), ("job", "a")]);
    fill(&s.storage, &x, 0, MIN, 1.0);
    fill(&s.storage, &x, 2 * MIN, 20 * MIN, 0.0);
    s.eval(0);
    assert_eq!(alert_state(&s)[0].0, AlertState::Firing);
    for t in 2..=4 {
        s.eval(t * MIN);
        assert_eq!(
            alert_state(&s)[0].0,
            AlertState::Firing,
            "keeps firing at {t}m"
        );
    }
    s.eval(5 * MIN);
    assert_eq!(alert_state(&s)[0].0, AlertState::Inactive);
}

#[test]
fn recording_rules_chain_and_go_stale() {
    let rules = r#"groups:
- name: rec
  labels: {team: t1}
  rules:
  - record: job:x:double
    expr: x * 2
    labels: {team: t2}
  - record: job:x:plus1
    expr: job:x:double + 1
  - record: const
    expr: "42"
"#;
    let s = Setup::new(rules, |_| {});
    let x = Labels::from_pairs(&[("__name__", "x"), ("job", "a")]);
    s.storage.add(&x, &[(0, 5.0)]).unwrap();
    s.eval(0);
    let d = s.series("job:x:double");
    assert_eq!(
        d[0].0,
        Labels::from_pairs(&[("__name__", "job:x:double"), ("job", "a"), ("team", "t2")])
    );
    let p = s.series("job:x:plus1");
    assert_eq!(
        (p[0].1[0].t, p[0].1[0].v),
        (0, 11.0),
        "later rules see earlier outputs of the same evaluation"
    );
    assert_eq!(p[0].0.get("team"), Some("t1"), "group labels apply");
    assert_eq!(
        s.series("const")[0].1[0].v,
        42.0,
        "a scalar result is recorded"
    );
    // The input goes away (stale marker): the outputs are marked stale.
    s.storage
        .add(&x, &[(MIN, argus_model::stale_nan())])
        .unwrap();
    s.eval(MIN);
    let d = s.series("job:x:double");
    assert!(is_stale_nan(d[0].1[1].v));
    assert_eq!(d[0].1[1].t, MIN);
}

#[test]
fn query_offset_limit_and_failures() {
    let rules = r#"groups:
- name: off
  query_offset: 1m
  rules:
  - record: y
    expr: x
- name: lim
  limit: 1
  rules:
  - record: z
    expr: x
- name: bad
  rules:
  - record: w
    expr: x + on() x
"#;
    let s = Setup::new(rules, |_| {});
    s.storage
        .add(
            &Labels::from_pairs(&[("__name__", "x"), ("i", "1")]),
            &[(0, 1.0)],
        )
        .unwrap();
    s.storage
        .add(
            &Labels::from_pairs(&[("__name__", "x"), ("i", "2")]),
            &[(0, 2.0)],
        )
        .unwrap();
    s.eval(2 * MIN);
    assert_eq!(
        s.series("y")[0].1[0].t,
        MIN,
        "queried and written at ts - query_offset"
    );
    let groups = s.mgr.groups();
    let lim = groups[1].rules()[0].lock();
    assert_eq!(lim.status().last_error, "exceeded limit of 1 with 2 series");
    let bad = groups[2].rules()[0].lock();
    assert!(
        bad.status().last_error.contains("many-to-many"),
        "{}",
        bad.status().last_error
    );
    assert_eq!(bad.status().health, argus_alert::rules::Health::Bad);
    assert_eq!(s.metric("argus_rule_evaluation_failures_total"), 2.0);
    assert_eq!(s.metric("argus_rule_evaluations_total"), 3.0);
    assert_eq!(s.metric("argus_rule_group_rules"), 3.0);
}

#[test]
fn template_errors_land_in_annotations() {
    let rules = r#"groups:
- name: g
  rules:
  - alert: T
    expr: x
    labels: {l: "{{ $labels.job | toUpper }}"}
    annotations:
      ok: "{{ humanize1024 $value }}B on {{ $labels.job }}"
      broken: "{{ .Nope.Deeper 1 }}"
      q: "{{ with query \"x\" }}{{ . | first | value }}{{ end }}"
"#;
    let s = Setup::new(rules, |_| {});
    s.storage
        .add(
            &Labels::from_pairs(&[("__name__", "x"), ("job", "a")]),
            &[(0, 2048.0)],
        )
        .unwrap();
    s.eval(0);
    let g = &s.mgr.groups()[0];
    let r = g.rules()[0].lock();
    let Rule::Alerting(a) = &*r else { panic!() };
    let alert = a.active.values().next().unwrap();
    assert_eq!(alert.labels.get("l"), Some("A"));
    assert_eq!(alert.annotations.get("ok"), Some("2kiB on a"));
    assert_eq!(alert.annotations.get("q"), Some("2048"));
    let broken = alert.annotations.get("broken").unwrap();
    assert!(
        broken.starts_with(
            "<error expanding template: error executing template __alert_T: template: __alert_T:1:"
        ),
        "{broken}"
    );
    assert_eq!(
        r.status().health,
        argus_alert::rules::Health::Good,
        "template errors don't fail the rule"
    );
    assert_eq!(
        s.metric("argus_template_text_expansion_failures_total"),
        1.0
    );
}

#[test]
fn duplicate_alert_labelsets_fail_the_rule() {
    let rules = "groups:\n- name: g\n  rules:\n  - alert: D\n    expr: x\n    labels: {i: same}\n";
    let s = Setup::new(rules, |_| {});
    s.storage
        .add(
            &Labels::from_pairs(&[("__name__", "x"), ("i", "1")]),
            &[(0, 1.0)],
        )
        .unwrap();
    s.storage
        .add(
            &Labels::from_pairs(&[("__name__", "x"), ("i", "2")]),
            &[(0, 1.0)],
        )
        .unwrap();
    s.eval(0);
    let r = s.mgr.groups()[0].rules()[0]
        .lock()
        .status()
        .last_error
        .clone();
    assert_eq!(
        r,
        "vector contains metrics with the same labelset after applying alert labels"
    );
}

#[test]
fn api_providers_answer_like_prometheus() {
    use argus_query::api::providers::RulesProvider;
    let s = Setup::new(ALERT_RULES, |_| {});
    let x = Labels::from_pairs(&[("__name__", "x"), ("job", "a")]);
    fill(&s.storage, &x, 0, 5 * MIN, 1.0);
    s.eval(0);
    s.eval(2 * MIN);
    let groups = s.mgr.rule_groups();
    let j = serde_json::to_value(&groups).unwrap();
    let g = &j[0];
    assert_eq!(g["name"], "g");
    assert_eq!(g["interval"], 60.0);
    let r = &g["rules"][0];
    assert_eq!(r["type"], "alerting");
    assert_eq!(r["state"], "firing");
    assert_eq!(r["query"], "x > 0");
    assert_eq!(r["duration"], 120.0);
    assert_eq!(r["health"], "ok");
    assert_eq!(r["alerts"][0]["state"], "firing");
    assert_eq!(r["alerts"][0]["value"], "1e+00");
    assert_eq!(r["alerts"][0]["activeAt"], "1970-01-01T00:00:00Z");
    assert_eq!(r["alerts"][0]["annotations"]["summary"], "a is 1");
    assert_eq!(s.mgr.alerts().len(), 1);
}
