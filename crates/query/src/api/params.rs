//! Request parameters the way Prometheus reads them.
//!
//! Go's `r.FormValue` merges the form-encoded body of POST/PUT requests with the URL query,
//! body first; `r.Form["match[]"]` lists body values, then URL values. Times are float Unix
//! seconds (rounded to the millisecond) or RFC 3339; durations are float seconds or
//! Prometheus duration strings (`5m`, `1h30m`). Error texts match `web/api/v1/api.go`.

use argus_model::api::civil_from_days;
use argus_model::{parse_duration_ms, Matcher};
use axum::extract::{FromRequest, Request};
use axum::http::{header, Method};

use super::envelope::{bad_data, Fail};
use crate::parser::parse_metric_selector;

/// Largest form body read (Go's `http.Request.ParseForm` caps POST bodies at 10 MB).
const MAX_FORM_BYTES: usize = 10 << 20;

/// Prometheus' `MinTime` (`-292273086-05-16T16:47:06Z`) in ms: the default start of optional
/// time ranges.
pub const MIN_TIME_MS: i64 = -9_223_309_901_257_974_000;
/// Prometheus' `MaxTime` (`292277025-08-18T07:12:54.999999999Z`) in ms.
pub const MAX_TIME_MS: i64 = 9_223_309_901_257_974_999;

pub(crate) const MIN_TIME_FORMATTED: &str = "-292273086-05-16T16:47:06Z";
pub(crate) const MAX_TIME_FORMATTED: &str = "292277025-08-18T07:12:54.999999999Z";

/// The merged form and query parameters of a request.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Parameters from a raw query string (and no body).
    pub fn from_query(query: &str) -> Self {
        Params {
            pairs: form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        }
    }

    /// The first value of `key` (Go's `FormValue`, which returns "" when absent).
    pub fn get(&self, key: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `key`, body values first.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = Fail;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let query = req.uri().query().unwrap_or("").to_owned();
        let is_form = matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH)
            && req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| {
                    ct.trim_start()
                        .to_ascii_lowercase()
                        .starts_with("application/x-www-form-urlencoded")
                });
        let mut pairs = Vec::new();
        if is_form {
            let body = axum::body::to_bytes(req.into_body(), MAX_FORM_BYTES)
                .await
                .map_err(|e| bad_data(format!("error parsing form values: {e}")))?;
            pairs.extend(form_urlencoded::parse(&body).into_owned());
        }
        pairs.extend(form_urlencoded::parse(query.as_bytes()).into_owned());
        Ok(Params { pairs })
    }
}

/// Parses a time parameter (`parseTime`): float seconds or RFC 3339, to ms.
pub fn parse_time(s: &str) -> Result<i64, String> {
    let err = || format!("cannot parse {} to a valid timestamp", go_quote(s));
    if let Ok(f) = s.parse::<f64>() {
        if !f.is_finite() {
            return Err(err());
        }
        // Go: s, ns := math.Modf(t); ns = math.Round(ns*1000)/1000.
        let secs = f.trunc();
        let frac_ms = ((f - secs) * 1000.0).round();
        let ms = secs * 1000.0 + frac_ms;
        if !(-9.2e18..=9.2e18).contains(&ms) {
            return Err(err());
        }
        return Ok(ms as i64);
    }
    match s {
        MIN_TIME_FORMATTED => return Ok(MIN_TIME_MS),
        MAX_TIME_FORMATTED => return Ok(MAX_TIME_MS),
        _ => {}
    }
    parse_rfc3339_ms(s).ok_or_else(err)
}

/// `parseTimeParam`: the parameter's time, or `default` when it is empty.
pub fn parse_time_param(p: &Params, name: &str, default: i64) -> Result<i64, Fail> {
    let v = p.get(name);
    if v.is_empty() {
        return Ok(default);
    }
    parse_time(v).map_err(|e| {
        Fail(super::envelope::invalid_param(
            name,
            format!("Invalid time value for '{name}': {e}"),
        ))
    })
}

/// Parses a duration parameter (`parseDuration`) into nanoseconds.
pub fn parse_duration_ns(s: &str) -> Result<i64, String> {
    if let Ok(f) = s.parse::<f64>() {
        let ns = f * 1e9;
        // Go compares against float64(MaxInt64), which rounds up to 2^63.
        if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&ns) {
            return Err(format!(
                "cannot parse {} to a valid duration. It overflows int64",
                go_quote(s)
            ));
        }
        return Ok(ns as i64);
    }
    parse_duration_ms(s)
        .ok()
        .and_then(|ms| ms.checked_mul(1_000_000))
        .ok_or_else(|| format!("cannot parse {} to a valid duration", go_quote(s)))
}

/// `parseLimitParam`: 0 means no limit.
pub fn parse_limit(s: &str) -> Result<usize, Fail> {
    if s.is_empty() {
        return Ok(0);
    }
    let n: i64 = s.parse().map_err(|_| {
        let why = if !s.is_empty()
            && s.trim_start_matches(['+', '-'])
                .bytes()
                .all(|b| b.is_ascii_digit())
            && s.len() > 1
        {
            "value out of range"
        } else {
            "invalid syntax"
        };
        Fail(super::envelope::invalid_param(
            "limit",
            format!("strconv.Atoi: parsing {}: {why}", go_quote(s)),
        ))
    })?;
    if n < 0 {
        return Err(Fail(super::envelope::invalid_param(
            "limit",
            "limit must be non-negative",
        )));
    }
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// `parseMatchersParam`: each `match[]` selector parsed; every set must have a matcher that
/// does not match the empty string.
pub fn parse_matchers(selectors: &[&str]) -> Result<Vec<Vec<Matcher>>, String> {
    let mut sets = Vec::with_capacity(selectors.len());
    for s in selectors {
        let ms = parse_metric_selector(s).map_err(|e| e.message)?;
        sets.push(ms);
    }
    if sets.iter().any(|ms| ms.iter().all(|m| m.matches_empty())) {
        return Err("match[] must contain at least one non-empty matcher".to_owned());
    }
    Ok(sets)
}

/// Quotes like Go's `%q` (enough for parameter echoes in messages).
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    argus_model::labels::go_quote_into(s, &mut out);
    out
}

/// Days since 1970-01-01 of a proleptic Gregorian date (inverse of `civil_from_days`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses Go's RFC 3339 with optional fraction (`time.RFC3339Nano` layout) into ms,
/// truncating sub-millisecond digits as `timestamp.FromTime` does.
fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<u32> {
        let part = s.get(from..from + len)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let sep = |at: usize, c: u8| b.get(at) == Some(&c);
    let year = i64::from(num(0, 4)?);
    if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
        return None;
    }
    let (month, day) = (num(5, 2)?, num(8, 2)?);
    let (hour, min, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month) || hour > 23 || min > 59 || sec > 59 || day < 1 {
        return None;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day > month_days {
        return None;
    }
    let mut pos = 19;
    let mut nanos: i64 = 0;
    if matches!(b.get(pos), Some(b'.') | Some(b',')) {
        pos += 1;
        let start = pos;
        while b.get(pos).is_some_and(u8::is_ascii_digit) {
            pos += 1;
        }
        let digits = s.get(start..pos)?;
        if digits.is_empty() || digits.len() > 9 {
            return None;
        }
        let mut padded = digits.to_owned();
        while padded.len() < 9 {
            padded.push('0');
        }
        nanos = padded.parse().ok()?;
    }
    let offset_secs: i64 = match b.get(pos) {
        Some(b'Z') if pos + 1 == b.len() => 0,
        Some(&c @ (b'+' | b'-')) if pos + 6 == b.len() && sep(pos + 3, b':') => {
            let (oh, om) = (num(pos + 1, 2)?, num(pos + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let o = i64::from(oh * 3600 + om * 60);
            if c == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    debug_assert_eq!(civil_from_days(days), (year, month, day));
    let secs = days * 86_400 + i64::from(hour * 3600 + min * 60 + sec) - offset_secs;
    Some(secs * 1000 + nanos / 1_000_000)
}

/// Converts nanoseconds to ms as Go's `durationMilliseconds` does (truncating).
pub fn ns_to_ms(ns: i64) -> i64 {
    ns / 1_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("1700000000.123"), Ok(1_700_000_000_123));
        assert_eq!(parse_time("1700000000.1234"), Ok(1_700_000_000_123));
        assert_eq!(parse_time("1700000000.1235"), Ok(1_700_000_000_124));
        assert_eq!(parse_time("-1.5"), Ok(-1500));
        assert_eq!(parse_time("1e3"), Ok(1_000_000));
        assert_eq!(
            parse_time("2023-11-14T22:13:20.123Z"),
            Ok(1_700_000_000_123)
        );
        assert_eq!(
            parse_time("2023-11-14T23:13:20.1239+01:00"),
            Ok(1_700_000_000_123)
        );
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_time("1969-12-31T23:59:59.5Z"), Ok(-500));
        assert_eq!(parse_time("2000-02-29T00:00:00Z"), Ok(951_782_400_000));
        assert_eq!(parse_time(MIN_TIME_FORMATTED), Ok(MIN_TIME_MS));
        assert_eq!(parse_time(MAX_TIME_FORMATTED), Ok(MAX_TIME_MS));
        for bad in [
            "abc",
            "",
            "2001-02-29T00:00:00Z",
            "2023-11-14T22:13:20",
            "2023-11-14 22:13:20Z",
            "2023-13-01T00:00:00Z",
            "NaN",
            "Inf",
            "1e300",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_time("abc").unwrap_err(),
            r#"cannot parse "abc" to a valid timestamp"#
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ns("15"), Ok(15_000_000_000));
        assert_eq!(parse_duration_ns("0.5"), Ok(500_000_000));
        assert_eq!(parse_duration_ns("1m30s"), Ok(90_000_000_000));
        assert_eq!(parse_duration_ns("-1"), Ok(-1_000_000_000));
        assert_eq!(
            parse_duration_ns("1h5x").unwrap_err(),
            r#"cannot parse "1h5x" to a valid duration"#
        );
        assert_eq!(
            parse_duration_ns("1e300").unwrap_err(),
            r#"cannot parse "1e300" to a valid duration. It overflows int64"#
        );
    }

    #[test]
    fn limits() {
        assert_eq!(parse_limit("").unwrap(), 0);
        assert_eq!(parse_limit("5").unwrap(), 5);
        assert_eq!(
            parse_limit("x").unwrap_err().0.message,
            r#"invalid parameter "limit": strconv.Atoi: parsing "x": invalid syntax"#
        );
        assert_eq!(
            parse_limit("-1").unwrap_err().0.message,
            r#"invalid parameter "limit": limit must be non-negative"#
        );
    }

    #[test]
    fn form_values() {
        let p = Params::from_query("match%5B%5D=up&match[]=a+b&x=1&x=2");
        assert_eq!(p.all("match[]"), ["up", "a b"]);
        assert_eq!(p.get("x"), "1");
        assert_eq!(p.get("nope"), "");
    }
}
