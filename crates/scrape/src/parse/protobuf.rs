//! The protobuf exposition format: a stream of varint-length-delimited
//! `io.prometheus.client.MetricFamily` messages (Content-Type
//! `application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily;
//! encoding=delimited`).
//!
//! The message types are written out by hand from `prometheus/client_model`'s
//! `metrics.proto` (proto2), with prost derives, so no `protoc` is needed. Each sample is
//! rendered as text-format series text (`name_bucket{a="b",le="0.5"}`), formatting `le`
//! and `quantile` as Prometheus' protobuf parser does (`1.0`, `1e+06`, `+Inf`), so a
//! target's series are the same whichever format it is scraped in. Native histograms are
//! reduced to their classic buckets (a missing `+Inf` bucket is added from the count).

use std::collections::VecDeque;
use std::ops::Range;

use argus_model::MetricType;
use prost::Message;

use super::lex::is_metric_name;
use super::{Entry, ParseError, SampleEntry};
use crate::relabel::is_legacy_label_name;

/// `io.prometheus.client.LabelPair`.
#[derive(Clone, PartialEq, Message)]
pub struct LabelPair {
    /// Name.
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    /// Value.
    #[prost(string, optional, tag = "2")]
    pub value: Option<String>,
}

/// `google.protobuf.Timestamp`.
#[derive(Clone, PartialEq, Message)]
pub struct Timestamp {
    /// Seconds.
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    /// Nanoseconds.
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// `io.prometheus.client.Gauge`.
#[derive(Clone, PartialEq, Message)]
pub struct Gauge {
    /// Value.
    #[prost(double, optional, tag = "1")]
    pub value: Option<f64>,
}

/// `io.prometheus.client.Counter`.
#[derive(Clone, PartialEq, Message)]
pub struct Counter {
    /// Value.
    #[prost(double, optional, tag = "1")]
    pub value: Option<f64>,
    /// Exemplar.
    #[prost(message, optional, tag = "2")]
    pub exemplar: Option<Exemplar>,
    /// Creation time.
    #[prost(message, optional, tag = "3")]
    pub created_timestamp: Option<Timestamp>,
}

/// `io.prometheus.client.Quantile`.
#[derive(Clone, PartialEq, Message)]
pub struct Quantile {
    /// Quantile.
    #[prost(double, optional, tag = "1")]
    pub quantile: Option<f64>,
    /// Value.
    #[prost(double, optional, tag = "2")]
    pub value: Option<f64>,
}

/// `io.prometheus.client.Summary`.
#[derive(Clone, PartialEq, Message)]
pub struct Summary {
    /// Count.
    #[prost(uint64, optional, tag = "1")]
    pub sample_count: Option<u64>,
    /// Sum.
    #[prost(double, optional, tag = "2")]
    pub sample_sum: Option<f64>,
    /// Quantiles.
    #[prost(message, repeated, tag = "3")]
    pub quantile: Vec<Quantile>,
    /// Creation time.
    #[prost(message, optional, tag = "4")]
    pub created_timestamp: Option<Timestamp>,
}

/// `io.prometheus.client.Untyped`.
#[derive(Clone, PartialEq, Message)]
pub struct Untyped {
    /// Value.
    #[prost(double, optional, tag = "1")]
    pub value: Option<f64>,
}

/// `io.prometheus.client.BucketSpan` (native histograms).
#[derive(Clone, PartialEq, Message)]
pub struct BucketSpan {
    /// Offset.
    #[prost(sint32, optional, tag = "1")]
    pub offset: Option<i32>,
    /// Length.
    #[prost(uint32, optional, tag = "2")]
    pub length: Option<u32>,
}

/// `io.prometheus.client.Bucket`.
#[derive(Clone, PartialEq, Message)]
pub struct Bucket {
    /// Cumulative count.
    #[prost(uint64, optional, tag = "1")]
    pub cumulative_count: Option<u64>,
    /// Cumulative count as a float (float histograms).
    #[prost(double, optional, tag = "4")]
    pub cumulative_count_float: Option<f64>,
    /// Upper bound.
    #[prost(double, optional, tag = "2")]
    pub upper_bound: Option<f64>,
    /// Exemplar.
    #[prost(message, optional, tag = "3")]
    pub exemplar: Option<Exemplar>,
}

/// `io.prometheus.client.Histogram`.
#[derive(Clone, PartialEq, Message)]
pub struct Histogram {
    /// Count.
    #[prost(uint64, optional, tag = "1")]
    pub sample_count: Option<u64>,
    /// Count as a float.
    #[prost(double, optional, tag = "4")]
    pub sample_count_float: Option<f64>,
    /// Sum.
    #[prost(double, optional, tag = "2")]
    pub sample_sum: Option<f64>,
    /// Classic buckets.
    #[prost(message, repeated, tag = "3")]
    pub bucket: Vec<Bucket>,
    /// Creation time.
    #[prost(message, optional, tag = "15")]
    pub created_timestamp: Option<Timestamp>,
    /// Native histogram schema.
    #[prost(sint32, optional, tag = "5")]
    pub schema: Option<i32>,
    /// Native zero-bucket width.
    #[prost(double, optional, tag = "6")]
    pub zero_threshold: Option<f64>,
    /// Native zero-bucket count.
    #[prost(uint64, optional, tag = "7")]
    pub zero_count: Option<u64>,
    /// Native zero-bucket count, float.
    #[prost(double, optional, tag = "8")]
    pub zero_count_float: Option<f64>,
    /// Native negative spans.
    #[prost(message, repeated, tag = "9")]
    pub negative_span: Vec<BucketSpan>,
    /// Native negative deltas.
    #[prost(sint64, repeated, packed = "false", tag = "10")]
    pub negative_delta: Vec<i64>,
    /// Native negative counts.
    #[prost(double, repeated, packed = "false", tag = "11")]
    pub negative_count: Vec<f64>,
    /// Native positive spans.
    #[prost(message, repeated, tag = "12")]
    pub positive_span: Vec<BucketSpan>,
    /// Native positive deltas.
    #[prost(sint64, repeated, packed = "false", tag = "13")]
    pub positive_delta: Vec<i64>,
    /// Native positive counts.
    #[prost(double, repeated, packed = "false", tag = "14")]
    pub positive_count: Vec<f64>,
    /// Native exemplars.
    #[prost(message, repeated, tag = "16")]
    pub exemplars: Vec<Exemplar>,
}

/// `io.prometheus.client.Exemplar`.
#[derive(Clone, PartialEq, Message)]
pub struct Exemplar {
    /// Labels.
    #[prost(message, repeated, tag = "1")]
    pub label: Vec<LabelPair>,
    /// Value.
    #[prost(double, optional, tag = "2")]
    pub value: Option<f64>,
    /// Timestamp.
    #[prost(message, optional, tag = "3")]
    pub timestamp: Option<Timestamp>,
}

/// `io.prometheus.client.Metric`.
#[derive(Clone, PartialEq, Message)]
pub struct Metric {
    /// Labels.
    #[prost(message, repeated, tag = "1")]
    pub label: Vec<LabelPair>,
    /// Gauge value.
    #[prost(message, optional, tag = "2")]
    pub gauge: Option<Gauge>,
    /// Counter value.
    #[prost(message, optional, tag = "3")]
    pub counter: Option<Counter>,
    /// Summary value.
    #[prost(message, optional, tag = "4")]
    pub summary: Option<Summary>,
    /// Untyped value.
    #[prost(message, optional, tag = "5")]
    pub untyped: Option<Untyped>,
    /// Histogram value.
    #[prost(message, optional, tag = "7")]
    pub histogram: Option<Histogram>,
    /// Timestamp, ms.
    #[prost(int64, optional, tag = "6")]
    pub timestamp_ms: Option<i64>,
}

/// `io.prometheus.client.MetricFamily`.
#[derive(Clone, PartialEq, Message)]
pub struct MetricFamily {
    /// Name.
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    /// Help.
    #[prost(string, optional, tag = "2")]
    pub help: Option<String>,
    /// Type: COUNTER 0, GAUGE 1, SUMMARY 2, UNTYPED 3, HISTOGRAM 4, GAUGE_HISTOGRAM 5.
    #[prost(int32, optional, tag = "3")]
    pub r#type: Option<i32>,
    /// Metrics.
    #[prost(message, repeated, tag = "4")]
    pub metric: Vec<Metric>,
    /// Unit.
    #[prost(string, optional, tag = "5")]
    pub unit: Option<String>,
}

/// Formats a float as Go's `strconv.FormatFloat(v, 'g', -1, 64)`.
pub fn go_float(v: f64) -> String {
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
    let e = format!("{v:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    // Go's shortest %g switches to exponent form below 1e-4 and from 1e6 on.
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    format!("{v}")
}

/// Formats a float as Prometheus' `formatOpenMetricsFloat`: Go's `%g` plus `.0` on
/// integers, `+Inf`, `-Inf`, `NaN`.
pub fn om_float(v: f64) -> String {
    let mut s = go_float(v);
    if v.is_finite() && !s.contains(['.', 'e']) {
        s.push_str(".0");
    }
    s
}

enum Pending {
    Help(Range<usize>, String),
    Type(Range<usize>, MetricType),
    Unit(Range<usize>, Range<usize>),
    Sample(Range<usize>, f64, Option<i64>),
}

/// Parser of the delimited protobuf format.
pub struct ProtobufParser<'a> {
    body: &'a [u8],
    pos: usize,
    index: usize,
    /// Series texts and names of the current family.
    buf: String,
    pending: VecDeque<Pending>,
    cur: Option<Pending>,
}

fn read_varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    for (i, &byte) in b.iter().enumerate().take(10) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

fn escape_into(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

impl<'a> ProtobufParser<'a> {
    /// A parser over `body`.
    pub fn new(body: &'a [u8]) -> Self {
        ProtobufParser {
            body,
            pos: 0,
            index: 0,
            buf: String::new(),
            pending: VecDeque::new(),
            cur: None,
        }
    }

    /// The next entry, `None` at the end.
    pub fn next_entry(&mut self) -> Result<Option<Entry<'_>>, ParseError> {
        while self.pending.is_empty() {
            if self.pos >= self.body.len() {
                return Ok(None);
            }
            self.read_family()?;
        }
        self.cur = self.pending.pop_front();
        let buf = self.buf.as_str();
        let s = |r: &Range<usize>| buf.get(r.clone()).unwrap_or("");
        Ok(match &self.cur {
            None => None,
            Some(Pending::Help(n, h)) => Some(Entry::Help {
                name: s(n),
                help: h.as_str().into(),
            }),
            Some(Pending::Type(n, kind)) => Some(Entry::Type {
                name: s(n),
                kind: *kind,
            }),
            Some(Pending::Unit(n, u)) => Some(Entry::Unit {
                name: s(n),
                unit: s(u),
            }),
            Some(Pending::Sample(r, value, timestamp_ms)) => Some(Entry::Sample(SampleEntry {
                series: s(r),
                value: *value,
                timestamp_ms: *timestamp_ms,
                exemplar: None,
            })),
        })
    }

    fn read_family(&mut self) -> Result<(), ParseError> {
        self.index += 1;
        let line = self.index;
        let rest = self.body.get(self.pos..).unwrap_or(&[]);
        let (len, n) = read_varint(rest)
            .ok_or_else(|| ParseError::new(line, "invalid length prefix of a metric family"))?;
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let msg = rest.get(n..).and_then(|r| r.get(..len)).ok_or_else(|| {
            ParseError::new(
                line,
                format!(
                    "metric family of {len} bytes exceeds the {} bytes left",
                    rest.len().saturating_sub(n)
                ),
            )
        })?;
        self.pos += n + len;
        let mf = MetricFamily::decode(msg)
            .map_err(|e| ParseError::new(line, format!("invalid metric family message: {e}")))?;
        self.render(mf).map_err(|m| ParseError::new(line, m))
    }

    fn push_str(&mut self, s: &str) -> Range<usize> {
        let start = self.buf.len();
        self.buf.push_str(s);
        start..self.buf.len()
    }

    fn render(&mut self, mf: MetricFamily) -> Result<(), String> {
        self.buf.clear();
        let name = mf.name.unwrap_or_default();
        if !is_metric_name(&name) {
            return Err(format!("invalid metric name {name:?}"));
        }
        let kind = match mf.r#type.unwrap_or(0) {
            0 => MetricType::Counter,
            1 => MetricType::Gauge,
            2 => MetricType::Summary,
            3 => MetricType::Unknown,
            4 => MetricType::Histogram,
            5 => MetricType::Gaugehistogram,
            t => return Err(format!("unknown metric type {t} for {name:?}")),
        };
        let nr = self.push_str(&name);
        if let Some(h) = mf.help.filter(|h| !h.is_empty()) {
            self.pending.push_back(Pending::Help(nr.clone(), h));
        }
        self.pending.push_back(Pending::Type(nr.clone(), kind));
        if let Some(u) = mf.unit.filter(|u| !u.is_empty()) {
            let ur = self.push_str(&u);
            self.pending.push_back(Pending::Unit(nr.clone(), ur));
        }
        for m in &mf.metric {
            for l in &m.label {
                let ln = l.name.as_deref().unwrap_or("");
                if !is_legacy_label_name(ln) || ln == "__name__" {
                    return Err(format!("invalid label name {ln:?} in {name:?}"));
                }
            }
            let ts = m.timestamp_ms;
            match kind {
                MetricType::Counter => {
                    let v = m.counter.as_ref().and_then(|c| c.value).unwrap_or(0.0);
                    self.sample(&name, "", &m.label, None, v, ts);
                }
                MetricType::Gauge => {
                    let v = m.gauge.as_ref().and_then(|c| c.value).unwrap_or(0.0);
                    self.sample(&name, "", &m.label, None, v, ts);
                }
                MetricType::Unknown => {
                    let v = m.untyped.as_ref().and_then(|c| c.value).unwrap_or(0.0);
                    self.sample(&name, "", &m.label, None, v, ts);
                }
                MetricType::Summary => {
                    let s = m.summary.clone().unwrap_or_default();
                    for q in &s.quantile {
                        let qv = om_float(q.quantile.unwrap_or(0.0));
                        let v = q.value.unwrap_or(0.0);
                        self.sample(&name, "", &m.label, Some(("quantile", &qv)), v, ts);
                    }
                    self.sample(
                        &name,
                        "_sum",
                        &m.label,
                        None,
                        s.sample_sum.unwrap_or(0.0),
                        ts,
                    );
                    let count = s.sample_count.unwrap_or(0) as f64;
                    self.sample(&name, "_count", &m.label, None, count, ts);
                }
                _ => {
                    let h = m.histogram.clone().unwrap_or_default();
                    let count = match h.sample_count_float {
                        Some(c) if c > 0.0 => c,
                        _ => h.sample_count.unwrap_or(0) as f64,
                    };
                    let mut saw_inf = false;
                    for b in &h.bucket {
                        let ub = b.upper_bound.unwrap_or(f64::INFINITY);
                        saw_inf |= ub == f64::INFINITY;
                        let v = match b.cumulative_count_float {
                            Some(c) if c > 0.0 => c,
                            _ => b.cumulative_count.unwrap_or(0) as f64,
                        };
                        let le = om_float(ub);
                        self.sample(&name, "_bucket", &m.label, Some(("le", &le)), v, ts);
                    }
                    if !saw_inf {
                        self.sample(&name, "_bucket", &m.label, Some(("le", "+Inf")), count, ts);
                    }
                    self.sample(
                        &name,
                        "_sum",
                        &m.label,
                        None,
                        h.sample_sum.unwrap_or(0.0),
                        ts,
                    );
                    self.sample(&name, "_count", &m.label, None, count, ts);
                }
            }
        }
        Ok(())
    }

    fn sample(
        &mut self,
        name: &str,
        suffix: &str,
        labels: &[LabelPair],
        extra: Option<(&str, &str)>,
        value: f64,
        ts: Option<i64>,
    ) {
        let start = self.buf.len();
        self.buf.push_str(name);
        self.buf.push_str(suffix);
        let pairs = labels
            .iter()
            .map(|l| {
                (
                    l.name.as_deref().unwrap_or(""),
                    l.value.as_deref().unwrap_or(""),
                )
            })
            .chain(extra);
        let mut first = true;
        for (n, v) in pairs {
            self.buf.push(if first { '{' } else { ',' });
            first = false;
            self.buf.push_str(n);
            self.buf.push_str("=\"");
            escape_into(&mut self.buf, v);
            self.buf.push('"');
        }
        if !first {
            self.buf.push('}');
        }
        self.pending
            .push_back(Pending::Sample(start..self.buf.len(), value, ts));
    }
}

/// Encodes families in the delimited format (tests, benchmarks, and exporters).
pub fn encode_delimited(families: &[MetricFamily]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in families {
        // Encoding into a Vec cannot fail: it grows as needed.
        let _ = f.encode_length_delimited(&mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_format_like_go() {
        assert_eq!(go_float(1e6), "1e+06");
        assert_eq!(go_float(100000.0), "100000");
        assert_eq!(go_float(1e-5), "1e-05");
        assert_eq!(go_float(0.0001), "0.0001");
        assert_eq!(go_float(1555555.55555552), "1.55555555555552e+06");
        assert_eq!(go_float(0.25), "0.25");
        assert_eq!(om_float(1.0), "1.0");
        assert_eq!(om_float(1e23), "1e+23");
        assert_eq!(om_float(f64::INFINITY), "+Inf");
    }
}
