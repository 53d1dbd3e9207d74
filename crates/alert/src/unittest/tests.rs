//! The promtool-unittest fixtures give the verdicts FORMAT.md lists (files needing native
//! histograms excepted), plus own tests.

use std::path::PathBuf;

use super::*;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/prometheus-rules/promtool-unittest")
        .join(name)
}

fn run(name: &str, opts: &UnitTestOptions) -> UnitTestReport {
    run_rule_tests(&[fixture(name)], opts)
}

fn only(pats: &[&str]) -> UnitTestOptions {
    UnitTestOptions {
        run: pats.iter().map(|p| regex::Regex::new(p).unwrap()).collect(),
        ..Default::default()
    }
}

#[test]
fn fixture_verdicts() {
    let none = UnitTestOptions::default();
    let cases: &[(&str, &UnitTestOptions, bool)] = &[
        ("long-period.yml", &none, true),
        ("no-test-group-interval.yml", &none, true),
        ("start-time-test.yml", &none, true),
        ("at-modifier-test.yml", &none, true),
        ("negative-offset-test.yml", &none, true),
        ("bad-input-series.yml", &none, false),
        ("bad-promql.yml", &none, false),
        ("bad-rules-syntax-test.yml", &none, false),
        ("bad-rules-error-test.yml", &none, false),
        ("failing.yml", &none, false),
        ("rules_run.yml", &none, false),
        ("rules_run_no_fuzzy.yml", &none, false),
    ];
    for (file, opts, pass) in cases {
        let r = run(file, opts);
        assert_eq!(r.success(), *pass, "{file}:\n{}", r.render());
    }
    assert!(run("rules_run.yml", &only(&["correct"])).success());
    assert!(!run("rules_run.yml", &only(&["wrong"])).success());
    assert!(!run("rules_run.yml", &only(&["correct", "wrong"])).success());
    assert!(run("rules_run_fuzzy.yml", &only(&["correct fuzzy match"])).success());
    assert!(!run("rules_run_fuzzy.yml", &only(&["wrong fuzzy match"])).success());
    let ignore = UnitTestOptions {
        parse: ParseOptions {
            ignore_unknown_fields: true,
            ..Default::default()
        },
        ..Default::default()
    };
    assert!(run("rules_run_extrafields.yml", &ignore).success());
    assert!(!run("rules_run_extrafields.yml", &none).success());
}

#[test]
fn failure_messages_name_the_problem() {
    let r = run("failing.yml", &UnitTestOptions::default());
    let text = r.render();
    assert!(text.contains("FAILED:"), "{text}");
    assert!(text.contains("expr: \"test\", time: 0s"), "{text}");
    assert!(text.contains("alertname: AlwaysFiring"), "{text}");
    let r = run("bad-rules-error-test.yml", &UnitTestOptions::default());
    assert!(r.render().contains("rule: "), "{}", r.render());
    let r = run("bad-input-series.yml", &UnitTestOptions::default());
    assert!(r.render().contains("series"), "{}", r.render());
}

/// unittest.yml with its native-histogram parts removed (Argus has no native histograms).
#[test]
fn unittest_without_histograms() {
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(fixture("unittest.yml")).unwrap();
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&src).unwrap();
    let mut doc = doc;
    let tests = doc.get_mut("tests").unwrap().as_sequence_mut().unwrap();
    for t in tests.iter_mut() {
        let m = t.as_mapping_mut().unwrap();
        if let Some(s) = m.get_mut("input_series").and_then(|v| v.as_sequence_mut()) {
            s.retain(|x| {
                !x.get("series")
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .contains("histogram")
            });
        }
        if let Some(s) = m
            .get_mut("promql_expr_test")
            .and_then(|v| v.as_sequence_mut())
        {
            s.retain(|x| {
                !x.get("expr")
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .contains("histogram")
            });
        }
    }
    std::fs::copy(fixture("rules.yml"), dir.path().join("rules.yml")).unwrap();
    let p = dir.path().join("unittest.yml");
    std::fs::write(&p, serde_yaml_ng::to_string(&doc).unwrap()).unwrap();
    let r = run_rule_tests(&[p], &UnitTestOptions::default());
    assert!(r.success(), "{}", r.render());
}

#[test]
fn own_alert_and_template_test() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("r.yml"),
        r#"groups:
- name: g
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
  - alert: Down
    expr: job:up:sum == 0
    for: 2m
    keep_firing_for: 3m
    labels: {severity: "{{ if eq $value 0.0 }}page{{ else }}info{{ end }}"}
    annotations:
      summary: "{{ $labels.job }} down ({{ $value | humanize }}) {{ $externalLabels.dc }} {{ $externalURL }}"
      bad: "{{ index $labels 1 }}"
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("t.yml"),
        r#"rule_files: [r.yml]
evaluation_interval: 1m
tests:
- interval: 1m
  external_labels: {dc: eu}
  external_url: http://argus:9090
  input_series:
  - series: 'up{job="api", instance="a"}'
    values: '1 0 0 0 0 1 1 1 1 1'
  alert_rule_test:
  - eval_time: 2m
    alertname: Down
    exp_alerts: []
  - eval_time: 3m
    alertname: Down
    exp_alerts:
    - exp_labels: {job: api, severity: page}
      exp_annotations:
        summary: "api down (0) eu http://argus:9090"
        bad: "<error expanding template: error executing template __alert_Down: template: __alert_Down:1:115: executing \"__alert_Down\" at <index $labels 1>: error calling index: value has type int; should be string>"
  - eval_time: 7m
    alertname: Down
    exp_alerts:
    - exp_labels: {job: api, severity: page}
      exp_annotations:
        summary: "api down (0) eu http://argus:9090"
        bad: "<error expanding template: error executing template __alert_Down: template: __alert_Down:1:115: executing \"__alert_Down\" at <index $labels 1>: error calling index: value has type int; should be string>"
  - eval_time: 8m
    alertname: Down
    exp_alerts: []
  promql_expr_test:
  - expr: ALERTS
    eval_time: 1m
    exp_samples:
    - labels: 'ALERTS{alertname="Down", alertstate="pending", job="api", severity="page"}'
      value: 1
  - expr: ALERTS_FOR_STATE
    eval_time: 4m
    exp_samples:
    - labels: 'ALERTS_FOR_STATE{alertname="Down", job="api", severity="page"}'
      value: 60
"#,
    )
    .unwrap();
    let r = run_rule_tests(&[dir.path().join("t.yml")], &UnitTestOptions::default());
    assert!(r.success(), "{}", r.render());
}
