//! Token parsers shared by the text formats (nom, over bytes of already UTF-8-checked
//! input), and the decoder of series text back into labels.
//!
//! Inputs are `&str` checked once for UTF-8 up front; tokens end at ASCII bytes, so every
//! byte offset used to slice is a character boundary.

use std::borrow::Cow;

use argus_model::{Labels, LabelsBuilder, METRIC_NAME};
use nom::bytes::complete::take_while;
use nom::IResult;

const NAME_START: u8 = 1;
const NAME_CHAR: u8 = 2;
const LABEL_START: u8 = 4;
const LABEL_CHAR: u8 = 8;

/// Character classes of metric names (`[a-zA-Z_:][a-zA-Z0-9_:]*`) and label names
/// (`[a-zA-Z_][a-zA-Z0-9_]*`), one table lookup per byte.
// A u8 index into a 256-entry table cannot be out of bounds.
#[allow(clippy::indexing_slicing)]
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        let alpha = c.is_ascii_alphabetic() || c == b'_';
        let digit = c.is_ascii_digit();
        let mut v = 0;
        if alpha || c == b':' {
            v |= NAME_START | NAME_CHAR;
        }
        if digit {
            v |= NAME_CHAR | LABEL_CHAR;
        }
        if alpha {
            v |= LABEL_START | LABEL_CHAR;
        }
        t[i] = v;
        i += 1;
    }
    t
};

#[inline]
#[allow(clippy::indexing_slicing)] // u8 index, 256 entries
fn class(b: u8) -> u8 {
    CLASS[b as usize]
}

/// True for a valid metric name.
pub fn is_metric_name(s: &str) -> bool {
    let b = s.as_bytes();
    match b.split_first() {
        Some((&f, rest)) => {
            class(f) & NAME_START != 0 && rest.iter().all(|&c| class(c) & NAME_CHAR != 0)
        }
        None => false,
    }
}

/// A metric name; empty when the first byte cannot start one.
#[inline]
pub fn metric_name(i: &[u8]) -> IResult<&[u8], &[u8]> {
    match i.first() {
        Some(&f) if class(f) & NAME_START != 0 => {
            let n = 1 + i
                .iter()
                .skip(1)
                .take_while(|&&c| class(c) & NAME_CHAR != 0)
                .count();
            Ok((i.get(n..).unwrap_or(&[]), i.get(..n).unwrap_or(&[])))
        }
        _ => Ok((i, &[])),
    }
}

/// A label name; empty when the first byte cannot start one.
#[inline]
pub fn label_name(i: &[u8]) -> IResult<&[u8], &[u8]> {
    match i.first() {
        Some(&f) if class(f) & LABEL_START != 0 => {
            let n = 1 + i
                .iter()
                .skip(1)
                .take_while(|&&c| class(c) & LABEL_CHAR != 0)
                .count();
            Ok((i.get(n..).unwrap_or(&[]), i.get(..n).unwrap_or(&[])))
        }
        _ => Ok((i, &[])),
    }
}

/// Spaces and tabs (the text format's blanks).
#[inline]
pub fn blanks(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while(|c| c == b' ' || c == b'\t')(i)
}

/// Why a quoted label value is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueError {
    /// No closing quote on the line.
    Unterminated,
    /// An escape other than `\\`, `\"`, `\n` (text format only).
    BadEscape(u8),
}

/// The body of a quoted label value, starting after the opening quote. Returns the raw
/// (still escaped) body, whether it has escapes, and the input after the closing quote.
/// With `strict_escapes`, only `\\`, `\"` and `\n` are allowed (text format 0.0.4);
/// otherwise other escapes are kept literally (OpenMetrics).
#[inline]
pub fn quoted_value(i: &[u8], strict_escapes: bool) -> Result<(&[u8], &[u8], bool), ValueError> {
    let mut escaped = false;
    let mut k = 0;
    loop {
        // Jump to the next quote or backslash (label values are often long: container
        // ids, paths), then look for a newline only in the skipped span.
        let rest = i.get(k..).unwrap_or(&[]);
        let Some(off) = memchr::memchr2(b'"', b'\\', rest) else {
            return Err(ValueError::Unterminated);
        };
        if memchr::memchr(b'\n', rest.get(..off).unwrap_or(&[])).is_some() {
            return Err(ValueError::Unterminated);
        }
        k += off;
        if i.get(k) == Some(&b'"') {
            let rest = i.get(k + 1..).unwrap_or(&[]);
            return Ok((rest, i.get(..k).unwrap_or(&[]), escaped));
        }
        escaped = true;
        match i.get(k + 1) {
            Some(b'\\' | b'"' | b'n') => k += 2,
            Some(&e) if strict_escapes => return Err(ValueError::BadEscape(e)),
            Some(b'\n') | None => return Err(ValueError::Unterminated),
            Some(_) => k += 2,
        }
    }
}

/// Resolves `\\`, `\"` and `\n`; any other escape is kept as written.
pub fn unescape(raw: &str) -> Cow<'_, str> {
    if !raw.contains('\\') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('n') => out.push('\n'),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

/// Parses a sample value as Prometheus does (Go's `ParseFloat` without hex or `_`):
/// decimal with optional exponent, `NaN`, `±Inf`/`Infinity` in any case.
#[inline]
pub fn parse_float(tok: &str) -> Option<f64> {
    // Fast path for plain integers, by far the most common value.
    let b = tok.as_bytes();
    if !b.is_empty() && b.len() <= 15 && b.iter().all(u8::is_ascii_digit) {
        let mut n: u64 = 0;
        for &c in b {
            n = n * 10 + u64::from(c - b'0');
        }
        return Some(n as f64);
    }
    tok.parse::<f64>().ok()
}

/// Parses a series text (`name{a="b",...}`, with the blanks the text format allows) into
/// a builder. The text must come from a parser of this module, which validated it; on
/// malformed input it stops early rather than failing.
pub fn series_into_builder(series: &str, b: &mut LabelsBuilder) {
    b.clear();
    let bytes = series.as_bytes();
    let Ok((rest, name)) = metric_name(bytes) else {
        return;
    };
    if let Some(n) = str_of(series, bytes, name) {
        b.set(METRIC_NAME, n);
    }
    let Ok((mut rest, _)) = blanks(rest) else {
        return;
    };
    if rest.first() != Some(&b'{') {
        return;
    }
    rest = rest.get(1..).unwrap_or(&[]);
    loop {
        rest = skip_blanks(rest);
        let Ok((r, ln)) = label_name(rest) else {
            return;
        };
        if ln.is_empty() {
            return;
        }
        rest = skip_blanks(r);
        if rest.first() != Some(&b'=') {
            return;
        }
        rest = skip_blanks(rest.get(1..).unwrap_or(&[]));
        if rest.first() != Some(&b'"') {
            return;
        }
        let Ok((r, raw, _)) = quoted_value(rest.get(1..).unwrap_or(&[]), false) else {
            return;
        };
        rest = skip_blanks(r);
        if let (Some(n), Some(v)) = (str_of(series, bytes, ln), str_of(series, bytes, raw)) {
            b.set(n, &unescape(v));
        }
        match rest.first() {
            Some(b',') => rest = rest.get(1..).unwrap_or(&[]),
            _ => return,
        }
    }
}

/// The labels of a series text; see [`series_into_builder`].
pub fn series_labels(series: &str) -> Labels {
    let mut b = LabelsBuilder::new();
    series_into_builder(series, &mut b);
    b.build()
}

#[inline]
fn skip_blanks(i: &[u8]) -> &[u8] {
    let n = i.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
    i.get(n..).unwrap_or(&[])
}

/// The `&str` of a sub-slice of `whole_bytes` (which are `whole`'s bytes).
#[inline]
pub fn str_of<'a>(whole: &'a str, whole_bytes: &[u8], part: &[u8]) -> Option<&'a str> {
    let start = (part.as_ptr() as usize).checked_sub(whole_bytes.as_ptr() as usize)?;
    whole.get(start..start + part.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_text_decodes_with_escapes_and_blanks() {
        let l = series_labels(r#"name {a="x\"y\\z\n" ,	b = "2", }"#);
        assert_eq!(l.get("__name__"), Some("name"));
        assert_eq!(l.get("a"), Some("x\"y\\z\n"));
        assert_eq!(l.get("b"), Some("2"));
        assert_eq!(series_labels("up").len(), 1);
        // Empty values mean "absent".
        assert_eq!(series_labels(r#"m{a=""}"#).len(), 1);
    }

    #[test]
    fn floats_follow_go() {
        assert_eq!(parse_float("12"), Some(12.0));
        assert_eq!(parse_float("-3e3"), Some(-3000.0));
        assert_eq!(parse_float("+Inf"), Some(f64::INFINITY));
        assert!(parse_float("NaN").unwrap().is_nan());
        assert_eq!(parse_float("08"), Some(8.0));
        for bad in ["0x1p-3", "1_2", "", "blubb", "1.1.1"] {
            assert_eq!(parse_float(bad), None, "{bad}");
        }
    }

    #[test]
    fn unescape_keeps_unknown_escapes() {
        assert_eq!(unescape(r"a\zb\\c\nd"), "a\\zb\\c\nd");
    }
}
