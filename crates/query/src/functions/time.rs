//! Date functions (`hour`, `day_of_week`, `days_in_month`, ...), evaluated in UTC on a
//! vector of Unix timestamps in seconds, or on the evaluation time when called without
//! arguments.

use argus_model::api::civil_from_days;

use crate::engine::value::Vector;

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Go's `time.Unix(secs, 0).UTC()` computes calendar fields from the seconds since its
/// "absolute" epoch as a wrapping `uint64`; far out-of-range seconds (notably MinInt64, what
/// `int64(NaN)` gives on amd64) wrap around. Returns the Unix seconds the wrapped value
/// stands for, so that the proleptic calendar below yields Go's fields. The wrap count does
/// not depend on Go's exact epoch constant (which moved by 306 days in Go 1.23) for the
/// MinInt64 case, since that lies 8 · 10⁹ s before the boundary.
fn go_wrapped_secs(secs: i64) -> i128 {
    // unixToInternal + internalToAbsolute of Go's time package.
    const UNIX_TO_ABSOLUTE: i128 = 62_135_596_800 + 9_223_371_966_579_724_800;
    let abs = (i128::from(secs) + UNIX_TO_ABSOLUTE).rem_euclid(1i128 << 64);
    abs - UNIX_TO_ABSOLUTE
}

/// The date component `name` of Unix second `secs`, as Go's time package computes it.
pub(crate) fn component(name: &str, secs: i64) -> f64 {
    let secs = go_wrapped_secs(secs);
    // |secs| < 2^65, so the day count fits an i64.
    let days = secs.div_euclid(86_400) as i64;
    let sod = secs.rem_euclid(86_400) as i64;
    let (y, m, d) = civil_from_days(days);
    (match name {
        "minute" => (sod % 3600) / 60,
        "hour" => sod / 3600,
        "day_of_month" => i64::from(d),
        "day_of_week" => (days + 4).rem_euclid(7),
        "day_of_year" => days - days_from_civil(y, 1, 1) + 1,
        "month" => i64::from(m),
        "year" => y,
        "days_in_month" => match m {
            2 if is_leap(y) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        },
        _ => 0,
    }) as f64
}

/// True for the date functions.
pub(crate) fn is_date_function(name: &str) -> bool {
    matches!(
        name,
        "minute"
            | "hour"
            | "day_of_month"
            | "day_of_week"
            | "day_of_year"
            | "month"
            | "year"
            | "days_in_month"
    )
}

/// Go's `int64(f)` as it behaves on amd64: NaN and out-of-range values become MinInt64.
pub(crate) fn go_int64(f: f64) -> i64 {
    // i64::MAX as f64 rounds up to 2^63, which is out of range.
    if f.is_nan() || !(-(2f64.powi(63))..2f64.powi(63)).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// Evaluates a date function over `arg` (None: the evaluation time `ts_ms`).
pub(crate) fn eval(name: &str, arg: Option<&Vector>, ts_ms: i64, delayed: bool) -> Vector {
    match arg {
        None => super::math::scalar_elem(component(name, ts_ms.div_euclid(1000))),
        Some(v) => super::math::map_floats(v, delayed, |f| component(name, go_int64(f))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components() {
        // 2024-02-29T13:45:00Z, a Thursday.
        let t = 1_709_214_300;
        assert_eq!(component("year", t), 2024.0);
        assert_eq!(component("month", t), 2.0);
        assert_eq!(component("day_of_month", t), 29.0);
        assert_eq!(component("day_of_week", t), 4.0);
        assert_eq!(component("day_of_year", t), 60.0);
        assert_eq!(component("hour", t), 13.0);
        assert_eq!(component("minute", t), 45.0);
        assert_eq!(component("days_in_month", t), 29.0);
        assert_eq!(
            component("day_of_week", 0),
            4.0,
            "1970-01-01 was a Thursday"
        );
        assert_eq!(component("days_in_month", 0), 31.0);
    }

    #[test]
    fn nan_timestamps_wrap_like_go_on_amd64() {
        // Prometheus 2.42 on amd64 answers hour(NaN) with 15.
        assert_eq!(component("hour", go_int64(f64::NAN)), 15.0);
    }
}
