//! The semantic rules of OpenMetrics 1.0 that strict parsing enforces on top of the line
//! syntax, as the specification states them:
//!
//! - a metric family's samples are contiguous, its metadata comes before them, and each of
//!   HELP, TYPE and UNIT appears at most once; names a family claims (`x`, `x_total`,
//!   `x_created`, ...) never clash with another family's;
//! - a UNIT is a suffix of the family name and not used on info and stateset families;
//! - sample names match the type (`_total`/`_created` for counters, `_bucket`/`_count`/
//!   `_sum`/`_created` for histograms, ...), any other name starts an `unknown` family;
//! - summaries need a `quantile` in [0, 1]; histogram buckets need a float `le` (`+Inf`
//!   spelled exactly so), strictly increasing with non-decreasing counts, ending at `+Inf`,
//!   `_count` equal to the `+Inf` bucket and present exactly when a sum is; no `_sum` with
//!   negative buckets, no negative `_gsum` without them;
//! - counter-like values (`_total`, `_sum`, `_count`, `_bucket`, `_gcount`) are never
//!   negative or NaN (`_gsum` may be negative), info values are 1, stateset values 0 or 1,
//!   quantile values not negative;
//! - samples of a group (same labels apart from `le`/`quantile`/the stateset label) are
//!   contiguous, either all have timestamps or none, and timestamps never go backwards
//!   (except for info);
//! - exemplars only on histogram buckets and counter totals.

use std::collections::HashSet;

use argus_model::MetricType;

use super::lex::{parse_float, unescape};
use super::openmetrics::Ts;
use super::Entry;

/// What the validator needs of a sample line.
pub(crate) struct SampleInfo<'s, 'a> {
    pub name: &'a str,
    pub labels: &'s [(&'a str, &'a str)],
    pub value: f64,
    pub ts: Option<Ts>,
    pub series: &'a str,
    pub has_exemplar: bool,
}

#[derive(Default)]
struct HistGroup {
    active: bool,
    last_le: Option<f64>,
    last_bucket_value: f64,
    count: Option<f64>,
    has_sum: bool,
    has_gsum: bool,
    negative_gsum: bool,
    negative_buckets: bool,
}

#[derive(Default)]
struct Family<'a> {
    name: &'a str,
    kind: Option<MetricType>,
    help: bool,
    unit: Option<&'a str>,
    has_samples: bool,
    group: Option<Vec<(&'a str, &'a str)>>,
    group_ts: Option<Option<Ts>>,
    seen_groups: HashSet<Vec<(&'a str, &'a str)>>,
    /// Series seen in the current group at the current timestamp (exact repeats are
    /// dropped, as the reference parser does).
    group_series: Vec<&'a str>,
    hist: HistGroup,
}

/// State of strict validation across lines.
#[derive(Default)]
pub(crate) struct Validator<'a> {
    fam: Option<Family<'a>>,
    claimed: HashSet<String>,
}

fn suffixes(kind: MetricType) -> &'static [&'static str] {
    match kind {
        MetricType::Counter => &["_total", "_created"],
        MetricType::Summary => &["", "_count", "_sum", "_created"],
        MetricType::Histogram => &["_count", "_sum", "_bucket", "_created"],
        MetricType::Gaugehistogram => &["_gcount", "_gsum", "_bucket"],
        MetricType::Info => &["_info"],
        _ => &[""],
    }
}

impl<'a> Validator<'a> {
    pub(crate) fn metadata(&mut self, e: &Entry<'a>) -> Result<(), String> {
        let name = match e {
            Entry::Help { name, .. } | Entry::Type { name, .. } | Entry::Unit { name, .. } => *name,
            Entry::Sample(_) => return Ok(()),
        };
        let same = self.fam.as_ref().is_some_and(|f| f.name == name);
        if same {
            if self.fam.as_ref().is_some_and(|f| f.has_samples) {
                return Err(format!("metadata for {name:?} after its samples"));
            }
        } else {
            self.finish()?;
            self.fam = Some(Family {
                name,
                ..Family::default()
            });
        }
        let Some(f) = self.fam.as_mut() else {
            return Ok(());
        };
        match e {
            Entry::Help { .. } => {
                if std::mem::replace(&mut f.help, true) {
                    return Err(format!("more than one HELP for {name:?}"));
                }
            }
            Entry::Type { kind, .. } => {
                if f.kind.replace(*kind).is_some() {
                    return Err(format!("more than one TYPE for {name:?}"));
                }
            }
            Entry::Unit { unit, .. } => {
                if f.unit.replace(unit).is_some() {
                    return Err(format!("more than one UNIT for {name:?}"));
                }
            }
            Entry::Sample(_) => {}
        }
        Ok(())
    }

    /// Checks one sample; `Ok(false)` when it repeats a series and timestamp of its group
    /// and should be dropped.
    pub(crate) fn sample(&mut self, s: &SampleInfo<'_, 'a>) -> Result<bool, String> {
        let belongs = self.fam.as_ref().is_some_and(|f| {
            let kind = f.kind.unwrap_or(MetricType::Unknown);
            s.name
                .strip_prefix(f.name)
                .is_some_and(|suf| suffixes(kind).contains(&suf))
        });
        if !belongs {
            self.finish()?;
            self.fam = Some(Family {
                name: s.name,
                kind: Some(MetricType::Unknown),
                ..Family::default()
            });
        }
        let Some(f) = self.fam.as_mut() else {
            return Ok(true);
        };
        f.has_samples = true;
        let kind = f.kind.unwrap_or(MetricType::Unknown);
        let suffix = s.name.get(f.name.len()..).unwrap_or("");
        let get = |n: &str| s.labels.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
        let is_bucket = matches!(kind, MetricType::Histogram | MetricType::Gaugehistogram)
            && suffix == "_bucket";
        let is_quantile = kind == MetricType::Summary && suffix.is_empty();
        // The label that varies within a group.
        let special: Option<&str> = if is_bucket {
            let le = get("le").ok_or("histogram bucket without \"le\" label")?;
            le_value(le)?;
            Some("le")
        } else if is_quantile {
            let q = get("quantile").ok_or("summary sample without \"quantile\" label")?;
            match canonical_float(q) {
                Some(v) if (0.0..=1.0).contains(&v) => {}
                _ => return Err(format!("invalid quantile {q:?}")),
            }
            Some("quantile")
        } else if kind == MetricType::Stateset {
            if get(f.name).is_none() {
                return Err(format!("stateset sample without the {:?} label", f.name));
            }
            Some(f.name)
        } else {
            None
        };
        let group: Vec<(&'a str, &'a str)> = if kind == MetricType::Info {
            Vec::new()
        } else {
            let mut g: Vec<_> = s
                .labels
                .iter()
                .copied()
                .filter(|(n, _)| Some(*n) != special)
                .collect();
            g.sort_unstable();
            g
        };
        let same_group = f.group.as_ref() == Some(&group);
        if !same_group && f.seen_groups.contains(&group) {
            return Err("samples of one group are not contiguous".into());
        }
        if same_group {
            let prev = f.group_ts.flatten();
            if prev.is_some() != s.ts.is_some() {
                return Err("mix of samples with and without timestamps in one group".into());
            }
            if let (Some(p), Some(t)) = (prev, s.ts) {
                if t < p && kind != MetricType::Info {
                    return Err("timestamps went backwards within a group".into());
                }
            }
        }
        let ts_changed = f.group_ts != Some(s.ts);
        if !same_group || ts_changed {
            if matches!(kind, MetricType::Histogram | MetricType::Gaugehistogram) && f.hist.active {
                check_hist(f.name, &f.hist)?;
            }
            f.hist = HistGroup::default();
            f.group_series.clear();
        }
        if !same_group {
            f.seen_groups.insert(group.clone());
            f.group = Some(group);
        }
        f.group_ts = Some(s.ts);
        let duplicate = f.group_series.contains(&s.series);
        if !duplicate {
            f.group_series.push(s.series);
        }

        let v = s.value;
        if kind == MetricType::Stateset && v != 0.0 && v != 1.0 {
            return Err("stateset samples can only have values zero and one".into());
        }
        if kind == MetricType::Info && v != 1.0 {
            return Err("info samples can only have value one".into());
        }
        if is_quantile && v < 0.0 {
            return Err("quantile values cannot be negative".into());
        }
        let counter_like =
            ["_total", "_sum", "_count", "_bucket", "_gcount", "_gsum"].contains(&suffix);
        if counter_like && v.is_nan() {
            return Err(format!("counter-like sample {:?} cannot be NaN", s.name));
        }
        if counter_like && suffix != "_gsum" && v < 0.0 {
            return Err(format!(
                "counter-like sample {:?} cannot be negative",
                s.name
            ));
        }
        let exemplar_ok = is_bucket || (kind == MetricType::Counter && suffix == "_total");
        if s.has_exemplar && !exemplar_ok {
            return Err("only histogram buckets and counter totals can have exemplars".into());
        }
        if matches!(kind, MetricType::Histogram | MetricType::Gaugehistogram) && !duplicate {
            let h = &mut f.hist;
            h.active = true;
            match suffix {
                "_bucket" => {
                    let b = le_value(get("le").unwrap_or("NaN"))?;
                    if b < 0.0 {
                        h.negative_buckets = true;
                    }
                    if h.last_le.is_some_and(|p| b <= p) {
                        return Err(format!("histogram {:?}: buckets out of order", f.name));
                    }
                    if v < h.last_bucket_value {
                        return Err(format!(
                            "histogram {:?}: bucket values out of order",
                            f.name
                        ));
                    }
                    h.last_le = Some(b);
                    h.last_bucket_value = v;
                }
                "_count" | "_gcount" => h.count = Some(v),
                "_sum" => h.has_sum = true,
                "_gsum" => {
                    h.has_gsum = true;
                    if v < 0.0 {
                        h.negative_gsum = true;
                    }
                }
                _ => {}
            }
        }
        Ok(!duplicate)
    }

    /// Closes the current family: name clashes, unit rules, the last histogram group.
    pub(crate) fn finish(&mut self) -> Result<(), String> {
        let Some(f) = self.fam.take() else {
            return Ok(());
        };
        let kind = f.kind.unwrap_or(MetricType::Unknown);
        let mut names: Vec<&str> = suffixes(kind).to_vec();
        if !names.contains(&"") {
            names.push("");
        }
        for suf in names {
            let n = format!("{}{suf}", f.name);
            if !self.claimed.insert(n.clone()) {
                return Err(format!("clashing metric name {n:?}"));
            }
        }
        if let Some(u) = f.unit.filter(|u| !u.is_empty()) {
            if !f.name.ends_with(&format!("_{u}")) {
                return Err(format!(
                    "unit {u:?} is not a suffix of metric name {:?}",
                    f.name
                ));
            }
            if matches!(kind, MetricType::Info | MetricType::Stateset) {
                return Err(format!(
                    "{} metric {:?} cannot have a unit",
                    kind.as_str(),
                    f.name
                ));
            }
        }
        if matches!(kind, MetricType::Histogram | MetricType::Gaugehistogram) && f.hist.active {
            check_hist(f.name, &f.hist)?;
        }
        Ok(())
    }
}

/// A float label value whose +Inf is spelled canonically (`+Inf`).
fn canonical_float(s: &str) -> Option<f64> {
    let v = parse_float(&unescape(s))?;
    if v == f64::INFINITY && s != "+Inf" {
        return None;
    }
    Some(v)
}

fn le_value(le: &str) -> Result<f64, String> {
    match canonical_float(le) {
        Some(v) if !v.is_nan() => Ok(v),
        _ => Err(format!("invalid \"le\" label {le:?}")),
    }
}

fn check_hist(name: &str, h: &HistGroup) -> Result<(), String> {
    let e = |m: &str| Err(format!("histogram {name:?}: {m}"));
    if h.last_le != Some(f64::INFINITY) {
        return e("+Inf bucket missing");
    }
    if h.count.is_some_and(|c| c != h.last_bucket_value) {
        return e("count does not match the +Inf bucket");
    }
    if h.has_sum && h.count.is_none() {
        return e("_count must be present if _sum is present");
    }
    if h.has_gsum && h.count.is_none() {
        return e("_gcount must be present if _gsum is present");
    }
    if !(h.has_sum || h.has_gsum) && h.count.is_some() {
        return e("_sum/_gsum must be present if _count is present");
    }
    if h.negative_buckets && h.has_sum {
        return e("cannot have _sum with negative buckets");
    }
    if !h.negative_buckets && h.negative_gsum {
        return e("cannot have a negative _gsum with non-negative buckets");
    }
    Ok(())
}
