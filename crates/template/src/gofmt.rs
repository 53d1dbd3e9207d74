//! Go's `fmt` package for template values: `Sprint`, `Sprintln`, `Sprintf` with the verbs
//! `%v %s %d %f %F %e %E %g %G %x %X %o %O %b %c %q %U %t %%`, flags `+ - # 0 space`,
//! width and precision (numbers or `*`). Argument indexes (`%[1]d`) are not supported.
//! Bad verbs, missing and extra arguments print as Go does (`%!d(string=x)`,
//! `%!s(MISSING)`, `%!(EXTRA int=1)`).

use crate::float::{format_float, FloatFmt};
use crate::time::format_duration;
use crate::value::Value;

/// Formatting flags of one verb.
#[derive(Clone, Copy, Default)]
pub(crate) struct Flags {
    pub plus: bool,
    pub minus: bool,
    pub sharp: bool,
    pub zero: bool,
    pub space: bool,
    pub width: Option<usize>,
    pub prec: Option<usize>,
}

fn is_stringish(v: &Value) -> bool {
    matches!(v.base(), Value::String(_) | Value::Html(_))
}

/// `fmt.Sprint`: operands formatted with `%v`, a space between two operands when neither is
/// a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            if let Some(prev) = args.get(i - 1) {
                if !is_stringish(prev) && !is_stringish(a) {
                    out.push(' ');
                }
            }
        }
        fmt_value(&mut out, a, 'v', Flags::default(), 0);
    }
    out
}

/// `fmt.Sprintln`: operands separated by spaces, newline appended.
pub fn sprintln(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        fmt_value(&mut out, a, 'v', Flags::default(), 0);
    }
    out.push('\n');
    out
}

/// `fmt.Sprintf`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut argi = 0usize;
    let chars: Vec<char> = format.chars().collect();
    let mut i = 0usize;
    while i < chars.len() {
        let Some(&c) = chars.get(i) else { break };
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        let mut f = Flags::default();
        while let Some(&fc) = chars.get(i) {
            match fc {
                '+' => f.plus = true,
                '-' => f.minus = true,
                '#' => f.sharp = true,
                '0' => f.zero = true,
                ' ' => f.space = true,
                _ => break,
            }
            i += 1;
        }
        // Width.
        if chars.get(i) == Some(&'*') {
            i += 1;
            match args.get(argi).map(Value::base) {
                Some(Value::Int(n)) => {
                    if *n < 0 {
                        f.minus = true;
                    }
                    f.width = Some(n.unsigned_abs() as usize);
                }
                _ => out.push_str("%!(BADWIDTH)"),
            }
            argi += 1;
        } else {
            let (n, adv) = parse_num(&chars, i);
            f.width = n;
            i += adv;
        }
        // Precision.
        if chars.get(i) == Some(&'.') {
            i += 1;
            if chars.get(i) == Some(&'*') {
                i += 1;
                match args.get(argi).map(Value::base) {
                    Some(Value::Int(n)) if *n >= 0 => f.prec = Some(*n as usize),
                    _ => out.push_str("%!(BADPREC)"),
                }
                argi += 1;
            } else {
                let (n, adv) = parse_num(&chars, i);
                f.prec = Some(n.unwrap_or(0));
                i += adv;
            }
        }
        if !f.minus && f.zero {
            // ok: zero padding
        } else {
            f.zero = false;
        }
        let Some(&verb) = chars.get(i) else {
            out.push_str("%!(NOVERB)");
            break;
        };
        i += 1;
        if verb == '%' {
            out.push('%');
            continue;
        }
        match args.get(argi) {
            Some(a) => fmt_value(&mut out, a, verb, f, 0),
            None => {
                out.push_str("%!");
                out.push(verb);
                out.push_str("(MISSING)");
            }
        }
        argi += 1;
    }
    if argi < args.len() {
        out.push_str("%!(EXTRA ");
        for (k, a) in args.iter().skip(argi).enumerate() {
            if k > 0 {
                out.push_str(", ");
            }
            if matches!(a, Value::Nil) {
                out.push_str("<nil>");
            } else {
                out.push_str(a.type_name());
                out.push('=');
                fmt_value(&mut out, a, 'v', Flags::default(), 0);
            }
        }
        out.push(')');
    }
    out
}

fn parse_num(chars: &[char], mut i: usize) -> (Option<usize>, usize) {
    let start = i;
    let mut n: usize = 0;
    while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
        n = n
            .saturating_mul(10)
            .saturating_add(d as usize)
            .min(1_000_000);
        i += 1;
    }
    if i == start {
        (None, 0)
    } else {
        (Some(n), i - start)
    }
}

fn bad_verb(out: &mut String, v: &Value, verb: char) {
    out.push_str("%!");
    out.push(verb);
    out.push('(');
    if matches!(v, Value::Nil) {
        out.push_str("<nil>");
    } else {
        out.push_str(v.type_name());
        out.push('=');
        fmt_value(out, v, 'v', Flags::default(), 0);
    }
    out.push(')');
}

/// Pads `s` to the flag width; `zero_ok` lets numbers pad with zeros after their sign.
fn pad(out: &mut String, s: &str, f: Flags, zero_ok: bool) {
    let len = s.chars().count();
    let w = f.width.unwrap_or(0);
    if len >= w {
        out.push_str(s);
        return;
    }
    let fill = w - len;
    if f.minus {
        out.push_str(s);
        out.extend(std::iter::repeat_n(' ', fill));
    } else if f.zero && zero_ok {
        let (sign, rest) = match s.chars().next() {
            Some(c @ ('+' | '-' | ' ')) => (Some(c), &s[1..]),
            _ => (None, s),
        };
        if let Some(c) = sign {
            out.push(c);
        }
        out.extend(std::iter::repeat_n('0', fill));
        out.push_str(rest);
    } else {
        out.extend(std::iter::repeat_n(if f.zero { '0' } else { ' ' }, fill));
        out.push_str(s);
    }
}

pub(crate) fn fmt_value(out: &mut String, v: &Value, verb: char, f: Flags, depth: usize) {
    if depth > 64 {
        out.push_str("...");
        return;
    }
    match v {
        Value::Object(o) => fmt_value(out, &o.value, verb, f, depth),
        Value::Nil => match verb {
            'v' => pad(out, "<nil>", f, false),
            _ => bad_verb(out, v, verb),
        },
        Value::Bool(b) => match verb {
            'v' | 't' => pad(out, if *b { "true" } else { "false" }, f, false),
            _ => bad_verb(out, v, verb),
        },
        Value::Int(i) => fmt_int(out, *i, verb, f).unwrap_or_else(|| bad_verb(out, v, verb)),
        Value::Duration(d) => match verb {
            'v' | 's' | 'q' | 'x' | 'X' => fmt_str(out, &format_duration(*d), verb, f),
            _ => fmt_int(out, *d, verb, f).unwrap_or_else(|| bad_verb(out, v, verb)),
        },
        Value::Float(x) => fmt_float(out, *x, verb, f).unwrap_or_else(|| bad_verb(out, v, verb)),
        Value::String(s) | Value::Html(s) => match verb {
            'v' | 's' | 'q' | 'x' | 'X' => fmt_str(out, s, verb, f),
            _ => bad_verb(out, v, verb),
        },
        Value::Time(t) => match verb {
            'v' | 's' | 'q' | 'x' | 'X' => fmt_str(out, &t.to_string(), verb, f),
            _ => bad_verb(out, v, verb),
        },
        Value::Func(_) => pad(out, "0xfunc", f, false),
        Value::List(items) => {
            out.push('[');
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                fmt_value(out, it, verb, f, depth + 1);
            }
            out.push(']');
        }
        Value::Struct(m) => {
            out.push('{');
            for (i, val) in m.values().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                fmt_value(out, val, verb, f, depth + 1);
            }
            out.push('}');
        }
        Value::Map(m) => {
            out.push_str("map[");
            for (i, (k, val)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                fmt_str(out, k, verb, f);
                out.push(':');
                fmt_value(out, val, verb, f, depth + 1);
            }
            out.push(']');
        }
    }
}

fn fmt_str(out: &mut String, s: &str, verb: char, f: Flags) {
    let s: String = match f.prec {
        Some(p) if verb != 'x' && verb != 'X' => s.chars().take(p).collect(),
        _ => s.to_string(),
    };
    match verb {
        'q' => {
            let q =
                if f.sharp && !s.contains('`') && s.chars().all(|c| c == '\t' || !c.is_control()) {
                    format!("`{s}`")
                } else {
                    go_quote(&s, f.plus)
                };
            pad(out, &q, f, false);
        }
        'x' | 'X' => {
            let bytes = s.as_bytes();
            let n = f.prec.map_or(bytes.len(), |p| p.min(bytes.len()));
            let mut h = String::new();
            for (i, b) in bytes.iter().take(n).enumerate() {
                if f.space && i > 0 {
                    h.push(' ');
                }
                if f.sharp && (f.space || i == 0) {
                    h.push_str(if verb == 'x' { "0x" } else { "0X" });
                }
                if verb == 'x' {
                    h.push_str(&format!("{b:02x}"));
                } else {
                    h.push_str(&format!("{b:02X}"));
                }
            }
            pad(out, &h, f, false);
        }
        _ => pad(out, &s, f, true),
    }
}

/// `strconv.Quote` (`ascii_only` = `QuoteToASCII`).
pub(crate) fn go_quote(s: &str, ascii_only: bool) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\u{7}' => q.push_str("\\a"),
            '\u{8}' => q.push_str("\\b"),
            '\u{c}' => q.push_str("\\f"),
            '\n' => q.push_str("\\n"),
            '\r' => q.push_str("\\r"),
            '\t' => q.push_str("\\t"),
            '\u{b}' => q.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => q.push_str(&format!("\\x{:02x}", c as u32)),
            c if ascii_only && !c.is_ascii() || !ascii_only && is_go_unprintable(c) => {
                let n = c as u32;
                if n < 0x10000 {
                    q.push_str(&format!("\\u{n:04x}"));
                } else {
                    q.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// Approximates `strconv.IsPrint` for non-ASCII: C1 controls, separators other than
/// U+0020, surrogate-free private/unassigned ranges are escaped.
fn is_go_unprintable(c: char) -> bool {
    let n = c as u32;
    (0x80..0xa0).contains(&n)
        || n == 0xad
        || n == 0xfeff
        || (0x2028..=0x2029).contains(&n)
        || (0xe000..=0xf8ff).contains(&n)
        || n == 0xfffe
        || n == 0xffff
        || (c.is_whitespace() && c != ' ')
}

fn fmt_int(out: &mut String, i: i64, verb: char, f: Flags) -> Option<()> {
    let neg = i < 0;
    let u = i.unsigned_abs();
    let mut digits = match verb {
        'v' | 'd' => u.to_string(),
        'b' => format!("{u:b}"),
        'o' | 'O' => format!("{u:o}"),
        'x' => format!("{u:x}"),
        'X' => format!("{u:X}"),
        'c' => {
            let c = char::from_u32(u32::try_from(i).ok()?).unwrap_or('\u{fffd}');
            pad(out, &c.to_string(), f, false);
            return Some(());
        }
        'q' => {
            let c = char::from_u32(u32::try_from(i).ok()?).unwrap_or('\u{fffd}');
            let q = go_quote(&c.to_string(), f.plus);
            let inner = q.get(1..q.len() - 1).unwrap_or("").replace("\\\"", "\"");
            let inner = if c == '\'' { "\\'".to_string() } else { inner };
            pad(out, &format!("'{inner}'"), f, false);
            return Some(());
        }
        'U' => {
            let mut s = format!("U+{u:04X}");
            if f.sharp {
                if let Some(c) = char::from_u32(u32::try_from(i).ok()?) {
                    s.push_str(&format!(" '{c}'"));
                }
            }
            pad(out, &s, f, false);
            return Some(());
        }
        _ => return None,
    };
    if let Some(p) = f.prec {
        if p == 0 && u == 0 {
            digits.clear();
        }
        while digits.len() < p {
            digits.insert(0, '0');
        }
    }
    let prefix = match verb {
        'x' if f.sharp => "0x",
        'X' if f.sharp => "0X",
        'o' if f.sharp && !digits.starts_with('0') => "0",
        'O' => "0o",
        'b' if f.sharp => "0b",
        _ => "",
    };
    let sign = if neg {
        "-"
    } else if f.plus {
        "+"
    } else if f.space {
        " "
    } else {
        ""
    };
    // Go ignores the zero flag when a precision is given.
    let f2 = Flags {
        zero: f.zero && f.prec.is_none(),
        ..f
    };
    if f2.zero && !f2.minus {
        let body = format!("{prefix}{digits}");
        let w = f2.width.unwrap_or(0);
        let mut s = sign.to_string();
        let len = sign.len() + body.len();
        if len < w {
            s.push_str(prefix);
            s.extend(std::iter::repeat_n('0', w - len));
            s.push_str(&digits);
        } else {
            s.push_str(&body);
        }
        out.push_str(&s);
    } else {
        pad(out, &format!("{sign}{prefix}{digits}"), f2, false);
    }
    Some(())
}

fn fmt_float(out: &mut String, x: f64, verb: char, f: Flags) -> Option<()> {
    let (fverb, prec) = match verb {
        'v' => ('g', None),
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' => (verb, f.prec),
        _ => return None,
    };
    let mut s = format_float(x, FloatFmt { verb: fverb, prec });
    if x.is_nan() {
        s = if f.plus {
            "+NaN".into()
        } else if f.space {
            " NaN".into()
        } else {
            "NaN".into()
        };
        pad(out, &s, Flags { zero: false, ..f }, false);
        return Some(());
    }
    if x.is_infinite() {
        // Go always shows the sign of an infinity and never zero-pads it.
        let s = if x > 0.0 {
            if f.space && !f.plus {
                " Inf"
            } else {
                "+Inf"
            }
        } else {
            "-Inf"
        };
        pad(out, s, Flags { zero: false, ..f }, false);
        return Some(());
    }
    if !s.starts_with('-') {
        if f.plus {
            s.insert(0, '+');
        } else if f.space {
            s.insert(0, ' ');
        }
    }
    pad(out, &s, f, true);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(format: &str, args: &[Value]) -> String {
        sprintf(format, args)
    }

    #[test]
    fn printf_verbs() {
        assert_eq!(p("%s-%d", &["a".into(), 5.into()]), "a-5");
        assert_eq!(p("%.2f", &[1.23456.into()]), "1.23");
        assert_eq!(
            p("%5.1f|%-6d|%06d", &[2.25.into(), 42.into(), (-42).into()]),
            "  2.2|42    |-00042"
        );
        assert_eq!(
            p("%v %v %v", &[1e6.into(), 123456.0.into(), 1234567.0.into()]),
            "1e+06 123456 1.234567e+06"
        );
        assert_eq!(p("%q", &["a\"b\n".into()]), "\"a\\\"b\\n\"");
        assert_eq!(
            p("%x %X %x", &[255.into(), 255.into(), "hi".into()]),
            "ff FF 6869"
        );
        assert_eq!(
            p(
                "%g %e %.3e",
                &[0.000012.into(), 1234.5678.into(), 1234.5678.into()]
            ),
            "1.2e-05 1.234568e+03 1.235e+03"
        );
        assert_eq!(p("%.4g", &[12345.0.into()]), "1.234e+04");
        assert_eq!(p("%t %v", &[true.into(), Value::Nil]), "true <nil>");
        assert_eq!(
            p("%c %q %U", &[65.into(), 65.into(), 0x1F600.into()]),
            "A 'A' U+1F600"
        );
        assert_eq!(
            p("%5s|%-5s|%.2s", &["ab".into(), "ab".into(), "abc".into()]),
            "   ab|ab   |ab"
        );
        assert_eq!(
            p("%+d % d %+.1f", &[5.into(), 5.into(), 1.0.into()]),
            "+5  5 +1.0"
        );
        assert_eq!(
            p("%#x %#o %b", &[255.into(), 8.into(), 5.into()]),
            "0xff 010 101"
        );
        assert_eq!(
            p("%v %f", &[f64::INFINITY.into(), f64::NEG_INFINITY.into()]),
            "+Inf -Inf"
        );
        assert_eq!(p("%v", &[f64::NAN.into()]), "NaN");
        assert_eq!(
            p("%*d|%.*f", &[4.into(), 7.into(), 1.into(), 2.55.into()]),
            "   7|2.5"
        );
        assert_eq!(p("100%%", &[]), "100%");
    }

    #[test]
    fn printf_errors_like_go() {
        assert_eq!(p("%d", &["x".into()]), "%!d(string=x)");
        assert_eq!(p("%s", &[5.into()]), "%!s(int=5)");
        assert_eq!(p("%s", &[1.5.into()]), "%!s(float64=1.5)");
        assert_eq!(p("%d %d", &[1.into()]), "1 %!d(MISSING)");
        assert_eq!(p("%d", &[1.into(), "a".into()]), "1%!(EXTRA string=a)");
        assert_eq!(p("%d", &[Value::Nil]), "%!d(<nil>)");
        assert_eq!(p("abc%", &[]), "abc%!(NOVERB)");
    }

    #[test]
    fn composite_values() {
        let l = Value::from(vec![Value::from(1), "a".into(), 2.5.into()]);
        assert_eq!(sprint(&[l]), "[1 a 2.5]");
        assert_eq!(p("%d", &[Value::from(vec![1, 2])]), "[1 2]");
        assert_eq!(p("%q", &[Value::from(vec!["a", "b"])]), "[\"a\" \"b\"]");
        let m = Value::map([("b", Value::from(2)), ("a", Value::from("x"))]);
        assert_eq!(sprint(&[m]), "map[a:x b:2]");
    }

    #[test]
    fn sprint_spacing() {
        assert_eq!(sprint(&[1.into(), 2.into()]), "1 2");
        assert_eq!(
            sprint(&["a".into(), 1.into(), 2.into(), "b".into()]),
            "a1 2b"
        );
        assert_eq!(sprintln(&["a".into(), 1.into()]), "a 1\n");
        assert_eq!(sprint(&[Value::Nil]), "<nil>");
    }
}
