//! Real `promtool` (Debian's, Prometheus 2.42) and Argus agree on `check rules` and
//! `test rules` over the vendored fixtures and our own files.
//!
//! Version notes: Debian's promtool predates UTF-8 names, so `check rules` is compared with
//! legacy name validation. Unit-test files that use options newer than 2.42
//! (`start_timestamp`, `fuzzy_compare`, the newer default input interval of
//! `no-test-group-interval.yml`) or native histograms are left out of the comparison;
//! the crate's unit tests check them against the verdicts upstream documents.

#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use argus_alert::rulefmt::{NameValidation, ParseOptions};
use argus_alert::unittest::{run_rule_tests, UnitTestOptions};
use argus_alert::{check_rule_files, CheckOptions};

fn promtool() -> Option<&'static str> {
    if Command::new("promtool").arg("--version").output().is_ok() {
        return Some("promtool");
    }
    if std::env::var("ARGUS_SKIP_PEER_TESTS").as_deref() == Ok("1") {
        return None;
    }
    panic!("promtool not found: install Debian's `prometheus` package (apt-get install prometheus), or set ARGUS_SKIP_PEER_TESTS=1 to skip peer tests");
}

fn fixtures(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/prometheus-rules")
        .join(sub)
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// (exit code, stdout + stderr).
fn run(pt: &str, args: &[&str], file: &Path) -> (i32, String) {
    let out = Command::new(pt)
        .args(args)
        .arg(file)
        .current_dir(file.parent().unwrap())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn check_rules_agrees_with_promtool() {
    let Some(pt) = promtool() else { return };
    let opts = CheckOptions {
        parse: ParseOptions {
            name_validation: NameValidation::Legacy,
            ignore_unknown_fields: false,
        },
        ..CheckOptions::default()
    };
    let mut compared = 0;
    for dir in ["rulefmt", "promtool-check-rules", "rules-manager-fixtures"] {
        for f in files_in(&fixtures(dir)) {
            let (code, out) = run(pt, &["check", "rules"], &f);
            let report = check_rule_files(std::slice::from_ref(&f), &opts);
            assert_eq!(
                report.exit_code(),
                code,
                "{}: promtool said\n{out}\nargus said\n{}",
                f.display(),
                report.render()
            );
            let file = &report.files[0];
            if let Some(n) = out
                .split("SUCCESS: ")
                .nth(1)
                .and_then(|s| s.split(' ').next())
            {
                assert_eq!(file.rules_found.to_string(), n, "{}", f.display());
            }
            if let Some(n) = out
                .split("lint error ")
                .nth(1)
                .and_then(|s| s.split(' ').next())
            {
                assert_eq!(
                    file.duplicates.len().to_string(),
                    n,
                    "{}: duplicates",
                    f.display()
                );
            } else if code == 0 {
                assert!(file.duplicates.is_empty(), "{}", f.display());
            }
            compared += 1;
        }
    }
    assert_eq!(compared, 36);
}

const OWN_RULES: &str = r#"groups:
- name: own
  rules:
  - record: job:req:rate
    expr: sum by (job) (rate(req_total[2m]))
  - alert: HighRate
    expr: job:req:rate > 0.5
    for: 3m
    labels: {severity: "{{ if gt $value 1.0 }}page{{ else }}ticket{{ end }}"}
    annotations:
      summary: "{{ $labels.job }}: {{ $value | printf \"%.2f\" }} req/s ({{ humanizePercentage 0.256 }})"
      link: "{{ $externalURL }}/x?job={{ $labels.job | urlquery }}"
  - alert: Absent
    expr: absent(nothing)
"#;

const OWN_TESTS: &str = r#"rule_files: [own.yml]
evaluation_interval: 1m
tests:
- interval: 1m
  external_url: https://argus.example
  input_series:
  - series: 'req_total{job="api", instance="a"}'
    values: '0+60x10 600+120x20'
  - series: 'req_total{job="db", instance="b"}'
    values: '0+6x30'
  promql_expr_test:
  - expr: job:req:rate
    eval_time: 5m
    exp_samples:
    - labels: 'job:req:rate{job="api"}'
      value: 1
    - labels: 'job:req:rate{job="db"}'
      value: 0.1
  - expr: ALERTS{alertname="HighRate"}
    eval_time: 2m
    exp_samples:
    - labels: 'ALERTS{alertname="HighRate", alertstate="pending", job="api", severity="ticket"}'
      value: 1
  alert_rule_test:
  - eval_time: 2m
    alertname: HighRate
  - eval_time: 5m
    alertname: HighRate
    exp_alerts:
    - exp_labels: {job: api, severity: ticket}
      exp_annotations:
        summary: "api: 1.00 req/s (25.6%)"
        link: "https://argus.example/x?job=api"
  - eval_time: 20m
    alertname: HighRate
    exp_alerts:
    - exp_labels: {job: api, severity: page}
      exp_annotations:
        summary: "api: 2.00 req/s (25.6%)"
        link: "https://argus.example/x?job=api"
  - eval_time: 0m
    alertname: Absent
    exp_alerts:
    - exp_labels: {}
"#;

#[test]
fn test_rules_agrees_with_promtool() {
    let Some(pt) = promtool() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("own.yml"), OWN_RULES).unwrap();
    std::fs::write(dir.path().join("own-test.yml"), OWN_TESTS).unwrap();
    // A failing variant: wrong expected value and a wrong severity.
    let wrong = OWN_TESTS
        .replace("value: 0.1", "value: 0.2")
        .replace("severity: page}", "severity: ticket}");
    std::fs::write(dir.path().join("own-wrong-test.yml"), wrong).unwrap();
    let mut files: Vec<PathBuf> = [
        "at-modifier-test.yml",
        "bad-input-series.yml",
        "bad-promql.yml",
        "bad-rules-error-test.yml",
        "bad-rules-syntax-test.yml",
        "failing.yml",
        "long-period.yml",
        "negative-offset-test.yml",
        "rules_run.yml",
    ]
    .iter()
    .map(|f| fixtures("promtool-unittest").join(f))
    .collect();
    files.push(dir.path().join("own-test.yml"));
    files.push(dir.path().join("own-wrong-test.yml"));
    let mut passes = 0;
    for f in &files {
        let (code, out) = run(pt, &["test", "rules"], f);
        let report = run_rule_tests(std::slice::from_ref(f), &UnitTestOptions::default());
        assert_eq!(
            report.exit_code(),
            code,
            "{}: promtool said\n{out}\nargus said\n{}",
            f.display(),
            report.render()
        );
        passes += usize::from(code == 0);
    }
    assert_eq!(
        passes, 4,
        "at-modifier, long-period, negative-offset and our own file pass"
    );
}

/// Prometheus' template functions, rendered by real promtool and by Argus in alert
/// annotations (`testdata/own/template-functions.*`; expected values are promtool's).
#[test]
fn template_functions_render_like_promtool() {
    let Some(pt) = promtool() else { return };
    let f =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/own/template-functions.test.yml");
    let (code, out) = run(pt, &["test", "rules"], &f);
    assert_eq!(code, 0, "promtool: {out}");
    let report = run_rule_tests(std::slice::from_ref(&f), &UnitTestOptions::default());
    assert!(report.success(), "{}", report.render());
}
