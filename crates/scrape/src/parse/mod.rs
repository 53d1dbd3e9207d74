//! Exposition parsers: Prometheus text 0.0.4, OpenMetrics 1.0 text and the protobuf
//! exposition format, all producing one stream of [`Entry`] values.
//!
//! A sample carries its *series text* (`name{a="b"}` as exposed, or a canonical rendering
//! for protobuf): scrape caches key on it so the steady state never builds label sets, and
//! [`series_labels`] decodes it on a cache miss. Parsers validate a whole line before
//! returning it and report the first problem with its line number; they never panic on
//! any input (checked by a property test).
//!
//! Exemplars are parsed and validated (OpenMetrics) and handed out on the sample, but the
//! scrape loop drops them: Argus' storage has no exemplar store yet. Native histograms in
//! protobuf bodies are reduced to their classic buckets, count and sum.

mod content_type;
mod lex;
mod om_validate;
mod openmetrics;
pub mod protobuf;
mod text;

use std::borrow::Cow;
use std::fmt;

use argus_model::MetricType;

pub use content_type::{accept_header, format_for_content_type};
pub use lex::{is_metric_name, series_into_builder, series_labels, unescape};
pub use openmetrics::OpenMetricsParser;
pub use protobuf::ProtobufParser;
pub use text::TextParser;

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `text/plain; version=0.0.4` (and 1.0.0, which differs only in UTF-8 quoting).
    PrometheusText,
    /// `application/openmetrics-text; version=1.0.0` (and 0.0.1).
    OpenMetrics,
    /// `application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily;
    /// encoding=delimited`.
    Protobuf,
}

/// A parse failure: what and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {msg}")]
pub struct ParseError {
    /// 1-based line (for protobuf: 1-based index of the metric family message).
    pub line: usize,
    /// What is wrong.
    pub msg: String,
}

impl ParseError {
    pub(crate) fn new(line: usize, msg: impl Into<String>) -> Self {
        ParseError {
            line,
            msg: msg.into(),
        }
    }
}

/// An exemplar attached to a sample (OpenMetrics, protobuf).
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar<'a> {
    /// The exemplar's label set in text form (`{trace_id="..."}`), without braces.
    pub labels: Cow<'a, str>,
    /// Its value.
    pub value: f64,
    /// Its timestamp in ms, if given.
    pub timestamp_ms: Option<i64>,
}

/// One sample.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleEntry<'a> {
    /// The series text: metric name and label set as exposed. Decode with
    /// [`series_labels`].
    pub series: &'a str,
    /// The value (may be NaN or ±Inf).
    pub value: f64,
    /// Explicit timestamp in ms, if the target gave one.
    pub timestamp_ms: Option<i64>,
    /// Exemplar, if any.
    pub exemplar: Option<Exemplar<'a>>,
}

/// One item of an exposition.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry<'a> {
    /// `# HELP name text` (text unescaped).
    Help {
        /// Metric family name.
        name: &'a str,
        /// Help text.
        help: Cow<'a, str>,
    },
    /// `# TYPE name type`.
    Type {
        /// Metric family name.
        name: &'a str,
        /// Type (`untyped` is [`MetricType::Unknown`]).
        kind: MetricType,
    },
    /// `# UNIT name unit` (OpenMetrics).
    Unit {
        /// Metric family name.
        name: &'a str,
        /// Unit.
        unit: &'a str,
    },
    /// A sample.
    Sample(SampleEntry<'a>),
}

/// A parser of one body in any supported format.
pub enum Parser<'a> {
    /// Text 0.0.4.
    Text(TextParser<'a>),
    /// OpenMetrics.
    OpenMetrics(OpenMetricsParser<'a>),
    /// Protobuf.
    Protobuf(ProtobufParser<'a>),
}

impl<'a> Parser<'a> {
    /// A parser of `body` in `format`. Text formats must be UTF-8; the error names the
    /// line of the first invalid byte.
    pub fn new(format: Format, body: &'a [u8]) -> Result<Self, ParseError> {
        Ok(match format {
            Format::PrometheusText => Parser::Text(TextParser::new(check_utf8(body)?)),
            Format::OpenMetrics => Parser::OpenMetrics(OpenMetricsParser::new(check_utf8(body)?)),
            Format::Protobuf => Parser::Protobuf(ProtobufParser::new(body)),
        })
    }

    /// A strict parser: text and OpenMetrics bodies are also checked against their
    /// format's semantic rules (see [`TextParser::strict`], [`OpenMetricsParser::strict`]).
    pub fn new_strict(format: Format, body: &'a [u8]) -> Result<Self, ParseError> {
        Ok(match format {
            Format::PrometheusText => Parser::Text(TextParser::strict(check_utf8(body)?)),
            Format::OpenMetrics => {
                Parser::OpenMetrics(OpenMetricsParser::strict(check_utf8(body)?))
            }
            Format::Protobuf => Parser::Protobuf(ProtobufParser::new(body)),
        })
    }

    /// The next entry, `None` at the end, or the first error.
    #[inline]
    pub fn next_entry(&mut self) -> Result<Option<Entry<'_>>, ParseError> {
        match self {
            Parser::Text(p) => p.next_entry(),
            Parser::OpenMetrics(p) => p.next_entry(),
            Parser::Protobuf(p) => p.next_entry(),
        }
    }
}

/// Checks UTF-8 once for the whole body, so tokens can be sliced as `&str` later.
pub(crate) fn check_utf8(body: &[u8]) -> Result<&str, ParseError> {
    std::str::from_utf8(body).map_err(|e| {
        let upto = body.get(..e.valid_up_to()).unwrap_or(&[]);
        let line = 1 + memchr::memchr_iter(b'\n', upto).count();
        ParseError::new(line, "invalid UTF-8")
    })
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::PrometheusText => "Prometheus text",
            Format::OpenMetrics => "OpenMetrics",
            Format::Protobuf => "protobuf",
        })
    }
}

/// Parses a whole body into owned samples `(series, value, timestamp)`; for tests, tools
/// and benchmarks.
pub fn parse_all(
    format: Format,
    body: &[u8],
    strict: bool,
) -> Result<Vec<(String, f64, Option<i64>)>, ParseError> {
    let mut p = if strict {
        Parser::new_strict(format, body)?
    } else {
        Parser::new(format, body)?
    };
    let mut out = Vec::new();
    while let Some(e) = p.next_entry()? {
        if let Entry::Sample(s) = e {
            out.push((s.series.to_owned(), s.value, s.timestamp_ms));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
