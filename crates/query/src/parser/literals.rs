//! Decoding of literal tokens: numbers (Go `strconv.ParseInt(s, 0, 64)` then `ParseFloat`),
//! quoted strings (Go `strconv.Unquote` rules, plus single-quoted strings as PromQL allows),
//! and durations.
//!
//! String escapes are decoded with a small nom parser.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while_m_n};
use nom::character::complete::{anychar, one_of};
use nom::combinator::{map, map_res};
use nom::sequence::preceded;
use nom::{IResult, Parser};

/// Parses a number token as Prometheus does.
pub fn parse_number(text: &str) -> Result<f64, String> {
    if let Some(i) = parse_go_int(text) {
        return Ok(i as f64);
    }
    parse_go_float(text).ok_or_else(|| {
        let reason = if looks_like_float(text) {
            "value out of range"
        } else {
            "invalid syntax"
        };
        format!(
            "error parsing number: strconv.ParseFloat: parsing {}: {reason}",
            super::token::go_quote(text)
        )
    })
}

fn looks_like_float(text: &str) -> bool {
    text.replace('_', "").parse::<f64>().is_ok()
}

/// Removes `_` digit separators where Go syntax allows them (between digits, or after a base
/// prefix). Returns None when an underscore is misplaced.
fn strip_underscores(digits: &str, after_prefix: bool) -> Option<String> {
    if !digits.contains('_') {
        return Some(digits.to_owned());
    }
    let b = digits.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b'_' {
            let prev_ok = if i == 0 {
                after_prefix
            } else {
                b.get(i - 1).is_some_and(|p| p.is_ascii_alphanumeric())
            };
            let next_ok = b.get(i + 1).is_some_and(|n| n.is_ascii_alphanumeric());
            if !prev_ok || !next_ok {
                return None;
            }
        }
    }
    Some(digits.replace('_', ""))
}

/// Go's `strconv.ParseInt(s, 0, 64)` for an unsigned literal.
fn parse_go_int(text: &str) -> Option<i64> {
    let lower = text.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d, true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d, true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower.get(1..)?, true)
    } else {
        (10, lower.as_str(), false)
    };
    let digits = strip_underscores(digits, prefixed)?;
    if digits.is_empty() {
        return None;
    }
    i64::from_str_radix(&digits, radix).ok()
}

/// Go's `strconv.ParseFloat(s, 64)`; None on syntax error or overflow.
pub(crate) fn parse_go_float(text: &str) -> Option<f64> {
    let lower = text.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    let neg = lower.starts_with('-');
    match unsigned {
        "inf" | "infinity" => {
            return Some(if neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })
        }
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if let Some(hex) = unsigned.strip_prefix("0x") {
        let v = parse_hex_float(&strip_underscores(hex, true)?)?;
        return Some(if neg { -v } else { v });
    }
    let cleaned = strip_underscores(&lower, false)?;
    if !cleaned
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'+' | b'-'))
    {
        return None;
    }
    let v: f64 = cleaned.parse().ok()?;
    if v.is_infinite() {
        return None;
    }
    Some(v)
}

/// Hex float mantissa with an optional `p` exponent (`1f`, `1.8p3`).
fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = match s.split_once('p') {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int.chars() {
        v = v * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        v += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    let r = v * 2f64.powi(exp);
    r.is_finite().then_some(r)
}

/// A decoded piece of a quoted string.
enum Piece {
    Char(char),
    Byte(u8),
}

fn hex_n(n: usize) -> impl Fn(&str) -> IResult<&str, u32> {
    move |i| {
        map_res(take_while_m_n(n, n, |c: char| c.is_ascii_hexdigit()), |h| {
            u32::from_str_radix(h, 16)
        })
        .parse(i)
    }
}

fn escape(quote: char) -> impl Fn(&str) -> IResult<&str, Piece> {
    move |i| {
        preceded(
            tag("\\"),
            alt((
                map(one_of("abfnrtv\\"), |c| {
                    Piece::Char(match c {
                        'a' => '\u{07}',
                        'b' => '\u{08}',
                        'f' => '\u{0c}',
                        'n' => '\n',
                        'r' => '\r',
                        't' => '\t',
                        'v' => '\u{0b}',
                        _ => '\\',
                    })
                }),
                map(preceded(tag("x"), hex_n(2)), |v| Piece::Byte(v as u8)),
                map_res(preceded(tag("u"), hex_n(4)), |v| {
                    char::from_u32(v).map(Piece::Char).ok_or(())
                }),
                map_res(preceded(tag("U"), hex_n(8)), |v| {
                    char::from_u32(v).map(Piece::Char).ok_or(())
                }),
                map_res(
                    take_while_m_n(3, 3, |c: char| ('0'..='7').contains(&c)),
                    |o: &str| u8::from_str_radix(o, 8).map(Piece::Byte),
                ),
                map_res(anychar, move |c| {
                    if c == quote {
                        Ok(Piece::Char(c))
                    } else {
                        Err(())
                    }
                }),
            )),
        )
        .parse(i)
    }
}

/// The unquoted value of a string token. Invalid UTF-8 produced by `\x`/octal escapes is
/// returned separately as raw bytes (Rust strings cannot hold it), with a lossy `String`.
pub fn unquote(text: &str) -> Result<(String, Option<Vec<u8>>), String> {
    let mut chars = text.chars();
    let (Some(q), Some(last)) = (chars.next(), text.chars().last()) else {
        return Err("invalid syntax".into());
    };
    if text.len() < 2 || q != last || !matches!(q, '"' | '\'' | '`') {
        return Err("invalid syntax".into());
    }
    let body = text.get(1..text.len() - 1).ok_or("invalid syntax")?;
    if q == '`' {
        if body.contains('`') {
            return Err("invalid syntax".into());
        }
        return Ok((body.to_owned(), None));
    }
    let mut out: Vec<u8> = Vec::with_capacity(body.len());
    let mut rest = body;
    while let Some(c) = rest.chars().next() {
        if c == '\\' {
            let (r, piece) = escape(q)(rest).map_err(|_| "invalid syntax".to_owned())?;
            match piece {
                Piece::Char(c) => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                Piece::Byte(b) => out.push(b),
            }
            rest = r;
        } else {
            if c == q || c == '\n' {
                return Err("invalid syntax".into());
            }
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            rest = rest.get(c.len_utf8()..).unwrap_or("");
        }
    }
    match String::from_utf8(out) {
        Ok(s) => Ok((s, None)),
        Err(e) => {
            let bytes = e.into_bytes();
            Ok((String::from_utf8_lossy(&bytes).into_owned(), Some(bytes)))
        }
    }
}

/// Go's `strconv.Quote` of raw bytes (invalid UTF-8 bytes as `\xNN`).
pub fn go_quote_bytes(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for chunk in bytes.utf8_chunks() {
        let mut s = String::new();
        argus_model::labels::go_quote_into(chunk.valid(), &mut s);
        out.push_str(s.get(1..s.len() - 1).unwrap_or(""));
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('"');
    out
}

/// Parses a duration token into ms.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    argus_model::parse_duration_ms(text).map_err(|_| {
        format!(
            "not a valid duration string: {}",
            super::token::go_quote(text)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number("0755").unwrap(), 493.0);
        assert_eq!(parse_number("0x1F").unwrap(), 31.0);
        assert_eq!(parse_number("1_000").unwrap(), 1000.0);
        assert_eq!(parse_number("5e-3").unwrap(), 0.005);
        assert_eq!(parse_number(".5").unwrap(), 0.5);
        assert_eq!(parse_number("5.").unwrap(), 5.0);
        assert!(parse_number("Inf").unwrap().is_infinite());
        assert!(parse_number("NaN").unwrap().is_nan());
        assert!(parse_number("1e400")
            .unwrap_err()
            .contains("value out of range"));
        assert_eq!(parse_number("09").unwrap(), 9.0, "falls back to float");
    }

    #[test]
    fn strings() {
        assert_eq!(unquote(r#""a\"b\n""#).unwrap().0, "a\"b\n");
        assert_eq!(unquote(r"'it\'s'").unwrap().0, "it's");
        assert_eq!(unquote(r"`a\nb`").unwrap().0, "a\\nb");
        assert_eq!(unquote(r#""\u00e9\x41""#).unwrap().0, "éA");
        let (lossy, raw) = unquote(r#""a\xc5z""#).unwrap();
        assert_eq!(lossy, "a\u{fffd}z");
        assert_eq!(go_quote_bytes(&raw.unwrap()), r#""a\xc5z""#);
        assert!(unquote(r#""\q""#).is_err());
    }
}
