//! OpenMetrics 1.0 text format.
//!
//! ```text
//! # TYPE http_requests counter
//! # UNIT http_request_seconds seconds
//! http_requests_total{code="200"} 1027 1395066363.000 # {trace_id="abc"} 1 1395066362.5
//! # EOF
//! ```
//!
//! Single spaces separate tokens, no blank lines, the body ends with `# EOF`, timestamps
//! are seconds (converted to ms here), and only `HELP`/`TYPE`/`UNIT` comments exist.
//!
//! Two modes. *Scrape* mode ([`OpenMetricsParser::new`]) checks the syntax of every line,
//! like Prometheus' scrape-time parser, and tolerates `# HELP name` without text.
//! *Strict* mode ([`OpenMetricsParser::strict`]) also enforces the specification's
//! semantic rules (see `om_validate`): it rejects every "should fail" case of the
//! OpenMetrics conformance suite.

use argus_model::MetricType;

use super::lex::{label_name, metric_name, parse_float, quoted_value, str_of, unescape};
use super::om_validate::{SampleInfo, Validator};
use super::{Entry, Exemplar, ParseError, SampleEntry};

/// Parser of OpenMetrics text; see the module documentation.
pub struct OpenMetricsParser<'a> {
    src: &'a str,
    pos: usize,
    line: usize,
    done: bool,
    validator: Option<Validator<'a>>,
    labels: Vec<(&'a str, &'a str)>,
}

/// A parsed timestamp: milliseconds for storage, nanoseconds for ordering checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Ts {
    pub ns: i128,
}

impl Ts {
    pub(crate) fn ms(self) -> i64 {
        let ms = self.ns.div_euclid(1_000_000);
        i64::try_from(ms).unwrap_or(if ms < 0 { i64::MIN } else { i64::MAX })
    }
}

/// An OpenMetrics number: no `_`, no hex, no surrounding blanks.
fn om_number(tok: &str) -> Option<f64> {
    if tok.is_empty()
        || tok
            .bytes()
            .any(|c| matches!(c, b'_' | b'x' | b'X' | b' ' | b'\t'))
    {
        return None;
    }
    parse_float(tok)
}

/// An OpenMetrics timestamp: seconds as an integer, a decimal or a float, finite.
fn om_timestamp(tok: &str) -> Option<Ts> {
    let b = tok.as_bytes();
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, b.get(1..).unwrap_or(&[])),
        Some(b'+') => (false, b.get(1..).unwrap_or(&[])),
        _ => (false, b),
    };
    let int_len = digits.iter().take_while(|c| c.is_ascii_digit()).count();
    let (int, frac) = digits.split_at(int_len);
    let exact = int_len > 0
        && (frac.is_empty()
            || (frac.first() == Some(&b'.')
                && frac.len() > 1
                && frac.iter().skip(1).all(u8::is_ascii_digit)));
    if exact {
        // Exact decimal arithmetic (saturating), so 1.1 s is exactly 1100 ms.
        let mut secs: i128 = 0;
        for &c in int {
            secs = secs.saturating_mul(10).saturating_add(i128::from(c - b'0'));
        }
        let mut ns: i128 = 0;
        let mut scale: i128 = 100_000_000;
        for &c in frac.iter().skip(1) {
            ns += i128::from(c - b'0') * scale;
            scale /= 10;
            if scale == 0 {
                break;
            }
        }
        let total = secs.saturating_mul(1_000_000_000).saturating_add(ns);
        return Some(Ts {
            ns: if neg { -total } else { total },
        });
    }
    let f = om_number(tok)?;
    if !f.is_finite() {
        return None;
    }
    Some(Ts {
        ns: (f * 1e9) as i128,
    })
}

impl<'a> OpenMetricsParser<'a> {
    /// A scrape-mode parser over `src`.
    pub fn new(src: &'a str) -> Self {
        OpenMetricsParser {
            src,
            pos: 0,
            line: 0,
            done: false,
            validator: None,
            labels: Vec::with_capacity(16),
        }
    }

    /// A strict parser over `src`, enforcing the specification's semantic rules.
    pub fn strict(src: &'a str) -> Self {
        OpenMetricsParser {
            validator: Some(Validator::default()),
            ..Self::new(src)
        }
    }

    fn err<T>(&self, msg: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError::new(self.line, msg))
    }

    fn s(&self, b: &[u8]) -> &'a str {
        str_of(self.src, self.src.as_bytes(), b).unwrap_or("")
    }

    /// The next entry, `None` after `# EOF`.
    pub fn next_entry(&mut self) -> Result<Option<Entry<'a>>, ParseError> {
        let bytes = self.src.as_bytes();
        loop {
            if self.done {
                return Ok(None);
            }
            let Some(rest) = bytes.get(self.pos..).filter(|r| !r.is_empty()) else {
                self.line = self.line.max(1);
                return self.err("missing \"# EOF\" at the end");
            };
            self.line += 1;
            let (line, next, had_newline) = match memchr::memchr(b'\n', rest) {
                Some(n) => (rest.get(..n).unwrap_or(&[]), self.pos + n + 1, true),
                None => (rest, bytes.len(), false),
            };
            self.pos = next;
            if line == b"# EOF" {
                self.done = true;
                if had_newline && self.pos < bytes.len() {
                    self.line += 1;
                    return self.err("unexpected text after \"# EOF\"");
                }
                if let Some(v) = self.validator.as_mut() {
                    v.finish().map_err(|m| ParseError::new(self.line, m))?;
                }
                return Ok(None);
            }
            match line.first() {
                None => return self.err("blank line"),
                Some(b'#') => return self.metadata(line).map(Some),
                Some(_) => {
                    if let Some(e) = self.sample(line)? {
                        return Ok(Some(e));
                    }
                }
            }
        }
    }

    fn metadata(&mut self, line: &'a [u8]) -> Result<Entry<'a>, ParseError> {
        let Some(rest) = line.strip_prefix(b"# ") else {
            return self
                .err("invalid comment: expected \"# HELP\", \"# TYPE\", \"# UNIT\" or \"# EOF\"");
        };
        let (kw, rest) = if let Some(r) = rest.strip_prefix(b"HELP ") {
            ("HELP", r)
        } else if let Some(r) = rest.strip_prefix(b"TYPE ") {
            ("TYPE", r)
        } else if let Some(r) = rest.strip_prefix(b"UNIT ") {
            ("UNIT", r)
        } else {
            return self
                .err("invalid comment: expected \"# HELP\", \"# TYPE\", \"# UNIT\" or \"# EOF\"");
        };
        let (after, name) = metric_name(rest).unwrap_or((rest, &[]));
        if name.is_empty() {
            return self.err(format!("invalid metric name in {kw} line"));
        }
        let name = self.s(name);
        let text = match after.first() {
            Some(b' ') => self.s(after.get(1..).unwrap_or(&[])),
            // Prometheus' scrape parser tolerates `# HELP name` with nothing after it.
            None if self.validator.is_none() && kw != "TYPE" => "",
            _ => {
                return self.err(format!(
                    "expected a space and a value after the metric name in {kw} line"
                ))
            }
        };
        let entry = match kw {
            "HELP" => Entry::Help {
                name,
                help: unescape(text),
            },
            "TYPE" => {
                let kind = match text {
                    "counter" => MetricType::Counter,
                    "gauge" => MetricType::Gauge,
                    "histogram" => MetricType::Histogram,
                    "gaugehistogram" => MetricType::Gaugehistogram,
                    "summary" => MetricType::Summary,
                    "info" => MetricType::Info,
                    "stateset" => MetricType::Stateset,
                    "unknown" => MetricType::Unknown,
                    _ => return self.err(format!("invalid metric type {text:?}")),
                };
                Entry::Type { name, kind }
            }
            _ => Entry::Unit { name, unit: text },
        };
        if let Some(v) = self.validator.as_mut() {
            v.metadata(&entry)
                .map_err(|m| ParseError::new(self.line, m))?;
        }
        Ok(entry)
    }

    /// Parses `{...}` after the opening brace into `self.labels`; returns the input after
    /// the closing brace.
    fn label_set(&mut self, mut rest: &'a [u8]) -> Result<&'a [u8], ParseError> {
        self.labels.clear();
        if let Some(r) = rest.strip_prefix(b"}") {
            return Ok(r);
        }
        loop {
            let (r, ln) = label_name(rest).unwrap_or((rest, &[]));
            if ln.is_empty() {
                return self.err("invalid label name");
            }
            let Some(r) = r.strip_prefix(b"=\"") else {
                return self.err(format!("expected '=\"' after label name {:?}", self.s(ln)));
            };
            let Ok((r, raw, _)) = quoted_value(r, false) else {
                return self.err(format!("unterminated value of label {:?}", self.s(ln)));
            };
            let name = self.s(ln);
            if name == "__name__" || self.labels.iter().any(|(n, _)| *n == name) {
                return self.err(format!("duplicate or reserved label name {name:?}"));
            }
            self.labels.push((name, self.s(raw)));
            match r.first() {
                Some(b',') => rest = r.get(1..).unwrap_or(&[]),
                Some(b'}') => return Ok(r.get(1..).unwrap_or(&[])),
                _ => return self.err("expected ',' or '}' after label value"),
            }
        }
    }

    fn sample(&mut self, line: &'a [u8]) -> Result<Option<Entry<'a>>, ParseError> {
        let (mut rest, name) = metric_name(line).unwrap_or((line, &[]));
        if name.is_empty() {
            return self.err("invalid metric name");
        }
        if let Some(r) = rest.strip_prefix(b"{") {
            rest = self.label_set(r)?;
        } else {
            self.labels.clear();
        }
        let series = self.s(line.get(..line.len() - rest.len()).unwrap_or(&[]));
        let Some(rest) = rest.strip_prefix(b" ") else {
            return self.err("expected a space before the value");
        };
        let vlen = rest.iter().take_while(|&&c| c != b' ').count();
        let (vtok, mut rest) = rest.split_at(vlen);
        let Some(value) = om_number(self.s(vtok)) else {
            return self.err(format!("invalid value {:?}", self.s(vtok)));
        };
        let mut ts = None;
        let mut exemplar = None;
        if let Some(r) = rest.strip_prefix(b" ") {
            rest = r;
            if rest.first() != Some(&b'#') {
                let tlen = rest.iter().take_while(|&&c| c != b' ').count();
                let (ttok, r) = rest.split_at(tlen);
                let Some(t) = om_timestamp(self.s(ttok)) else {
                    return self.err(format!("invalid timestamp {:?}", self.s(ttok)));
                };
                ts = Some(t);
                rest = match r.strip_prefix(b" ") {
                    Some(r) if r.first() == Some(&b'#') => r,
                    Some(_) => return self.err("unexpected text after the timestamp"),
                    None => r,
                };
            }
            if !rest.is_empty() {
                exemplar = Some(self.exemplar(rest)?);
            }
        } else if !rest.is_empty() {
            return self.err("unexpected text after the value");
        }
        let name = self.s(name);
        if let Some(v) = self.validator.as_mut() {
            let info = SampleInfo {
                name,
                labels: &self.labels,
                value,
                ts,
                series,
                has_exemplar: exemplar.is_some(),
            };
            let keep = v.sample(&info).map_err(|m| ParseError::new(self.line, m))?;
            if !keep {
                // An exact repeat of a series and timestamp in one group: dropped.
                return Ok(None);
            }
        }
        Ok(Some(Entry::Sample(SampleEntry {
            series,
            value,
            timestamp_ms: ts.map(Ts::ms),
            exemplar,
        })))
    }

    /// Parses `# {labels} value [timestamp]` to the end of the line.
    fn exemplar(&mut self, rest: &'a [u8]) -> Result<Exemplar<'a>, ParseError> {
        let Some(r) = rest.strip_prefix(b"# {") else {
            return self.err("invalid exemplar: expected \"# {\"");
        };
        let saved = std::mem::take(&mut self.labels);
        let after = self.label_set(r);
        let ex_labels = std::mem::replace(&mut self.labels, saved);
        let after = after?;
        let body_len = r.len() - after.len();
        let label_text = self.s(r.get(..body_len.saturating_sub(1)).unwrap_or(&[]));
        let chars: usize = ex_labels
            .iter()
            .map(|(n, v)| n.chars().count() + unescape(v).chars().count())
            .sum();
        if chars > 128 {
            return self.err(format!(
                "exemplar labels have {chars} characters, more than 128"
            ));
        }
        let Some(after) = after.strip_prefix(b" ") else {
            return self.err("invalid exemplar: expected a space after the label set");
        };
        let vlen = after.iter().take_while(|&&c| c != b' ').count();
        let (vtok, tail) = after.split_at(vlen);
        let Some(value) = om_number(self.s(vtok)) else {
            return self.err(format!("invalid exemplar value {:?}", self.s(vtok)));
        };
        let mut timestamp_ms = None;
        if let Some(t) = tail.strip_prefix(b" ") {
            match om_timestamp(self.s(t)) {
                Some(ts) => timestamp_ms = Some(ts.ms()),
                None => return self.err(format!("invalid exemplar timestamp {:?}", self.s(t))),
            }
        } else if !tail.is_empty() {
            return self.err("invalid exemplar");
        }
        Ok(Exemplar {
            labels: label_text.into(),
            value,
            timestamp_ms,
        })
    }
}
