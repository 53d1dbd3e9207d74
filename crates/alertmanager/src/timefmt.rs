//! Timestamp text forms: the API's `strfmt.DateTime` (milliseconds, `Z`) and Go's
//! `time.Time` JSON (RFC 3339 with trailing zeros of the fraction trimmed), used in
//! webhook payloads, where an unset time is Go's zero time.

use chrono::{DateTime, Utc};

/// Go's zero `time.Time` as JSON.
pub const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// `2024-01-02T03:04:05.678Z` (API v2).
pub fn api(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Go's RFC3339Nano for a UTC time: fraction without trailing zeros, none if zero.
pub fn go(t: Option<DateTime<Utc>>) -> String {
    let Some(t) = t else {
        return GO_ZERO_TIME.to_owned();
    };
    let base = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = t.timestamp_subsec_nanos();
    if nanos == 0 {
        return format!("{base}Z");
    }
    let frac = format!("{nanos:09}");
    format!("{base}.{}Z", frac.trim_end_matches('0'))
}

/// Parses RFC 3339 (any offset) into UTC.
pub fn parse(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("invalid time {s:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let t = parse("2024-01-02T03:04:05.120+01:00").unwrap();
        assert_eq!(api(t), "2024-01-02T02:04:05.120Z");
        assert_eq!(go(Some(t)), "2024-01-02T02:04:05.12Z");
        assert_eq!(
            go(Some(parse("2024-01-02T03:04:05Z").unwrap())),
            "2024-01-02T03:04:05Z"
        );
        assert_eq!(go(None), GO_ZERO_TIME);
        assert!(parse("yesterday").is_err());
    }
}
