//! JSON encoding that matches Prometheus byte for byte.
//!
//! Prometheus encodes with jsoniter's `ConfigCompatibleWithStandardLibrary`, which differs
//! from serde_json's defaults in ways clients can see:
//! - `<`, `>`, `&`, U+2028 and U+2029 are escaped as `\u003c`, `\u003e`, `\u0026`, `\u2028`,
//!   `\u2029` (Go's HTML-safe escaping);
//! - backspace and form feed are `\u0008` / `\u000c`, other control bytes `\u00XX` in
//!   lowercase hex;
//! - floats are written shortest round-trip, plain between 1e-6 and 1e21, Go `'e'` form
//!   (`1e-07`) outside.
//!
//! Query results (the hot path: a 10k-series matrix is megabytes) are written by hand into a
//! `Vec<u8>` without going through serde; everything else uses serde with [`PromFormatter`].

use std::io;

use argus_model::api::{write_timestamp, write_value};
use argus_model::Labels;
use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter};

use crate::engine::{MatrixSeries, Value, VectorSample};

/// Lowercase hex digit of the low nibble of `n`.
#[inline]
fn hex_digit(n: u8) -> u8 {
    let n = n & 0xf;
    if n < 10 {
        b'0' + n
    } else {
        b'a' + n - 10
    }
}

/// True for bytes that can be copied into a JSON string as they are.
#[inline]
fn is_plain(b: u8) -> bool {
    b >= 0x20 && b != b'"' && b != b'\\' && b != b'<' && b != b'>' && b != b'&' && b != 0xe2
}

/// Appends `s` as a quoted JSON string with Go's escaping.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    write_str_body(out, s);
    out.push(b'"');
}

/// Appends the escaped body of a JSON string (no quotes).
fn write_str_body(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes.get(i).copied().unwrap_or(0);
        if is_plain(b) {
            i += 1;
            continue;
        }
        // 0xe2 starts U+2028/U+2029 (e2 80 a8 / e2 80 a9) but also many other characters.
        if b == 0xe2 {
            let is_sep = bytes.get(i + 1) == Some(&0x80)
                && matches!(bytes.get(i + 2), Some(&0xa8) | Some(&0xa9));
            if !is_sep {
                i += 1;
                continue;
            }
        }
        out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0xe2 => {
                let last = bytes.get(i + 2).copied().unwrap_or(0);
                out.extend_from_slice(if last == 0xa8 { b"\\u2028" } else { b"\\u2029" });
                i += 3;
                start = i;
                continue;
            }
            _ => {
                out.extend_from_slice(b"\\u00");
                out.push(hex_digit(b >> 4));
                out.push(hex_digit(b));
            }
        }
        i += 1;
        start = i;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
}

/// Appends a float as Prometheus' JSON writes numbers (not quoted).
pub fn write_number(out: &mut Vec<u8>, v: f64) {
    let mut s = String::with_capacity(24);
    write_value(v, &mut s);
    out.extend_from_slice(s.as_bytes());
}

/// Appends a finite float as Go's `encoding/json` does: plain between 1e-6 and 1e21,
/// otherwise exponent form without a leading zero in negative exponents (`1e-7`, `1e+21`).
pub fn write_std_number(out: &mut Vec<u8>, v: f64) {
    let mut s = String::with_capacity(24);
    write_value(v, &mut s);
    if let Some(i) = s.find("e-0") {
        s.remove(i + 2);
    }
    out.extend_from_slice(s.as_bytes());
}

/// Appends a quoted sample value (`"1"`, `"NaN"`, `"+Inf"`, `"1e-07"`).
#[inline]
pub fn write_sample_value(out: &mut Vec<u8>, v: f64) {
    out.push(b'"');
    write_number(out, v);
    out.push(b'"');
}

/// Appends a millisecond timestamp as float seconds (`1435781451.781`).
#[inline]
pub fn write_ts(out: &mut Vec<u8>, t_ms: i64) {
    let mut s = String::with_capacity(20);
    write_timestamp(t_ms, &mut s);
    out.extend_from_slice(s.as_bytes());
}

/// Appends `{"name":"value",...}` in label order.
pub fn write_labels(out: &mut Vec<u8>, labels: &Labels) {
    out.push(b'{');
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, l.name);
        out.push(b':');
        write_str(out, l.value);
    }
    out.push(b'}');
}

/// Appends `[ts,"value"]`.
#[inline]
fn write_point(out: &mut Vec<u8>, t: i64, v: f64) {
    out.push(b'[');
    write_ts(out, t);
    out.push(b',');
    write_sample_value(out, v);
    out.push(b']');
}

fn write_vector_sample(out: &mut Vec<u8>, s: &VectorSample) {
    out.extend_from_slice(b"{\"metric\":");
    write_labels(out, &s.labels);
    out.extend_from_slice(b",\"value\":");
    write_point(out, s.t, s.v);
    out.push(b'}');
}

fn write_matrix_series(out: &mut Vec<u8>, s: &MatrixSeries) {
    out.extend_from_slice(b"{\"metric\":");
    write_labels(out, &s.labels);
    // Prometheus omits "values" for a series without float points.
    if !s.samples.is_empty() {
        out.extend_from_slice(b",\"values\":[");
        for (i, p) in s.samples.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_point(out, p.t, p.v);
        }
        out.push(b']');
    }
    out.push(b'}');
}

/// The name of a value's type as in `resultType`.
pub fn result_type(v: &Value) -> &'static str {
    match v {
        Value::Scalar(..) => "scalar",
        Value::String(..) => "string",
        Value::Vector(_) => "vector",
        Value::Matrix(_) => "matrix",
    }
}

/// Appends `{"resultType":…,"result":…[,"stats":…]}`; `stats` is pre-encoded JSON.
pub fn write_query_data(out: &mut Vec<u8>, v: &Value, stats: Option<&[u8]>) {
    out.extend_from_slice(b"{\"resultType\":\"");
    out.extend_from_slice(result_type(v).as_bytes());
    out.extend_from_slice(b"\",\"result\":");
    match v {
        // Scalars and strings are not covered by Prometheus' jsoniter codecs: their own
        // MarshalJSON writes `float64(T)/1000` with encoding/json, and scalars format the
        // value with 'f' (never an exponent).
        Value::Scalar(t, f) => {
            out.push(b'[');
            write_std_number(out, *t as f64 / 1000.0);
            out.extend_from_slice(b",\"");
            let mut s = String::with_capacity(24);
            if f.is_nan() {
                s.push_str("NaN");
            } else if f.is_infinite() {
                s.push_str(if *f > 0.0 { "+Inf" } else { "-Inf" });
            } else {
                let _ = std::fmt::Write::write_fmt(&mut s, format_args!("{f}"));
            }
            out.extend_from_slice(s.as_bytes());
            out.extend_from_slice(b"\"]");
        }
        Value::String(t, s) => {
            out.push(b'[');
            write_std_number(out, *t as f64 / 1000.0);
            out.push(b',');
            write_str(out, s);
            out.push(b']');
        }
        Value::Vector(samples) => {
            out.push(b'[');
            for (i, s) in samples.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_vector_sample(out, s);
            }
            out.push(b']');
        }
        Value::Matrix(series) => {
            let points: usize = series.iter().map(|s| s.samples.len()).sum();
            // ~30 bytes per point plus ~100 per series header: one allocation for most results.
            out.reserve(points * 30 + series.len() * 100);
            out.push(b'[');
            for (i, s) in series.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_matrix_series(out, s);
            }
            out.push(b']');
        }
    }
    if let Some(stats) = stats {
        out.extend_from_slice(b",\"stats\":");
        out.extend_from_slice(stats);
    }
    out.push(b'}');
}

/// Wraps pre-encoded `data` JSON in the success envelope.
pub fn success_envelope(data: &[u8], warnings: &[String], infos: &[String]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 64);
    begin_success(&mut out);
    out.extend_from_slice(data);
    finish_success(&mut out, warnings, infos);
    out
}

/// Appends the start of a success envelope, up to where `data` goes.
pub fn begin_success(out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"status\":\"success\",\"data\":");
}

/// Appends the rest of a success envelope after `data`.
pub fn finish_success(out: &mut Vec<u8>, warnings: &[String], infos: &[String]) {
    write_string_list(out, "warnings", warnings);
    write_string_list(out, "infos", infos);
    out.push(b'}');
}

/// Appends `,"key":["a","b"]` unless `items` is empty (Go's `omitempty`).
fn write_string_list(out: &mut Vec<u8>, key: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    out.extend_from_slice(b",\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":[");
    for (i, w) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, w);
    }
    out.push(b']');
}

/// The error envelope `{"status":"error","errorType":…,"error":…}`.
pub fn error_envelope(error_type: &str, message: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 64);
    out.extend_from_slice(b"{\"status\":\"error\",\"errorType\":");
    write_str(&mut out, error_type);
    out.extend_from_slice(b",\"error\":");
    write_str(&mut out, message);
    out.push(b'}');
    out
}

/// Serializes `value` with Prometheus' escaping and number format.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(256);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PromFormatter);
    value.serialize(&mut ser)?;
    Ok(out)
}

/// A serde_json formatter producing Go/jsoniter-compatible bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct PromFormatter;

impl Formatter for PromFormatter {
    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        let mut s = String::with_capacity(24);
        write_value(value, &mut s);
        writer.write_all(s.as_bytes())
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        self.write_f64(writer, f64::from(value))
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // serde_json already escaped quotes, backslashes and control bytes; what remains is
        // Go's HTML-safe set and the two line separators.
        if !fragment
            .bytes()
            .any(|b| matches!(b, b'<' | b'>' | b'&' | 0xe2))
        {
            return writer.write_all(fragment.as_bytes());
        }
        let mut buf = Vec::with_capacity(fragment.len() + 16);
        write_str_body(&mut buf, fragment);
        writer.write_all(&buf)
    }

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        char_escape: CharEscape,
    ) -> io::Result<()> {
        let s: &[u8] = match char_escape {
            CharEscape::Quote => b"\\\"",
            CharEscape::ReverseSolidus => b"\\\\",
            CharEscape::Solidus => b"/",
            CharEscape::Backspace => b"\\u0008",
            CharEscape::FormFeed => b"\\u000c",
            CharEscape::LineFeed => b"\\n",
            CharEscape::CarriageReturn => b"\\r",
            CharEscape::Tab => b"\\t",
            CharEscape::AsciiControl(b) => {
                let esc = [b'\\', b'u', b'0', b'0', hex_digit(b >> 4), hex_digit(b)];
                return writer.write_all(&esc);
            }
        };
        writer.write_all(s)
    }
}

#[cfg(test)]
mod tests {
    use argus_model::{Labels, Sample};

    use super::*;

    fn s(v: &str) -> String {
        let mut out = Vec::new();
        write_str(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_escape_like_go() {
        assert_eq!(s("plain"), r#""plain""#);
        assert_eq!(s("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(s("<a>&"), r#""\u003ca\u003e\u0026""#);
        assert_eq!(s("x\ny\tz\r"), r#""x\ny\tz\r""#);
        assert_eq!(s("\u{8}\u{c}\u{1}\u{1f}"), r#""\u0008\u000c\u0001\u001f""#);
        assert_eq!(s("a\u{2028}b\u{2029}"), r#""a\u2028b\u2029""#);
        // Other characters starting with byte 0xe2 pass through untouched.
        assert_eq!(s("€ → ✓"), "\"€ → ✓\"");
        assert_eq!(s("日本"), "\"日本\"");
    }

    #[test]
    fn serde_path_matches_hand_path() {
        for v in ["<x>&\"\\\n\u{8}\u{c}\u{2}\u{2028}€", "", "abc"] {
            let serde = String::from_utf8(to_vec(v).unwrap()).unwrap();
            assert_eq!(serde, s(v), "{v:?}");
        }
        let f = String::from_utf8(to_vec(&[0.5f64, 1e21, 1e-7, 3.0]).unwrap()).unwrap();
        assert_eq!(f, "[0.5,1e+21,1e-07,3]");
    }

    #[test]
    fn query_data_shapes() {
        let l = Labels::from_pairs(&[("__name__", "up"), ("job", "a<b")]);
        let mut out = Vec::new();
        write_query_data(
            &mut out,
            &Value::Vector(vec![VectorSample {
                labels: l.clone(),
                t: 1_700_000_000_123,
                v: f64::NAN,
            }]),
            None,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"a\u003cb"},"value":[1700000000.123,"NaN"]}]}"#
        );
        let mut out = Vec::new();
        write_query_data(
            &mut out,
            &Value::Matrix(vec![
                MatrixSeries {
                    labels: l,
                    samples: vec![Sample::new(1000, 1.0), Sample::new(2500, f64::INFINITY)],
                },
                MatrixSeries {
                    labels: Labels::empty(),
                    samples: vec![],
                },
            ]),
            Some(b"{}"),
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"resultType":"matrix","result":[{"metric":{"__name__":"up","job":"a\u003cb"},"values":[[1,"1"],[2.500,"+Inf"]]},{"metric":{}}],"stats":{}}"#
        );
        let mut out = Vec::new();
        write_query_data(&mut out, &Value::Scalar(-1500, -0.25), None);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"resultType":"scalar","result":[-1.5,"-0.25"]}"#
        );
        let mut out = Vec::new();
        write_query_data(&mut out, &Value::Scalar(1_700_000_000_123, 1e21), None);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"resultType":"scalar","result":[1700000000.123,"1000000000000000000000"]}"#
        );
        let mut out = Vec::new();
        write_std_number(&mut out, 1e-7);
        assert_eq!(out, b"1e-7");
        let mut out = Vec::new();
        write_query_data(&mut out, &Value::String(5, "a\"b".into()), None);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"resultType":"string","result":[0.005,"a\"b"]}"#
        );
    }

    #[test]
    fn envelopes() {
        let ok = success_envelope(b"[]", &["w<1".into()], &[]);
        assert_eq!(
            String::from_utf8(ok).unwrap(),
            r#"{"status":"success","data":[],"warnings":["w\u003c1"]}"#
        );
        let err = error_envelope("bad_data", "unexpected <op:>>");
        assert_eq!(
            String::from_utf8(err).unwrap(),
            r#"{"status":"error","errorType":"bad_data","error":"unexpected \u003cop:\u003e\u003e"}"#
        );
    }
}
