//! `argus tsdb dump`: every sample of matching series as text, one per line, in promtool's
//! format: `{labels} value timestamp_ms` (value as Go's `%g`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use argus_model::{Labels, Matcher, Queryable, Series};

use crate::db::Db;
use crate::error::{Result, TsdbError};

/// Formats `v` like Go's `strconv.FormatFloat(v, 'g', -1, 64)` (what `%g` prints).
pub fn format_go_g(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "1.234e6".
    let e = format!("{v:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    // Go uses the exponent form when the exponent is < -4 or >= 6 for shortest precision
    // (`strconv/ftoa.go`: "if precision was the shortest possible, use precision 6").
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.abs())
    } else {
        format!("{v}")
    }
}

/// Writes the samples of series matching any of `selectors` (all series when there is none
/// or one is empty) within `[mint, maxt]` from the data directory `dir`, opened read-only
/// (blocks and WAL), each series once, sorted by labels. Returns the number of samples.
pub fn dump(
    dir: &Path,
    selectors: &[Vec<Matcher>],
    mint: i64,
    maxt: i64,
    out: &mut dyn Write,
) -> Result<u64> {
    let db = Db::open_read_only(dir)?;
    let q = db
        .querier(mint, maxt)
        .map_err(|e| TsdbError::InvalidArgument(e.to_string()))?;
    let all = [Vec::new()];
    let selectors = if selectors.is_empty() {
        &all[..]
    } else {
        selectors
    };
    let mut series: BTreeMap<Labels, Box<dyn Series>> = BTreeMap::new();
    for ms in selectors {
        let mut set = q.select(true, None, ms);
        while let Some(s) = set.next() {
            let s = s.map_err(|e| TsdbError::InvalidArgument(e.to_string()))?;
            series.entry(s.labels().clone()).or_insert(s);
        }
    }
    let mut n = 0u64;
    let io = |e| TsdbError::io("write", Path::new("<output>"), e);
    for (labels, s) in series {
        let text = labels.to_string();
        let mut it = s.iterator();
        while it.next() {
            let smp = it.at();
            writeln!(out, "{text} {} {}", format_go_g(smp.v), smp.t).map_err(io)?;
            n += 1;
        }
        if let Some(e) = it.err() {
            return Err(TsdbError::InvalidArgument(format!("reading {text}: {e}")));
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_g_formatting() {
        assert_eq!(format_go_g(1.0), "1");
        assert_eq!(format_go_g(0.5), "0.5");
        assert_eq!(format_go_g(1234567.0), "1.234567e+06");
        assert_eq!(format_go_g(100000.0), "100000");
        assert_eq!(format_go_g(1e21), "1e+21");
        assert_eq!(format_go_g(1e6), "1e+06");
        assert_eq!(format_go_g(123456.5), "123456.5");
        assert_eq!(format_go_g(0.0001), "0.0001");
        assert_eq!(format_go_g(0.00001), "1e-05");
        assert_eq!(format_go_g(-2.5e-7), "-2.5e-07");
        assert_eq!(format_go_g(f64::NAN), "NaN");
        assert_eq!(format_go_g(f64::NEG_INFINITY), "-Inf");
    }
}
