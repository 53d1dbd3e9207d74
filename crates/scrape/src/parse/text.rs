//! Prometheus text exposition format 0.0.4.
//!
//! ```text
//! # HELP http_requests_total The total number of HTTP requests.
//! # TYPE http_requests_total counter
//! http_requests_total{method="post",code="200"} 1027 1395066363000
//! ```
//!
//! Lines are separated by `\n`; blanks (spaces, tabs) may surround tokens; label values
//! allow the escapes `\\`, `\"` and `\n` only; the timestamp is integer milliseconds.
//! Validation matches `prometheus/common`'s `expfmt` text parser: the body must end with a
//! newline, HELP and TYPE may appear once per family and TYPE not after its samples,
//! `quantile` and `le` labels of summaries and histograms must be floats, and `__name__`
//! may not appear inside braces.

use std::collections::HashMap;

use argus_model::MetricType;

use super::lex::{
    blanks, label_name, metric_name, parse_float, quoted_value, str_of, unescape, ValueError,
};
use super::{Entry, ParseError, SampleEntry};

#[derive(Debug, Default, Clone, Copy)]
struct Family {
    help: bool,
    /// `Some` once a TYPE line or a sample fixed the type (samples make it untyped).
    kind: Option<MetricType>,
}

/// What a sample is within its family, which decides the checks on its labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Plain,
    /// A summary's quantile sample: needs a float `quantile` label.
    Quantile,
    /// A histogram's `_bucket` sample: needs a float `le` label.
    Bucket,
}

/// Parser of the Prometheus text format; see the module documentation.
pub struct TextParser<'a> {
    src: &'a str,
    pos: usize,
    line: usize,
    families: HashMap<&'a str, Family>,
    /// The last sample name and its role, so consecutive samples of one family skip the
    /// family lookup.
    last: Option<(&'a str, Role)>,
    /// Label names of the current line, for the duplicate check.
    names: Vec<&'a [u8]>,
    /// Enforce the family rules of `expfmt` (Prometheus' scrape parser does not).
    strict: bool,
}

impl<'a> TextParser<'a> {
    /// A scrape-mode parser over `src`: line syntax only, like Prometheus' scrape-time
    /// parser (repeated HELP/TYPE lines are accepted).
    pub fn new(src: &'a str) -> Self {
        TextParser {
            src,
            pos: 0,
            line: 0,
            families: HashMap::new(),
            last: None,
            names: Vec::with_capacity(16),
            strict: false,
        }
    }

    /// A strict parser over `src`, also enforcing `expfmt`'s family rules (the rules the
    /// `prometheus/common` corpus checks).
    pub fn strict(src: &'a str) -> Self {
        TextParser {
            strict: true,
            ..Self::new(src)
        }
    }

    fn err<T>(&self, msg: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError::new(self.line, msg))
    }

    /// The next entry, `None` at the end.
    pub fn next_entry(&mut self) -> Result<Option<Entry<'a>>, ParseError> {
        let bytes = self.src.as_bytes();
        loop {
            let Some(rest) = bytes.get(self.pos..).filter(|r| !r.is_empty()) else {
                return Ok(None);
            };
            self.line += 1;
            let (line, next) = match memchr::memchr(b'\n', rest) {
                Some(n) => (rest.get(..n).unwrap_or(&[]), self.pos + n + 1),
                None => {
                    if rest.iter().all(|&c| c == b' ' || c == b'\t') {
                        return Ok(None);
                    }
                    return self.err("data does not end with a newline");
                }
            };
            self.pos = next;
            let (line, _) = blanks(line).unwrap_or((line, &[]));
            match line.first() {
                None => continue,
                Some(b'#') => {
                    if let Some(e) = self.comment(line.get(1..).unwrap_or(&[]))? {
                        return Ok(Some(e));
                    }
                }
                Some(_) => return self.sample(line).map(Some),
            }
        }
    }

    fn comment(&mut self, line: &'a [u8]) -> Result<Option<Entry<'a>>, ParseError> {
        let (rest, _) = blanks(line).unwrap_or((line, &[]));
        let kw_len = rest
            .iter()
            .take_while(|&&c| c != b' ' && c != b'\t')
            .count();
        let (kw, rest) = rest.split_at(kw_len);
        let is_help = kw == b"HELP";
        if !is_help && kw != b"TYPE" {
            return Ok(None);
        }
        let (rest, _) = blanks(rest).unwrap_or((rest, &[]));
        if rest.is_empty() {
            return Ok(None);
        }
        let (rest, name) = metric_name(rest).unwrap_or((rest, &[]));
        if rest.is_empty() {
            // `# HELP name` with nothing after it is just a comment.
            return Ok(None);
        }
        if name.is_empty() || !matches!(rest.first(), Some(b' ' | b'\t')) {
            return self.err("invalid metric name in comment");
        }
        let (rest, _) = blanks(rest).unwrap_or((rest, &[]));
        if rest.is_empty() {
            return Ok(None);
        }
        let src = self.src;
        let bytes = src.as_bytes();
        let name = str_of(src, bytes, name).unwrap_or("");
        let text = str_of(src, bytes, rest).unwrap_or("");
        let mut scratch = Family::default();
        let fam = if self.strict {
            self.families.entry(name).or_default()
        } else {
            &mut scratch
        };
        if is_help {
            if fam.help {
                return self.err(format!("second HELP line for metric name {name:?}"));
            }
            fam.help = true;
            if let Some(i) = text.find('\\') {
                let tail = text.as_bytes().get(i..).unwrap_or(&[]);
                if let Some(bad) = bad_help_escape(tail) {
                    return self.err(format!("invalid escape sequence '\\{}'", char::from(bad)));
                }
            }
            return Ok(Some(Entry::Help {
                name,
                help: unescape(text),
            }));
        }
        if fam.kind.is_some() {
            return self.err(format!(
                "second TYPE line for metric name {name:?}, or TYPE reported after samples"
            ));
        }
        let kind = match text.to_ascii_lowercase().as_str() {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "histogram" => MetricType::Histogram,
            "summary" => MetricType::Summary,
            "untyped" => MetricType::Unknown,
            _ => return self.err(format!("unknown metric type {text:?}")),
        };
        fam.kind = Some(kind);
        self.last = None;
        Ok(Some(Entry::Type { name, kind }))
    }

    /// Finds the family a sample name belongs to (`x_sum` of summary `x`, ...), creating
    /// an untyped one when none matches, and returns the sample's role.
    fn role_of(&mut self, name: &'a str) -> Role {
        if let Some((last, role)) = self.last {
            if last == name {
                return role;
            }
        }
        let role = if let Some(f) = self.families.get_mut(name) {
            let kind = *f.kind.get_or_insert(MetricType::Unknown);
            if kind == MetricType::Summary {
                Role::Quantile
            } else {
                Role::Plain
            }
        } else {
            let base_kind = |suffix: &str| {
                name.strip_suffix(suffix)
                    .and_then(|b| self.families.get(b))
                    .and_then(|f| f.kind)
            };
            let summary_or_hist = |k: Option<MetricType>| {
                matches!(k, Some(MetricType::Summary | MetricType::Histogram))
            };
            if summary_or_hist(base_kind("_count")) || summary_or_hist(base_kind("_sum")) {
                Role::Plain
            } else if base_kind("_bucket") == Some(MetricType::Histogram) {
                Role::Bucket
            } else {
                self.families.insert(
                    name,
                    Family {
                        help: false,
                        kind: Some(MetricType::Unknown),
                    },
                );
                Role::Plain
            }
        };
        self.last = Some((name, role));
        role
    }

    fn sample(&mut self, line: &'a [u8]) -> Result<Entry<'a>, ParseError> {
        let src = self.src;
        let bytes = src.as_bytes();
        let (mut rest, name) = metric_name(line).unwrap_or((line, &[]));
        if name.is_empty() {
            return self.err("invalid metric name");
        }
        let name_str = str_of(src, bytes, name).unwrap_or("");
        let role = if self.strict {
            self.role_of(name_str)
        } else {
            Role::Plain
        };
        let mut series_end = rest;
        rest = blanks(rest).map(|r| r.0).unwrap_or(rest);
        if rest.first() == Some(&b'{') {
            rest = self.labels(rest.get(1..).unwrap_or(&[]), role, name_str)?;
            series_end = rest;
            rest = blanks(rest).map(|r| r.0).unwrap_or(rest);
        }
        let series_len = line.len() - series_end.len();
        let series = str_of(src, bytes, line.get(..series_len).unwrap_or(&[])).unwrap_or("");
        let vlen = rest
            .iter()
            .take_while(|&&c| c != b' ' && c != b'\t')
            .count();
        let (vtok, rest) = rest.split_at(vlen);
        let vstr = str_of(src, bytes, vtok).unwrap_or("");
        let Some(value) = parse_float(vstr) else {
            return self.err(format!("expected float as value, got {vstr:?}"));
        };
        let rest = blanks(rest).map(|r| r.0).unwrap_or(rest);
        let mut timestamp_ms = None;
        if !rest.is_empty() {
            let tlen = rest
                .iter()
                .take_while(|&&c| c != b' ' && c != b'\t')
                .count();
            let (ttok, tail) = rest.split_at(tlen);
            let tstr = str_of(src, bytes, ttok).unwrap_or("");
            match tstr.parse::<i64>() {
                Ok(t) => timestamp_ms = Some(t),
                Err(_) => return self.err(format!("expected integer as timestamp, got {tstr:?}")),
            }
            let tail = blanks(tail).map(|r| r.0).unwrap_or(tail);
            if !tail.is_empty() {
                let s = str_of(src, bytes, tail).unwrap_or("");
                return self.err(format!("spurious string after timestamp: {s:?}"));
            }
        }
        Ok(Entry::Sample(SampleEntry {
            series,
            value,
            timestamp_ms,
            exemplar: None,
        }))
    }

    /// Parses a label set after `{`; returns the input after `}`.
    fn labels(
        &mut self,
        mut rest: &'a [u8],
        role: Role,
        metric: &str,
    ) -> Result<&'a [u8], ParseError> {
        self.names.clear();
        loop {
            rest = blanks(rest).map(|r| r.0).unwrap_or(rest);
            if rest.first() == Some(&b'}') {
                return Ok(rest.get(1..).unwrap_or(&[]));
            }
            let (r, ln) = label_name(rest).unwrap_or((rest, &[]));
            if ln.is_empty() {
                return self.err(format!("invalid label name for metric {metric:?}"));
            }
            let r = blanks(r).map(|x| x.0).unwrap_or(r);
            if r.first() != Some(&b'=') {
                let found = r.first().map(|&c| char::from(c)).unwrap_or('\n');
                return self.err(format!("expected '=' after label name, found {found:?}"));
            }
            let r = r.get(1..).unwrap_or(&[]);
            let r = blanks(r).map(|x| x.0).unwrap_or(r);
            if r.first() != Some(&b'"') {
                let found = r.first().map(|&c| char::from(c)).unwrap_or('\n');
                return self.err(format!(
                    "expected '\"' at start of label value, found {found:?}"
                ));
            }
            let (r, raw, _) = match quoted_value(r.get(1..).unwrap_or(&[]), true) {
                Ok(v) => v,
                Err(ValueError::BadEscape(c)) => {
                    return self.err(format!("invalid escape sequence '\\{}'", char::from(c)))
                }
                Err(ValueError::Unterminated) => {
                    return self.err("label value contains unescaped new-line or is not terminated")
                }
            };
            if ln == b"__name__" {
                return self.err("label name \"__name__\" is reserved");
            }
            if self.names.contains(&ln) {
                return self.err(format!("duplicate label names for metric {metric:?}"));
            }
            self.names.push(ln);
            let special = match role {
                Role::Quantile => ln == b"quantile",
                Role::Bucket => ln == b"le",
                Role::Plain => false,
            };
            if special {
                let v = str_of(self.src, self.src.as_bytes(), raw).unwrap_or("");
                if parse_float(v).is_none() {
                    let which = if role == Role::Bucket {
                        "le"
                    } else {
                        "quantile"
                    };
                    return self.err(format!(
                        "expected float as value for '{which}' label, got {v:?}"
                    ));
                }
            }
            rest = blanks(r).map(|x| x.0).unwrap_or(r);
            match rest.first() {
                Some(b',') => rest = rest.get(1..).unwrap_or(&[]),
                Some(b'}') => return Ok(rest.get(1..).unwrap_or(&[])),
                _ => {
                    return self.err(format!(
                        "unexpected end of label value for metric {metric:?}"
                    ))
                }
            }
        }
    }
}

/// The first invalid escape in HELP text (`\\`, `\n` and `\"` are valid), if any.
fn bad_help_escape(text: &[u8]) -> Option<u8> {
    let mut i = 0;
    while let Some(&c) = text.get(i) {
        if c == b'\\' {
            match text.get(i + 1) {
                Some(b'\\' | b'n' | b'"') => i += 2,
                Some(&o) => return Some(o),
                None => return Some(b' '),
            }
        } else {
            i += 1;
        }
    }
    None
}
