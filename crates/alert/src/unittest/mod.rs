//! `argus test rules FILE...`: rule unit tests in promtool's format, evaluated as
//! `promtool test rules` does: input series loaded lazily up to each evaluation, every
//! group evaluated at each multiple of `evaluation_interval` up to the largest `eval_time`,
//! firing alerts compared at their `eval_time`, and instant queries compared at the end.
//! Native histograms are not supported (tests using them fail with a clear message).

mod format;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use argus_model::duration::format_duration_ms;
use argus_model::memstore::MemStorage;
use argus_model::{Appendable, Labels, LabelsBuilder, MatchOp};
use argus_query::engine::{EngineOptions, QueryOptions};
use argus_query::promqltest::script::{parse_series_line, SeqValue};
use argus_query::Engine;
use argus_template::time::format_duration;

use crate::notifier::NoopSender;
use crate::rulefmt::ParseOptions;
use crate::rules::alerting::{AlertState, ALERTNAME_LABEL};
use crate::rules::manager::{RuleManager, RuleManagerOptions};
use crate::rules::{query_vector, EvalContext, ManualClock, Rule};
use format::{TestFile, TestGroup};

/// Options of `test rules`.
#[derive(Debug, Clone, Default)]
pub struct UnitTestOptions {
    /// Only run test groups whose name matches one of these (unanchored) regexps.
    pub run: Vec<regex::Regex>,
    /// Rule-file parsing (e.g. ignore unknown fields).
    pub parse: ParseOptions,
}

/// The outcome of one test file.
#[derive(Debug, Clone)]
pub struct UnitTestFileResult {
    /// The file.
    pub path: PathBuf,
    /// Failures (empty = passed).
    pub errors: Vec<String>,
}

/// The outcome of `test rules`.
#[derive(Debug, Clone, Default)]
pub struct UnitTestReport {
    /// Per file, in order.
    pub files: Vec<UnitTestFileResult>,
}

impl UnitTestReport {
    /// True when every test passed.
    pub fn success(&self) -> bool {
        self.files.iter().all(|f| f.errors.is_empty())
    }

    /// promtool's exit code (0 or 1).
    pub fn exit_code(&self) -> i32 {
        i32::from(!self.success())
    }

    /// The report in promtool's words.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for f in &self.files {
            let _ = writeln!(out, "Unit Testing:  {}", f.path.display());
            if f.errors.is_empty() {
                let _ = writeln!(out, "  SUCCESS");
            } else {
                let _ = writeln!(out, "  FAILED:");
                for e in &f.errors {
                    let _ = writeln!(out, "{e}");
                }
            }
            out.push('\n');
        }
        out
    }
}

/// Runs the test files.
pub fn run_rule_tests(files: &[PathBuf], opts: &UnitTestOptions) -> UnitTestReport {
    UnitTestReport {
        files: files
            .iter()
            .map(|p| UnitTestFileResult {
                path: p.clone(),
                errors: run_file(p, opts),
            })
            .collect(),
    }
}

fn run_file(path: &Path, opts: &UnitTestOptions) -> Vec<String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return vec![format!("  {}: {e}", path.display())],
    };
    let file: TestFile = match serde_yaml_ng::from_str(&text) {
        Ok(f) => f,
        Err(e) => return vec![format!("  {}: {e}", path.display())],
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let rule_files: Vec<String> = file
        .rule_files
        .iter()
        .map(|r| {
            if Path::new(r).is_absolute() {
                r.clone()
            } else {
                dir.join(r).display().to_string()
            }
        })
        .collect();
    let mut errors = Vec::new();
    for tg in &file.tests {
        if !opts.run.is_empty() && !opts.run.iter().any(|re| re.is_match(&tg.name)) {
            continue;
        }
        errors.extend(run_group(&file, tg, &rule_files, opts));
    }
    errors
}

fn go_time(ms: i64) -> String {
    format_duration(ms.saturating_mul(1_000_000))
}

/// Parses `metric{a="b"}` (or `{...}`, or empty) into labels.
fn parse_labels(s: &str) -> Result<Labels, String> {
    if s.trim().is_empty() {
        return Ok(Labels::empty());
    }
    let ms = argus_query::parse_metric_selector(s.trim()).map_err(|e| e.to_string())?;
    let mut b = LabelsBuilder::new();
    for m in ms {
        if m.op != MatchOp::Equal {
            return Err(format!(
                "{s:?} is not a series: only = matchers are allowed"
            ));
        }
        b.set(&m.name, &m.value);
    }
    Ok(b.build())
}

/// Last-bit tolerance of `fuzzy_compare`.
fn fuzzy_eq(a: f64, b: f64) -> bool {
    if a == b {
        return true;
    }
    if a.is_sign_negative() != b.is_sign_negative() || !a.is_finite() || !b.is_finite() {
        return false;
    }
    a.to_bits().abs_diff(b.to_bits()) <= 1
}

fn samples_string(v: &[(Labels, f64)]) -> String {
    let items: Vec<String> = v
        .iter()
        .map(|(l, x)| {
            format!(
                "{l} {}",
                argus_template::gofmt::sprint(&[argus_template::Value::Float(*x)])
            )
        })
        .collect();
    format!("[{}]", items.join(", "))
}

fn run_group(
    file: &TestFile,
    tg: &TestGroup,
    rule_files: &[String],
    opts: &UnitTestOptions,
) -> Vec<String> {
    let eval_interval = file.evaluation_interval.unwrap_or(60_000).max(1);
    let interval = tg.interval.unwrap_or(eval_interval).max(1);
    let name_prefix = if tg.name.is_empty() {
        String::new()
    } else {
        format!("    name: {},\n", tg.name)
    };
    let mint = tg.start_timestamp;

    // Input series, sorted by time for lazy loading.
    let mut input: Vec<(i64, Labels, f64)> = Vec::new();
    for s in &tg.input_series {
        let line = match parse_series_line(&format!("{} {}", s.series, s.values), 0) {
            Ok(l) => l,
            Err(e) => return vec![format!("{name_prefix}    series {:?}: {}", s.series, e.msg)],
        };
        if line.has_histogram() {
            return vec![format!(
                "{name_prefix}    series {:?}: native histograms are not supported",
                s.series
            )];
        }
        for (i, v) in line.values.iter().enumerate() {
            if let SeqValue::Float(f) = v {
                input.push((mint + i as i64 * interval, line.labels.clone(), *f));
            }
        }
    }
    input.sort_by_key(|x| x.0);

    let storage = Arc::new(MemStorage::new());
    let engine = Engine::new(EngineOptions {
        default_subquery_step_ms: eval_interval,
        ..EngineOptions::default()
    });
    let clock = Arc::new(ManualClock::new(mint));
    let mopts = RuleManagerOptions {
        evaluation_interval_ms: eval_interval,
        external_labels: tg.external_labels.clone(),
        external_url: tg.external_url.clone(),
        restore_for_state: false,
        parse: opts.parse,
        clock: clock.clone(),
        ..RuleManagerOptions::default()
    };
    let registry = prometheus::Registry::new();
    let mgr = RuleManager::new(
        engine.clone(),
        storage.clone(),
        storage.clone(),
        Arc::new(NoopSender),
        &registry,
        mopts,
    );
    if let Err(e) = mgr.load(rule_files) {
        return e.errors.iter().map(|x| format!("    {x}")).collect();
    }
    let mut groups = mgr.groups();
    if !file.group_eval_order.is_empty() {
        let order: BTreeMap<&str, usize> = file
            .group_eval_order
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        if let Some(g) = groups.iter().find(|g| !order.contains_key(g.name.as_str())) {
            return vec![format!(
                "    group name {} is missing in group_eval_order",
                g.name
            )];
        }
        groups.sort_by_key(|g| order.get(g.name.as_str()).copied().unwrap_or(usize::MAX));
    }

    let max_eval = tg
        .alert_rule_test
        .iter()
        .map(|a| a.eval_time)
        .chain(tg.promql_expr_test.iter().map(|p| p.eval_time))
        .max()
        .unwrap_or(0);
    let mut alert_times: Vec<i64> = tg.alert_rule_test.iter().map(|a| a.eval_time).collect();
    alert_times.sort_unstable();
    alert_times.dedup();
    let mut curr = 0usize;
    let mut loaded = 0usize;
    let mut errors = Vec::new();
    let mut ts = mint;
    while ts <= mint + max_eval {
        clock.set(ts);
        let mut app = storage.appender();
        while let Some((t, l, v)) = input.get(loaded) {
            if *t > ts {
                break;
            }
            if let Err(e) = app.append(None, l, *t, *v) {
                errors.push(format!("{name_prefix}    loading series {l}: {e}"));
            }
            loaded += 1;
        }
        if let Err(e) = app.commit() {
            errors.push(format!("{name_prefix}    loading series: {e}"));
            return errors;
        }
        let mut eval_errs = Vec::new();
        for g in &groups {
            g.eval(ts);
            for r in g.rules() {
                let r = r.lock();
                if !r.status().last_error.is_empty() {
                    eval_errs.push(format!(
                        "    rule: {}, time: {}, err: {}",
                        r.name(),
                        go_time(ts),
                        r.status().last_error
                    ));
                }
            }
        }
        if !eval_errs.is_empty() {
            errors.extend(eval_errs);
            return errors;
        }
        while let Some(&t) = alert_times.get(curr) {
            if !(ts - mint <= t && t < ts + eval_interval - mint) {
                break;
            }
            for tc in tg.alert_rule_test.iter().filter(|a| a.eval_time == t) {
                let mut got: Vec<(Labels, Labels)> = Vec::new();
                for g in &groups {
                    for r in g.rules() {
                        if let Rule::Alerting(a) = &*r.lock() {
                            if a.name == tc.alertname {
                                got.extend(
                                    a.active
                                        .values()
                                        .filter(|x| x.state == AlertState::Firing)
                                        .map(|x| (x.labels.clone(), x.annotations.clone())),
                                );
                            }
                        }
                    }
                }
                let mut exp: Vec<(Labels, Labels)> = tc
                    .exp_alerts
                    .iter()
                    .map(|e| {
                        let mut l = e.exp_labels.clone();
                        l.insert(ALERTNAME_LABEL.into(), tc.alertname.clone());
                        (labels_of(&l), labels_of(&e.exp_annotations))
                    })
                    .collect();
                got.sort();
                exp.sort();
                if got != exp {
                    errors.push(format!(
                        "{name_prefix}    alertname: {}, time: {}, \n        exp:{}, \n        got:{}",
                        tc.alertname,
                        format_duration_ms(tc.eval_time),
                        alerts_string(&exp),
                        alerts_string(&got)
                    ));
                }
            }
            curr += 1;
        }
        ts += eval_interval;
    }

    let ctx = EvalContext {
        engine,
        queryable: storage,
        query_options: QueryOptions::default(),
        external_labels: Arc::new(BTreeMap::new()),
        external_url: Arc::from(""),
        template_metrics: None,
    };
    for tc in &tg.promql_expr_test {
        let at = format_duration_ms(tc.eval_time);
        let got = match query_vector(&ctx, &tc.expr, mint + tc.eval_time) {
            Ok(v) => v,
            Err(e) => {
                errors.push(format!(
                    "{name_prefix}    expr: {:?}, time: {at}, err: {e}",
                    tc.expr
                ));
                continue;
            }
        };
        let mut exp = Vec::new();
        let mut bad = None;
        for s in &tc.exp_samples {
            if !s.histogram.is_empty() {
                bad = Some("native histograms are not supported".to_string());
                break;
            }
            match parse_labels(&s.labels) {
                Ok(l) => exp.push((l, s.value)),
                Err(e) => {
                    bad = Some(format!("labels {:?}: {e}", s.labels));
                    break;
                }
            }
        }
        if let Some(e) = bad {
            errors.push(format!(
                "{name_prefix}    expr: {:?}, time: {at}, err: {e}",
                tc.expr
            ));
            continue;
        }
        let mut got: Vec<(Labels, f64)> = got.into_iter().map(|s| (s.labels, s.v)).collect();
        exp.sort_by(|a, b| a.0.cmp(&b.0));
        got.sort_by(|a, b| a.0.cmp(&b.0));
        let same = exp.len() == got.len()
            && exp.iter().zip(&got).all(|(e, g)| {
                e.0 == g.0
                    && if file.fuzzy_compare {
                        fuzzy_eq(e.1, g.1)
                    } else {
                        e.1 == g.1
                    }
            });
        if !same {
            errors.push(format!(
                "{name_prefix}    expr: {:?}, time: {at},\n        exp: {}\n        got: {}",
                tc.expr,
                samples_string(&exp),
                samples_string(&got)
            ));
        }
    }
    errors
}

fn labels_of(m: &BTreeMap<String, String>) -> Labels {
    let mut b = LabelsBuilder::new();
    for (k, v) in m {
        b.set(k, v);
    }
    b.build()
}

fn alerts_string(v: &[(Labels, Labels)]) -> String {
    let items: Vec<String> = v
        .iter()
        .map(|(l, a)| {
            format!("\n            0:\n              Labels:{l}\n              Annotations:{a}")
        })
        .collect();
    format!("[{}\n        ]", items.join(""))
}

#[cfg(test)]
mod tests;
