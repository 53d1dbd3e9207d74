//! The unit-test file format of `promtool test rules` (strictly decoded).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

fn scalar(v: &serde_yaml_ng::Value) -> Option<String> {
    match v {
        serde_yaml_ng::Value::String(s) => Some(s.clone()),
        serde_yaml_ng::Value::Number(n) => Some(n.to_string()),
        serde_yaml_ng::Value::Bool(b) => Some(b.to_string()),
        serde_yaml_ng::Value::Null => Some(String::new()),
        _ => None,
    }
}

fn de_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = serde_yaml_ng::Value::deserialize(d)?;
    scalar(&v).ok_or_else(|| serde::de::Error::custom("expected a string"))
}

/// A duration written as `5m`, `1h30m` or a bare `0`.
fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let s = de_string(d)?;
    argus_model::parse_duration_ms(&s)
        .map_err(|_| serde::de::Error::custom(format!("not a valid duration string: {s:?}")))
}

fn de_opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    de_duration(d).map(Some)
}

fn de_f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let s = de_string(d)?;
    argus_query::parser::parse_go_float(s.trim())
        .ok_or_else(|| serde::de::Error::custom(format!("invalid float {s:?}")))
}

/// `start_timestamp`: Unix seconds or RFC 3339 → ms.
fn de_start<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let s = de_string(d)?;
    if let Some(f) = argus_query::parser::parse_go_float(&s) {
        return Ok((f * 1000.0).round() as i64);
    }
    parse_rfc3339_ms(&s)
        .ok_or_else(|| serde::de::Error::custom(format!("invalid start_timestamp {s:?}")))
}

/// `2024-01-01T00:00:00Z`, `2024-01-01T00:00:00.5+02:00` → ms.
pub(crate) fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    let (date, rest) = s.split_once(['T', 't', ' '])?;
    let mut d = date.split('-');
    let (y, m, day): (i64, u32, u32) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    let (time, offset_s) = if let Some(t) = rest.strip_suffix(['Z', 'z']) {
        (t, 0i64)
    } else {
        let i = rest.rfind(['+', '-'])?;
        let (t, off) = rest.split_at(i);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (oh, om) = off.get(1..)?.split_once(':')?;
        (
            t,
            sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60),
        )
    };
    let mut t = time.split(':');
    let (h, mi): (i64, i64) = (t.next()?.parse().ok()?, t.next()?.parse().ok()?);
    let sec: f64 = t.next()?.parse().ok()?;
    let days = days_from_civil(y, m, day);
    Some((days * 86_400 + h * 3600 + mi * 60 - offset_s) * 1000 + (sec * 1000.0).round() as i64)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// A whole test file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// Rule files, relative to the test file.
    #[serde(default)]
    pub rule_files: Vec<String>,
    /// Rule evaluation interval (default 1m).
    #[serde(default, deserialize_with = "de_opt_duration")]
    pub evaluation_interval: Option<i64>,
    /// Order in which groups are evaluated.
    #[serde(default)]
    pub group_eval_order: Vec<String>,
    /// Compare floats allowing a last-bit difference.
    #[serde(default)]
    pub fuzzy_compare: bool,
    /// Test groups.
    #[serde(default)]
    pub tests: Vec<TestGroup>,
}

/// `input_series[]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSeries {
    /// Series selector (`metric{a="b"}`).
    #[serde(deserialize_with = "de_string")]
    pub series: String,
    /// Values in the expanding notation.
    #[serde(deserialize_with = "de_string")]
    pub values: String,
}

/// `exp_alerts[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpAlert {
    /// Expected labels (without `alertname`).
    #[serde(default)]
    pub exp_labels: BTreeMap<String, String>,
    /// Expected annotations.
    #[serde(default)]
    pub exp_annotations: BTreeMap<String, String>,
}

/// `alert_rule_test[]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertTestCase {
    /// Time after the start.
    #[serde(deserialize_with = "de_duration")]
    pub eval_time: i64,
    /// Alert name.
    #[serde(deserialize_with = "de_string")]
    pub alertname: String,
    /// Firing alerts expected.
    #[serde(default)]
    pub exp_alerts: Vec<ExpAlert>,
}

/// `exp_samples[]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpSample {
    /// Series notation.
    #[serde(default, deserialize_with = "de_string")]
    pub labels: String,
    /// Value.
    #[serde(default, deserialize_with = "de_f64")]
    pub value: f64,
    /// Native histogram (not supported).
    #[serde(default, deserialize_with = "de_string")]
    pub histogram: String,
}

/// `promql_expr_test[]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromqlTestCase {
    /// Query.
    #[serde(deserialize_with = "de_string")]
    pub expr: String,
    /// Time after the start.
    #[serde(deserialize_with = "de_duration")]
    pub eval_time: i64,
    /// Expected result.
    #[serde(default)]
    pub exp_samples: Vec<ExpSample>,
}

/// `tests[]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestGroup {
    /// Spacing of input samples (default: the evaluation interval).
    #[serde(default, deserialize_with = "de_opt_duration")]
    pub interval: Option<i64>,
    /// Input series.
    #[serde(default)]
    pub input_series: Vec<InputSeries>,
    /// Alert tests.
    #[serde(default)]
    pub alert_rule_test: Vec<AlertTestCase>,
    /// Expression tests.
    #[serde(default)]
    pub promql_expr_test: Vec<PromqlTestCase>,
    /// `$externalLabels`.
    #[serde(default)]
    pub external_labels: BTreeMap<String, String>,
    /// `$externalURL`.
    #[serde(default, deserialize_with = "de_string")]
    pub external_url: String,
    /// Name (for `--run` filtering and messages).
    #[serde(default, deserialize_with = "de_string")]
    pub name: String,
    /// Time of the first evaluation, ms (default 0).
    #[serde(default, deserialize_with = "de_start")]
    pub start_timestamp: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        assert_eq!(
            parse_rfc3339_ms("2024-01-01T00:00:00Z"),
            Some(1_704_067_200_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2024-01-01T02:00:00.5+02:00"),
            Some(1_704_067_200_500)
        );
        assert_eq!(parse_rfc3339_ms("nope"), None);
    }
}
