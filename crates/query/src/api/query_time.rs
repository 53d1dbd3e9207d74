//! The evaluation times of `/api/v1/query` and `/api/v1/query_range`, as Prometheus' engine
//! ends up with them.
//!
//! Prometheus parses `time`, `start` and `end` into a Go `time.Time` (float seconds through
//! `time.Unix(int64(s), int64(ns))`, or RFC 3339) and its engine then takes
//! `UnixNano() / 1e6`. Both steps wrap silently outside the years 1678–2262: `Inf`, `NaN`,
//! `1e100` or `9999-12-31T23:59:59Z` are accepted and evaluated at wrapped-around times
//! (`time=1e100` at 0, `time=Inf` at -9223372036.854). Argus mirrors that arithmetic so those
//! queries answer as Prometheus' do; the wrapped result always lies within ±292 years, so the
//! engine never sees a time near the `i64` limits.

use super::params::parse_time;
use crate::functions::time::go_int64;

const NANOS: i64 = 1_000_000_000;

/// Go's `time.Unix(sec, nsec).UnixNano() / 1e6`, with Go's wrapping integer arithmetic.
fn go_unix_ms(mut sec: i64, mut nsec: i64) -> i64 {
    // time.Unix brings nsec into [0, 1e9), carrying into sec.
    if !(0..NANOS).contains(&nsec) {
        let n = nsec / NANOS;
        sec = sec.wrapping_add(n);
        nsec -= n * NANOS;
        if nsec < 0 {
            nsec += NANOS;
            sec = sec.wrapping_sub(1);
        }
    }
    // Go's integer division truncates toward zero, as Rust's does.
    sec.wrapping_mul(NANOS).wrapping_add(nsec) / 1_000_000
}

/// Parses a query time parameter into the ms Prometheus evaluates at.
pub fn parse_query_time(s: &str) -> Result<i64, String> {
    if let Ok(f) = s.parse::<f64>() {
        // Go: s, ns := math.Modf(t); ns = math.Round(ns*1000) / 1000. Modf of ±Inf has a NaN
        // fraction, as `inf - inf` is here.
        let whole = f.trunc();
        let ns = ((f - whole) * 1000.0).round() / 1000.0;
        return Ok(go_unix_ms(go_int64(whole), go_int64(ns * 1e9)));
    }
    let ms = parse_time(s)?;
    // parse_time keeps milliseconds; the nanoseconds below them only matter for the
    // wrapped-around times of Prometheus' MaxTime, whose fraction is .999999999.
    let sub_ms = if s == super::params::MAX_TIME_FORMATTED {
        999_999
    } else {
        0
    };
    Ok(go_unix_ms(
        ms.div_euclid(1000),
        ms.rem_euclid(1000) * 1_000_000 + sub_ms,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_range_times_are_exact() {
        assert_eq!(parse_query_time("1700000000.5"), Ok(1_700_000_000_500));
        assert_eq!(parse_query_time("-1.5"), Ok(-1500));
        assert_eq!(
            parse_query_time("2023-11-14T22:13:20Z"),
            Ok(1_700_000_000_000)
        );
        assert_eq!(parse_query_time("1e9"), Ok(1_000_000_000_000));
    }

    #[test]
    fn out_of_range_times_wrap_like_prometheus() {
        // The answers of Prometheus 2.42 on amd64.
        assert_eq!(parse_query_time("1e100"), Ok(0));
        assert_eq!(parse_query_time("Inf"), Ok(-9_223_372_036_854));
        assert_eq!(parse_query_time("-Inf"), Ok(-9_223_372_036_854));
        assert_eq!(parse_query_time("NaN"), Ok(-9_223_372_036_854));
        assert_eq!(
            parse_query_time("9999-12-31T23:59:59Z"),
            Ok(-4_852_116_232_933)
        );
        assert_eq!(
            parse_query_time("0001-01-01T00:00:00Z"),
            Ok(-6_795_364_578_871)
        );
        assert!(parse_query_time("abc").is_err());
    }
}
