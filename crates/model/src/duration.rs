//! Prometheus durations (`1h30m`, `5m`, `15d`, `100ms`, `1y`), as used in flags, config
//! files, rule files and PromQL. Units: `y` (365 d), `w`, `d`, `h`, `m`, `s`, `ms`, each at
//! most once and in that order; `0` alone is allowed.

use std::fmt;

/// A duration that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid duration string: {0:?}")]
pub struct DurationError(pub String);

const UNITS: [(&str, i64); 7] = [
    ("y", 365 * 24 * 3600 * 1000),
    ("w", 7 * 24 * 3600 * 1000),
    ("d", 24 * 3600 * 1000),
    ("h", 3600 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
];

/// Parses a Prometheus duration into milliseconds.
pub fn parse_duration_ms(s: &str) -> Result<i64, DurationError> {
    let err = || DurationError(s.to_owned());
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(err());
    }
    let bytes = s.as_bytes();
    let mut pos = 0;
    let mut total: i64 = 0;
    let mut last_unit: Option<usize> = None;
    while pos < bytes.len() {
        let start = pos;
        while pos < bytes.len() && bytes.get(pos).is_some_and(u8::is_ascii_digit) {
            pos += 1;
        }
        if pos == start {
            return Err(err());
        }
        let n: i64 = s
            .get(start..pos)
            .and_then(|d| d.parse().ok())
            .ok_or_else(err)?;
        let rest = s.get(pos..).ok_or_else(err)?;
        // "ms" must be tried before "m".
        let (idx, unit, mult) = [6usize, 0, 1, 2, 3, 4, 5]
            .iter()
            .filter_map(|&i| UNITS.get(i).map(|(u, m)| (i, *u, *m)))
            .find(|(_, u, _)| rest.starts_with(u))
            .ok_or_else(err)?;
        if last_unit.is_some_and(|l| idx <= l) {
            return Err(err());
        }
        last_unit = Some(idx);
        pos += unit.len();
        total = n
            .checked_mul(mult)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(err)?;
    }
    Ok(total)
}

/// Formats milliseconds as Prometheus does (`1h30m`, `5m`, `0s`, `1y`).
pub fn format_duration_ms(ms: i64) -> String {
    if ms == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    let mut rest = ms;
    if rest < 0 {
        out.push('-');
        rest = -rest;
    }
    for (unit, mult) in UNITS {
        if rest >= mult {
            out.push_str(&format!("{}{unit}", rest / mult));
            rest %= mult;
        }
    }
    out
}

/// A duration in milliseconds that (de)serializes as a Prometheus duration string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PromDuration(pub i64);

impl PromDuration {
    /// Milliseconds.
    pub fn as_millis(self) -> i64 {
        self.0
    }

    /// As a `std::time::Duration` (negative durations become zero).
    pub fn to_std(self) -> std::time::Duration {
        std::time::Duration::from_millis(u64::try_from(self.0).unwrap_or(0))
    }
}

impl std::str::FromStr for PromDuration {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Self, DurationError> {
        parse_duration_ms(s).map(PromDuration)
    }
}

impl fmt::Display for PromDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration_ms(self.0))
    }
}

impl serde::Serialize for PromDuration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> serde::Deserialize<'de> for PromDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A visitor (rather than String then parse) so the error is raised while the
        // deserializer is on the value, and YAML errors point at its line and column.
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = PromDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as 15s or 1h30m")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<PromDuration, E> {
                s.parse().map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<PromDuration, E> {
                self.visit_str(&n.to_string())
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<PromDuration, E> {
                self.visit_str(&n.to_string())
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prometheus_durations() {
        assert_eq!(parse_duration_ms("0"), Ok(0));
        assert_eq!(parse_duration_ms("5m"), Ok(300_000));
        assert_eq!(parse_duration_ms("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration_ms("100ms"), Ok(100));
        assert_eq!(parse_duration_ms("1m500ms"), Ok(60_500));
        assert_eq!(parse_duration_ms("15d"), Ok(15 * 86_400_000));
        assert_eq!(parse_duration_ms("1y"), Ok(365 * 86_400_000));
        for bad in ["", "5", "m", "1.5h", "30m1h", "1h1h", "-5m", "5 m"] {
            assert!(parse_duration_ms(bad).is_err(), "{bad:?} must fail");
        }
    }

    #[test]
    fn formats_like_prometheus() {
        assert_eq!(format_duration_ms(0), "0s");
        assert_eq!(format_duration_ms(5_400_000), "1h30m");
        assert_eq!(format_duration_ms(60_500), "1m500ms");
        assert_eq!(format_duration_ms(8 * 86_400_000), "1w1d");
    }
}
