//! Helpers shared by the Prometheus and Alertmanager function sets: argument checks with
//! Go's messages, Go's `strings.Title`, regexp functions, number conversion.

use crate::gofmt::sprintf;
use crate::value::Value;

/// `wrong number of args for NAME: want N got M`.
pub(crate) fn arity(name: &str, a: &[Value], n: usize) -> Result<(), String> {
    if a.len() != n {
        return Err(format!(
            "wrong number of args for {name}: want {n} got {}",
            a.len()
        ));
    }
    Ok(())
}

/// A string parameter (Go rejects other types when calling a `func(string)`).
pub(crate) fn str_arg(a: &[Value], i: usize) -> Result<&str, String> {
    let v = a.get(i).unwrap_or(&Value::Nil);
    match v.base() {
        Value::String(s) | Value::Html(s) => Ok(s),
        Value::Nil => Err("invalid value; expected string".into()),
        other => Err(format!(
            "wrong type for value; expected string; got {}",
            other.type_name()
        )),
    }
}

/// Prometheus' `convertToFloat`.
pub(crate) fn to_float(v: &Value) -> Result<f64, String> {
    match v.base() {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        Value::String(s) => parse_go_float(s).ok_or_else(|| {
            format!(
                "strconv.ParseFloat: parsing {}: invalid syntax",
                crate::gofmt::go_quote(s, false)
            )
        }),
        Value::Duration(d) => Ok(*d as f64 / 1e9),
        Value::Time(t) => Ok(t.unix_f64()),
        other => Err(format!("can't convert {} to float", other.type_name())),
    }
}

/// Go's `strconv.ParseFloat` for the decimal syntax plus `Inf`/`NaN` spellings.
pub(crate) fn parse_go_float(s: &str) -> Option<f64> {
    let l = s.to_ascii_lowercase();
    let (sign, body) = match l.as_bytes().first() {
        Some(b'-') => (-1.0, &l[1..]),
        Some(b'+') => (1.0, &l[1..]),
        _ => (1.0, l.as_str()),
    };
    match body {
        "inf" | "infinity" => return Some(sign * f64::INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if body.is_empty()
        || !body
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'+' | b'-' | b'_'))
    {
        return None;
    }
    s.replace('_', "").parse().ok()
}

/// Go's `strings.Title`: upper-cases the first letter of each word; the rest is unchanged.
pub(crate) fn go_title(s: &str) -> String {
    let is_sep = |c: char| {
        if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else {
            c.is_whitespace()
        }
    };
    let mut prev_sep = true;
    s.chars()
        .flat_map(|c| {
            let out: Vec<char> = if prev_sep && !is_sep(c) {
                c.to_uppercase().collect()
            } else {
                vec![c]
            };
            prev_sep = is_sep(c);
            out
        })
        .collect()
}

/// `cases.Title(language.AmericanEnglish)`: first letter of each word upper, rest lower.
pub(crate) fn cases_title(s: &str) -> String {
    let mut prev_letter = false;
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let word = c.is_alphanumeric() || c == '\'' || c == '’';
        if word && !prev_letter {
            out.extend(c.to_uppercase());
        } else if word {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
        prev_letter = word;
    }
    out
}

fn compile(pattern: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(pattern).map_err(|e| {
        format!(
            "error parsing regexp: {}: `{pattern}`",
            e.to_string().lines().last().unwrap_or("invalid")
        )
    })
}

/// `regexp.MatchString(pattern, s)` (unanchored).
pub(crate) fn re_match(a: &[Value]) -> Result<Value, String> {
    arity("match", a, 2)?;
    let re = compile(str_arg(a, 0)?)?;
    Ok(Value::Bool(re.is_match(str_arg(a, 1)?)))
}

/// `regexp.MustCompile(pattern).ReplaceAllString(text, repl)`.
pub(crate) fn re_replace_all(a: &[Value]) -> Result<Value, String> {
    arity("reReplaceAll", a, 3)?;
    let pattern = str_arg(a, 0)?;
    let re = compile(pattern).map_err(|e| format!("regexp: Compile({pattern:?}): {e}"))?;
    Ok(Value::String(
        re.replace_all(str_arg(a, 2)?, str_arg(a, 1)?).into_owned(),
    ))
}

/// Prometheus' (and `prometheus/common`'s) `humanizeDuration`.
pub(crate) fn humanize_duration(a: &[Value]) -> Result<Value, String> {
    arity("humanizeDuration", a, 1)?;
    let mut v = to_float(a.first().unwrap_or(&Value::Nil))?;
    let f4 = |x: f64, suffix: &str| sprintf("%.4g", &[Value::Float(x)]) + suffix;
    if v.is_nan() || v.is_infinite() {
        return Ok(Value::String(f4(v, "")));
    }
    if v == 0.0 {
        return Ok(Value::String(f4(v, "s")));
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        v = v.abs();
        let d = v as i64;
        let (secs, mins, hours, days) = (d % 60, (d / 60) % 60, (d / 3600) % 24, d / 86_400);
        let s = if days != 0 {
            format!("{sign}{days}d {hours}h {mins}m {secs}s")
        } else if hours != 0 {
            format!("{sign}{hours}h {mins}m {secs}s")
        } else if mins != 0 {
            format!("{sign}{mins}m {secs}s")
        } else {
            format!("{sign}{}", f4(v, "s"))
        };
        return Ok(Value::String(s));
    }
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    Ok(Value::String(f4(v, &format!("{prefix}s"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles() {
        assert_eq!(go_title("aa bb CC"), "Aa Bb CC");
        assert_eq!(go_title("hello_world foo-bar"), "Hello_world Foo-Bar");
        assert_eq!(cases_title("hELLO wORLD"), "Hello World");
    }

    #[test]
    fn regexps() {
        let s = |x: &str| Value::from(x);
        assert_eq!(re_replace_all(&[s("(a)b"), s("x$1"), s("ab")]), Ok(s("xa")));
        assert_eq!(
            re_replace_all(&[s("^(.*):\\d+$"), s("$1"), s("host:9100")]),
            Ok(s("host"))
        );
        assert_eq!(re_match(&[s("a+"), s("baab")]), Ok(Value::Bool(true)));
        assert!(re_match(&[s("("), s("x")]).is_err());
        assert!(re_replace_all(&[s("a"), Value::Int(1), s("x")])
            .unwrap_err()
            .contains("expected string"));
    }

    #[test]
    fn floats() {
        assert_eq!(to_float(&Value::from("1e3")), Ok(1000.0));
        assert_eq!(to_float(&Value::from("+Inf")), Ok(f64::INFINITY));
        assert!(to_float(&Value::from("x")).is_err());
        assert_eq!(
            to_float(&Value::List(vec![])).unwrap_err(),
            "can't convert []interface {} to float"
        );
    }
}
