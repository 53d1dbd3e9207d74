//! Go's `time.Time` and `time.Duration` as template values: `String()`, `Format(layout)`,
//! and `In(location)` with zones read from the system tz database (TZif files).

use std::fmt;
use std::sync::Arc;

/// An instant with a zone, like Go's `time.Time` (no monotonic reading).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoTime {
    /// Seconds since the Unix epoch.
    pub secs: i64,
    /// Nanoseconds within the second, `0..1e9`.
    pub nanos: u32,
    /// Zone offset east of UTC, seconds.
    pub offset: i32,
    /// Zone abbreviation (`UTC`, `CET`, ...).
    pub zone: Arc<str>,
}

impl GoTime {
    /// A UTC time from Unix milliseconds.
    pub fn from_unix_ms(ms: i64) -> Self {
        Self::from_unix_nanos(i128::from(ms) * 1_000_000)
    }

    /// A UTC time from Unix nanoseconds.
    pub fn from_unix_nanos(ns: i128) -> Self {
        let secs = ns.div_euclid(1_000_000_000);
        let nanos = ns.rem_euclid(1_000_000_000) as u32;
        GoTime {
            secs: i64::try_from(secs).unwrap_or(if secs < 0 { i64::MIN } else { i64::MAX }),
            nanos,
            offset: 0,
            zone: Arc::from("UTC"),
        }
    }

    /// The current time, UTC.
    pub fn now() -> Self {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Self::from_unix_nanos(d.as_nanos() as i128)
    }

    /// Unix time in nanoseconds.
    pub fn unix_nanos(&self) -> i128 {
        i128::from(self.secs) * 1_000_000_000 + i128::from(self.nanos)
    }

    /// Unix time in (fractional) seconds.
    pub fn unix_f64(&self) -> f64 {
        self.secs as f64 + f64::from(self.nanos) / 1e9
    }

    /// The same instant in UTC.
    pub fn utc(&self) -> Self {
        GoTime {
            offset: 0,
            zone: Arc::from("UTC"),
            ..self.clone()
        }
    }

    /// The same instant in the named zone (`UTC`, `Local`, `Europe/Berlin`), like Go's
    /// `time.LoadLocation` + `In`. Errors read `unknown time zone NAME` as Go's do.
    pub fn in_zone(&self, name: &str) -> Result<Self, String> {
        if name.is_empty() || name == "UTC" {
            return Ok(self.utc());
        }
        let path = if name == "Local" {
            std::path::PathBuf::from("/etc/localtime")
        } else {
            if name.contains("..") || name.starts_with('/') {
                return Err(format!("time: invalid location name {name:?}"));
            }
            let dir = std::env::var("ZONEINFO").unwrap_or_else(|_| "/usr/share/zoneinfo".into());
            std::path::Path::new(&dir).join(name)
        };
        let data = std::fs::read(&path).map_err(|_| format!("unknown time zone {name}"))?;
        let (offset, abbr) =
            tzif_lookup(&data, self.secs).ok_or_else(|| format!("unknown time zone {name}"))?;
        Ok(GoTime {
            offset,
            zone: Arc::from(abbr.as_str()),
            ..self.clone()
        })
    }

    /// Civil fields in the time's own zone.
    fn civil(&self) -> Civil {
        let local = self.secs + i64::from(self.offset);
        let days = local.div_euclid(86_400);
        let sod = local.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let weekday = (days + 4).rem_euclid(7) as usize; // 1970-01-01 was a Thursday
        let yday = days - days_from_civil(year, 1, 1) + 1;
        Civil {
            year,
            month,
            day,
            hour: (sod / 3600) as u32,
            min: ((sod / 60) % 60) as u32,
            sec: (sod % 60) as u32,
            weekday,
            yday: yday as u32,
        }
    }

    /// Go's `Time.Format(layout)` with the reference time `Mon Jan 2 15:04:05 MST 2006`.
    pub fn format(&self, layout: &str) -> String {
        format_layout(self, layout)
    }
}

/// Methods of Go's `time.Time` callable from templates (`.StartsAt.Format "..."`).
pub(crate) fn time_method(
    t: &GoTime,
    name: &str,
    args: &[crate::Value],
) -> Option<Result<crate::Value, String>> {
    use crate::Value;
    let c = t.civil();
    let no_args = |v: Value| {
        if args.is_empty() {
            Ok(v)
        } else {
            Err(format!(
                "wrong number of args for {name}: want 0 got {}",
                args.len()
            ))
        }
    };
    Some(match name {
        "Format" => match args {
            [v] => match v.as_str() {
                Some(layout) => Ok(Value::String(t.format(layout))),
                None => Err(format!(
                    "wrong type for value; expected string; got {}",
                    v.type_name()
                )),
            },
            _ => Err(format!(
                "wrong number of args for Format: want 1 got {}",
                args.len()
            )),
        },
        "Unix" => no_args(Value::Int(t.secs)),
        "UnixMilli" => no_args(Value::Int(
            t.secs.saturating_mul(1000) + i64::from(t.nanos / 1_000_000),
        )),
        "UnixNano" => no_args(Value::Int(
            i64::try_from(t.unix_nanos()).unwrap_or(i64::MAX),
        )),
        "UTC" => no_args(Value::Time(t.utc())),
        "String" => no_args(Value::String(t.to_string())),
        "IsZero" => no_args(Value::Bool(t.secs == -62_135_596_800 && t.nanos == 0)),
        "Year" => no_args(Value::Int(c.year)),
        "Month" => no_args(Value::String(
            LONG_MONTHS
                .get(c.month as usize - 1)
                .copied()
                .unwrap_or("")
                .into(),
        )),
        "Day" => no_args(Value::Int(i64::from(c.day))),
        "YearDay" => no_args(Value::Int(i64::from(c.yday))),
        "Weekday" => no_args(Value::String(
            LONG_DAYS.get(c.weekday).copied().unwrap_or("").into(),
        )),
        "Hour" => no_args(Value::Int(i64::from(c.hour))),
        "Minute" => no_args(Value::Int(i64::from(c.min))),
        "Second" => no_args(Value::Int(i64::from(c.sec))),
        "Nanosecond" => no_args(Value::Int(i64::from(t.nanos))),
        _ => return None,
    })
}

/// Methods of Go's `time.Duration`.
pub(crate) fn duration_method(
    d: i64,
    name: &str,
    args: &[crate::Value],
) -> Option<Result<crate::Value, String>> {
    use crate::Value;
    if !args.is_empty() {
        return Some(Err(format!(
            "wrong number of args for {name}: want 0 got {}",
            args.len()
        )));
    }
    Some(Ok(match name {
        "Seconds" => Value::Float(d as f64 / 1e9),
        "Minutes" => Value::Float(d as f64 / 6e10),
        "Hours" => Value::Float(d as f64 / 3.6e12),
        "Milliseconds" => Value::Int(d / 1_000_000),
        "Microseconds" => Value::Int(d / 1_000),
        "Nanoseconds" => Value::Int(d),
        "String" => Value::String(format_duration(d)),
        _ => return None,
    }))
}

/// `2006-01-02 15:04:05.999999999 -0700 MST`, Go's `Time.String()`.
impl fmt::Display for GoTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format("2006-01-02 15:04:05.999999999 -0700 MST"))
    }
}

struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    min: u32,
    sec: u32,
    weekday: usize,
    yday: u32,
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) → days since 1970-01-01.
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const LONG_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Layout elements, in the order Go's `nextStdChunk` tries them at each position.
fn format_layout(t: &GoTime, layout: &str) -> String {
    let c = t.civil();
    let month_name = LONG_MONTHS
        .get((c.month as usize).wrapping_sub(1))
        .copied()
        .unwrap_or("");
    let day_name = LONG_DAYS.get(c.weekday).copied().unwrap_or("");
    let mut out = String::new();
    let b = layout.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let rest = &layout[i..];
        let (text, adv): (String, usize) = if rest.starts_with("January") {
            (month_name.to_string(), 7)
        } else if rest.starts_with("Jan") {
            (month_name.chars().take(3).collect(), 3)
        } else if rest.starts_with("Monday") {
            (day_name.to_string(), 6)
        } else if rest.starts_with("Mon") {
            (day_name.chars().take(3).collect(), 3)
        } else if rest.starts_with("MST") {
            (zone_name(t), 3)
        } else if rest.starts_with("01") {
            (format!("{:02}", c.month), 2)
        } else if rest.starts_with("02") {
            (format!("{:02}", c.day), 2)
        } else if rest.starts_with("03") {
            (format!("{:02}", hour12(c.hour)), 2)
        } else if rest.starts_with("04") {
            (format!("{:02}", c.min), 2)
        } else if rest.starts_with("05") {
            (format!("{:02}", c.sec), 2)
        } else if rest.starts_with("06") {
            (format!("{:02}", c.year.rem_euclid(100)), 2)
        } else if rest.starts_with("002") {
            (format!("{:03}", c.yday), 3)
        } else if rest.starts_with("2006") {
            (format!("{:04}", c.year), 4)
        } else if rest.starts_with("__2") {
            (format!("{:>3}", c.yday), 3)
        } else if rest.starts_with("_2") {
            (format!("{:>2}", c.day), 2)
        } else if rest.starts_with("15") {
            (format!("{:02}", c.hour), 2)
        } else if rest.starts_with('1') {
            (c.month.to_string(), 1)
        } else if rest.starts_with('2') {
            (c.day.to_string(), 1)
        } else if rest.starts_with('3') {
            (hour12(c.hour).to_string(), 1)
        } else if rest.starts_with('4') {
            (c.min.to_string(), 1)
        } else if rest.starts_with('5') {
            (c.sec.to_string(), 1)
        } else if rest.starts_with("PM") {
            ((if c.hour >= 12 { "PM" } else { "AM" }).to_string(), 2)
        } else if rest.starts_with("pm") {
            ((if c.hour >= 12 { "pm" } else { "am" }).to_string(), 2)
        } else if let Some((s, n)) = zone_chunk(t, rest) {
            (s, n)
        } else if let Some((s, n)) = frac_chunk(t, rest) {
            (s, n)
        } else {
            let ch = rest.chars().next().unwrap_or(' ');
            (ch.to_string(), ch.len_utf8())
        };
        out.push_str(&text);
        i += adv;
    }
    out
}

fn hour12(h: u32) -> u32 {
    match h % 12 {
        0 => 12,
        x => x,
    }
}

fn zone_name(t: &GoTime) -> String {
    if t.zone.is_empty() {
        // Go prints the numeric offset when a zone has no abbreviation.
        let (sign, off) = if t.offset < 0 {
            ('-', -t.offset)
        } else {
            ('+', t.offset)
        };
        format!("{sign}{:02}{:02}", off / 3600, (off / 60) % 60)
    } else {
        t.zone.to_string()
    }
}

/// `-0700`, `-07:00`, `-07`, `-070000`, `-07:00:00` and their `Z` variants.
fn zone_chunk(t: &GoTime, rest: &str) -> Option<(String, usize)> {
    const FORMS: [(&str, bool, bool, bool); 10] = [
        // (layout, colon, seconds, hours only)
        ("Z07:00:00", true, true, false),
        ("-07:00:00", true, true, false),
        ("Z070000", false, true, false),
        ("-070000", false, true, false),
        ("Z07:00", true, false, false),
        ("-07:00", true, false, false),
        ("Z0700", false, false, false),
        ("-0700", false, false, false),
        ("Z07", false, false, true),
        ("-07", false, false, true),
    ];
    for (form, colon, secs, hours_only) in FORMS {
        if rest.starts_with(form) {
            if form.starts_with('Z') && t.offset == 0 {
                return Some(("Z".to_string(), form.len()));
            }
            let (sign, off) = if t.offset < 0 {
                ('-', -t.offset)
            } else {
                ('+', t.offset)
            };
            let mut s = format!("{sign}{:02}", off / 3600);
            if !hours_only {
                if colon {
                    s.push(':');
                }
                s.push_str(&format!("{:02}", (off / 60) % 60));
            }
            if secs {
                if colon {
                    s.push(':');
                }
                s.push_str(&format!("{:02}", off % 60));
            }
            return Some((s, form.len()));
        }
    }
    None
}

/// `.000` (fixed digits) and `.999` (trailing zeros trimmed) fractional seconds; `,` too.
fn frac_chunk(t: &GoTime, rest: &str) -> Option<(String, usize)> {
    let b = rest.as_bytes();
    let sep = *b.first()?;
    if sep != b'.' && sep != b',' {
        return None;
    }
    let digit = *b.get(1)?;
    if digit != b'0' && digit != b'9' {
        return None;
    }
    let n = b.iter().skip(1).take_while(|&&c| c == digit).count();
    // Go only treats it as a fraction when no other digit follows the run.
    if b.get(1 + n).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let digits = format!("{:09}", t.nanos);
    let mut frac: String = digits.chars().take(n.min(9)).collect();
    if digit == b'9' {
        while frac.ends_with('0') {
            frac.pop();
        }
        if frac.is_empty() {
            return Some((String::new(), 1 + n));
        }
    }
    Some((format!("{}{frac}", sep as char), 1 + n))
}

/// Go's `Duration.String()`: `1h2m3.5s`, `1.5ms`, `0s`.
pub fn format_duration(d: i64) -> String {
    let neg = d < 0;
    let mut u = d.unsigned_abs();
    if u < 1_000_000_000 {
        // Sub-second: ns, µs, ms with a fraction.
        let (unit, prec) = match u {
            0 => return "0s".to_string(),
            1..=999 => ("ns", 0u32),
            1_000..=999_999 => ("µs", 3),
            _ => ("ms", 6),
        };
        let s = frac_string(u, prec);
        return format!("{}{s}{unit}", if neg { "-" } else { "" });
    }
    let mut out = frac_string(u % 60_000_000_000, 9);
    out.push('s');
    u /= 60_000_000_000;
    if u > 0 {
        out = format!("{}m{out}", u % 60);
        u /= 60;
        if u > 0 {
            out = format!("{u}h{out}");
        }
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

/// `v / 10^prec` with the fraction's trailing zeros dropped.
fn frac_string(v: u64, prec: u32) -> String {
    let p = 10u64.pow(prec);
    let int = v / p;
    let frac = v % p;
    if prec == 0 || frac == 0 {
        return int.to_string();
    }
    let mut f = format!("{frac:0width$}", width = prec as usize);
    while f.ends_with('0') {
        f.pop();
    }
    format!("{int}.{f}")
}

/// Offset and abbreviation in force at `t` according to a TZif file. After the last
/// transition the last transition's type is used (the POSIX footer rule is not evaluated;
/// Debian's "fat" zone files list transitions to 2037).
fn tzif_lookup(data: &[u8], t: i64) -> Option<(i32, String)> {
    if data.get(0..4)? != b"TZif" {
        return None;
    }
    let version = *data.get(4)?;
    let counts = |at: usize| -> Option<[usize; 6]> {
        let mut c = [0usize; 6];
        for (i, slot) in c.iter_mut().enumerate() {
            let off = at + 20 + i * 4;
            let b: [u8; 4] = data.get(off..off + 4)?.try_into().ok()?;
            *slot = u32::from_be_bytes(b) as usize;
        }
        Some(c)
    };
    let [isut, isstd, leap, timecnt, typecnt, charcnt] = counts(0)?;
    let v1_len = timecnt * 5 + typecnt * 6 + charcnt + leap * 8 + isstd + isut;
    let (base, tsize) = if version >= b'2' {
        let h2 = 44 + v1_len;
        (h2, 8usize)
    } else {
        (0, 4usize)
    };
    let [_, _, _, timecnt, typecnt, charcnt] = counts(base)?;
    let mut p = base + 44;
    let mut transitions = Vec::with_capacity(timecnt);
    for _ in 0..timecnt {
        let b = data.get(p..p + tsize)?;
        let v = if tsize == 8 {
            i64::from_be_bytes(b.try_into().ok()?)
        } else {
            i64::from(i32::from_be_bytes(b.try_into().ok()?))
        };
        transitions.push(v);
        p += tsize;
    }
    let idx = data.get(p..p + timecnt)?.to_vec();
    p += timecnt;
    let mut types = Vec::with_capacity(typecnt);
    for _ in 0..typecnt {
        let b = data.get(p..p + 6)?;
        let off = i32::from_be_bytes(b.get(0..4)?.try_into().ok()?);
        types.push((off, *b.get(4)? != 0, *b.get(5)? as usize));
        p += 6;
    }
    let chars = data.get(p..p + charcnt)?;
    let ty = match transitions.iter().rposition(|&tr| tr <= t) {
        Some(i) => *idx.get(i)? as usize,
        None => types.iter().position(|t| !t.1).unwrap_or(0),
    };
    let (off, _, abbr_at) = *types.get(ty)?;
    let abbr_bytes = chars.get(abbr_at..)?;
    let end = abbr_bytes
        .iter()
        .position(|&c| c == 0)
        .unwrap_or(abbr_bytes.len());
    let abbr = String::from_utf8_lossy(abbr_bytes.get(..end)?).into_owned();
    Some((off, abbr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_like_go() {
        assert_eq!(
            GoTime::from_unix_ms(1_435_065_584_128).to_string(),
            "2015-06-23 13:19:44.128 +0000 UTC"
        );
        assert_eq!(
            GoTime::from_unix_ms(0).to_string(),
            "1970-01-01 00:00:00 +0000 UTC"
        );
        assert_eq!(
            GoTime::from_unix_ms(-1).to_string(),
            "1969-12-31 23:59:59.999 +0000 UTC"
        );
    }

    #[test]
    fn layouts() {
        let t = GoTime::from_unix_ms(1_136_239_445_000); // 2006-01-02T22:04:05Z
        assert_eq!(
            t.format("2006-01-02T15:04:05Z07:00"),
            "2006-01-02T22:04:05Z"
        );
        assert_eq!(t.format("Mon Jan _2 3:04PM"), "Mon Jan  2 10:04PM");
        assert_eq!(
            t.format("Monday, January 2, 2006 .000"),
            "Monday, January 2, 2006 .000"
        );
        assert_eq!(
            t.format("02/01/06 15:04 MST -0700"),
            "02/01/06 22:04 UTC +0000"
        );
        let t = GoTime {
            offset: 3600,
            zone: Arc::from("CET"),
            ..t
        };
        assert_eq!(t.format(time_rfc3339()), "2006-01-02T23:04:05+01:00");
    }

    fn time_rfc3339() -> &'static str {
        "2006-01-02T15:04:05Z07:00"
    }

    #[test]
    fn durations_like_go() {
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(1), "1ns");
        assert_eq!(format_duration(1_500), "1.5µs");
        assert_eq!(format_duration(1_500_000), "1.5ms");
        assert_eq!(format_duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(format_duration(3_723_500_000_000), "1h2m3.5s");
        assert_eq!(format_duration(-120_000_000_000), "-2m0s");
    }

    #[test]
    fn zones_from_tzdb() {
        let t = GoTime::from_unix_ms(1_700_000_000_000); // 2023-11-14T22:13:20Z
        if std::path::Path::new("/usr/share/zoneinfo/Europe/Berlin").exists() {
            let b = t.in_zone("Europe/Berlin").unwrap();
            assert_eq!(b.to_string(), "2023-11-14 23:13:20 +0100 CET");
            let summer = GoTime::from_unix_ms(1_690_000_000_000)
                .in_zone("Europe/Berlin")
                .unwrap();
            assert_eq!(summer.offset, 7200);
            assert_eq!(&*summer.zone, "CEST");
        }
        assert!(t
            .in_zone("Nowhere/Nothing")
            .unwrap_err()
            .contains("unknown time zone"));
        assert_eq!(t.in_zone("UTC").unwrap(), t);
    }
}
