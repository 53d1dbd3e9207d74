//! `time_intervals` (and the deprecated top-level `mute_time_intervals`): named sets of
//! time ranges used by routes' `mute_time_intervals` / `active_time_intervals`. Parsing and
//! the containment rules follow Alertmanager's `timeinterval` package, including negative
//! days of month counted from the end of the month and clamping to the month's length.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{Deserialize, Serialize};

/// A named time interval as written in the config.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TimeIntervalConfig {
    /// Referenced by routes.
    pub name: String,
    /// The alternatives; the interval contains a time if any of them does.
    #[serde(default)]
    pub time_intervals: Vec<TimeIntervalSpec>,
}

/// One alternative of a named interval; every field given must contain the time.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TimeIntervalSpec {
    /// Time-of-day ranges (`HH:MM`, end exclusive, `24:00` allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<Vec<TimeRangeSpec>>,
    /// `monday`, `monday:friday`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekdays: Option<Vec<String>>,
    /// `1`, `1:5`, `-3:-1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_of_month: Option<Vec<String>>,
    /// `january`, `1:3`, `may:august`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub months: Option<Vec<String>>,
    /// `2024`, `2020:2022`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub years: Option<Vec<String>>,
    /// IANA zone name, `UTC` or `Local`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// A time-of-day range.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TimeRangeSpec {
    /// `HH:MM`.
    pub start_time: String,
    /// `HH:MM` (exclusive), up to `24:00`.
    pub end_time: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Location {
    Utc,
    Local,
    Tz(chrono_tz::Tz),
}

/// One compiled alternative.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeInterval {
    times: Option<Vec<(u32, u32)>>,
    weekdays: Option<Vec<(u32, u32)>>,
    days_of_month: Option<Vec<(i32, i32)>>,
    months: Option<Vec<(u32, u32)>>,
    years: Option<Vec<(i32, i32)>>,
    location: Location,
}

const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn split_range(s: &str) -> (&str, &str) {
    match s.split_once(':') {
        Some((a, b)) => (a, b),
        None => (s, s),
    }
}

fn parse_minutes(s: &str) -> Result<u32, String> {
    let bad = || format!("couldn't parse timestamp {s}, invalid format");
    if s == "24:00" {
        return Ok(24 * 60);
    }
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u32 = h.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn parse_named(s: &str, names: &[&str], base: u32, what: &str) -> Result<u32, String> {
    let lower = s.trim().to_lowercase();
    if let Some(i) = names.iter().position(|n| *n == lower) {
        return Ok(i as u32 + base);
    }
    if what == "month" {
        if let Ok(n) = lower.parse::<u32>() {
            if (1..=12).contains(&n) {
                return Ok(n);
            }
            return Err(format!("{n} is not a valid month"));
        }
    }
    Err(format!("{s:?} is not a valid {what}"))
}

fn compile_spec(spec: &TimeIntervalSpec) -> Result<TimeInterval, String> {
    let times = match &spec.times {
        None => None,
        Some(ts) => {
            let mut out = Vec::new();
            for t in ts {
                let a = parse_minutes(&t.start_time)?;
                let b = parse_minutes(&t.end_time)?;
                if a >= b {
                    return Err("start time cannot be equal or greater than end time".into());
                }
                out.push((a, b));
            }
            Some(out)
        }
    };
    let weekdays = match &spec.weekdays {
        None => None,
        Some(ws) => {
            let mut out = Vec::new();
            for w in ws {
                let (a, b) = split_range(w);
                let a = parse_named(a, &WEEKDAYS, 0, "weekday")?;
                let b = parse_named(b, &WEEKDAYS, 0, "weekday")?;
                if a > b {
                    return Err("start day cannot be before end day".into());
                }
                out.push((a, b));
            }
            Some(out)
        }
    };
    let days_of_month = match &spec.days_of_month {
        None => None,
        Some(ds) => {
            let mut out = Vec::new();
            for d in ds {
                let (a, b) = split_range(d);
                let p = |s: &str| {
                    s.trim()
                        .parse::<i32>()
                        .map_err(|_| format!("invalid day of month {s:?}"))
                };
                let (a, b) = (p(a)?, p(b)?);
                for v in [a, b] {
                    if v == 0 || !(-31..=31).contains(&v) {
                        return Err(format!("{v} is not a valid day of the month: out of range"));
                    }
                }
                if a < 0 && b > 0 {
                    return Err("end day must be negative if start day is negative".into());
                }
                let cb = if a < 0 { 28 + a } else { a };
                let ce = if b < 0 { 28 + b } else { b };
                if cb > ce {
                    return Err(format!("end day {b} is always before start day {a}"));
                }
                out.push((a, b));
            }
            Some(out)
        }
    };
    let months = match &spec.months {
        None => None,
        Some(ms) => {
            let mut out = Vec::new();
            for m in ms {
                let (a, b) = split_range(m);
                let a = parse_named(a, &MONTHS, 1, "month")?;
                let b = parse_named(b, &MONTHS, 1, "month")?;
                if a > b {
                    return Err("end month is before start month".into());
                }
                out.push((a, b));
            }
            Some(out)
        }
    };
    let years = match &spec.years {
        None => None,
        Some(ys) => {
            let mut out = Vec::new();
            for y in ys {
                let (a, b) = split_range(y);
                let p = |s: &str| {
                    s.trim()
                        .parse::<i32>()
                        .map_err(|_| format!("invalid year {s:?}"))
                };
                let (a, b) = (p(a)?, p(b)?);
                if a > b {
                    return Err("end year cannot be before start year".into());
                }
                out.push((a, b));
            }
            Some(out)
        }
    };
    let location = match spec.location.as_deref() {
        None | Some("UTC") | Some("") => Location::Utc,
        Some("Local") => Location::Local,
        Some(name) => Location::Tz(
            name.parse::<chrono_tz::Tz>()
                .map_err(|_| format!("unknown time zone {name:?}"))?,
        ),
    };
    Ok(TimeInterval {
        times,
        weekdays,
        days_of_month,
        months,
        years,
        location,
    })
}

/// Compiles a named interval's alternatives.
pub fn compile(cfg: &TimeIntervalConfig) -> Result<Vec<TimeInterval>, String> {
    cfg.time_intervals.iter().map(compile_spec).collect()
}

fn days_in_month(year: i32, month: u32) -> i32 {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    let first_next = chrono::NaiveDate::from_ymd_opt(ny, nm, 1);
    let first = chrono::NaiveDate::from_ymd_opt(year, month, 1);
    match (first, first_next) {
        (Some(a), Some(b)) => (b - a).num_days() as i32,
        _ => 31,
    }
}

/// The broken-down local time fields the checks need.
struct Fields {
    minute_of_day: u32,
    day: i32,
    month: u32,
    year: i32,
    weekday: u32,
}

fn fields<T: Datelike + Timelike>(t: &T) -> Fields {
    Fields {
        minute_of_day: t.hour() * 60 + t.minute(),
        day: t.day() as i32,
        month: t.month(),
        year: t.year(),
        weekday: t.weekday().num_days_from_sunday(),
    }
}

impl TimeInterval {
    /// True when `t` lies in this alternative.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        let f = match &self.location {
            Location::Utc => fields(&t),
            Location::Local => fields(&t.with_timezone(&chrono::Local)),
            Location::Tz(z) => fields(&t.with_timezone(z)),
        };
        if let Some(ts) = &self.times {
            if !ts
                .iter()
                .any(|(a, b)| f.minute_of_day >= *a && f.minute_of_day < *b)
            {
                return false;
            }
        }
        if let Some(ds) = &self.days_of_month {
            let dim = days_in_month(f.year, f.month);
            let mut inside = false;
            for (a, b) in ds {
                let begin = if *a < 0 { dim + a + 1 } else { *a };
                let end = if *b < 0 { dim + b + 1 } else { *b };
                if begin > dim {
                    continue;
                }
                let begin = begin.clamp(-dim, dim);
                let end = end.clamp(-dim, dim);
                if f.day >= begin && f.day <= end {
                    inside = true;
                    break;
                }
            }
            if !inside {
                return false;
            }
        }
        if let Some(ms) = &self.months {
            if !ms.iter().any(|(a, b)| f.month >= *a && f.month <= *b) {
                return false;
            }
        }
        if let Some(ws) = &self.weekdays {
            if !ws.iter().any(|(a, b)| f.weekday >= *a && f.weekday <= *b) {
                return false;
            }
        }
        if let Some(ys) = &self.years {
            if !ys.iter().any(|(a, b)| f.year >= *a && f.year <= *b) {
                return false;
            }
        }
        true
    }
}

/// True when any alternative contains `t`.
pub fn any_contains(intervals: &[TimeInterval], t: DateTime<Utc>) -> bool {
    intervals.iter().any(|i| i.contains(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn spec(yaml: &str) -> Vec<TimeInterval> {
        let c: TimeIntervalConfig = serde_yaml_ng::from_str(yaml).unwrap();
        compile(&c).unwrap()
    }

    #[test]
    fn business_hours() {
        let ti = spec(
            "name: bh\ntime_intervals:\n- times: [{start_time: '09:00', end_time: '17:00'}]\n  weekdays: ['monday:friday']\n",
        );
        // 2024-01-01 is a Monday.
        let mon_10 = Utc.with_ymd_and_hms(2024, 1, 1, 10, 0, 0).unwrap();
        let mon_17 = Utc.with_ymd_and_hms(2024, 1, 1, 17, 0, 0).unwrap();
        let sun_10 = Utc.with_ymd_and_hms(2024, 1, 7, 10, 0, 0).unwrap();
        assert!(any_contains(&ti, mon_10));
        assert!(!any_contains(&ti, mon_17));
        assert!(!any_contains(&ti, sun_10));
    }

    #[test]
    fn negative_days_and_zones() {
        let ti = spec(
            "name: eom\ntime_intervals:\n- days_of_month: ['-2:-1']\n  location: Europe/Berlin\n",
        );
        // 2024-02-28 23:30 UTC is 2024-02-29 00:30 in Berlin: the last day of February.
        assert!(any_contains(
            &ti,
            Utc.with_ymd_and_hms(2024, 2, 28, 23, 30, 0).unwrap()
        ));
        assert!(any_contains(
            &ti,
            Utc.with_ymd_and_hms(2024, 2, 28, 12, 0, 0).unwrap()
        ));
        assert!(!any_contains(
            &ti,
            Utc.with_ymd_and_hms(2024, 2, 27, 12, 0, 0).unwrap()
        ));
    }

    #[test]
    fn rejects_bad_specs() {
        for bad in [
            "name: x\ntime_intervals:\n- times: [{start_time: '10:00', end_time: '09:00'}]\n",
            "name: x\ntime_intervals:\n- weekdays: ['friday:monday']\n",
            "name: x\ntime_intervals:\n- days_of_month: ['0']\n",
            "name: x\ntime_intervals:\n- months: ['13']\n",
            "name: x\ntime_intervals:\n- location: 'Mars/Olympus'\n",
            "name: x\ntime_intervals:\n- times: [{start_time: '9:00', end_time: '10:00'}]\n",
        ] {
            let c: TimeIntervalConfig = serde_yaml_ng::from_str(bad).unwrap();
            assert!(compile(&c).is_err(), "{bad}");
        }
    }
}
