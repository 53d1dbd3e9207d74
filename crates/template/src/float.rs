//! `strconv.FormatFloat` for the `e`, `f` and `g` formats, with Go's rounding (correctly
//! rounded, ties to even on the exact binary value) and Go's `%g` exponent rules.

/// Float format request.
#[derive(Clone, Copy)]
pub(crate) struct FloatFmt {
    /// `e`, `E`, `f`, `F`, `g` or `G`.
    pub verb: char,
    /// Precision; `None` = Go's default (6 for e/f, shortest for g).
    pub prec: Option<usize>,
}

/// Decimal digits `0.d1d2d3… × 10^dp` with no trailing zeros.
struct Digits {
    d: Vec<u8>,
    dp: i32,
}

/// Shortest digits that round-trip (Rust's and Go's shortest formatting agree).
fn shortest(x: f64) -> Digits {
    parse_sci(&format!("{:e}", x.abs()))
}

/// Exact decimal expansion (every f64 has fewer than 800 significant digits).
fn exact(x: f64) -> Digits {
    parse_sci(&format!("{:.800e}", x.abs()))
}

fn parse_sci(s: &str) -> Digits {
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut d: Vec<u8> = mant
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    while d.last() == Some(&0) {
        d.pop();
    }
    if d.is_empty() {
        return Digits { d, dp: 0 };
    }
    Digits { d, dp: exp + 1 }
}

/// Rounds to `n` digits (ties to even), trimming trailing zeros.
fn round(mut g: Digits, n: i64) -> Digits {
    if n < 0 {
        return Digits {
            d: Vec::new(),
            dp: 0,
        };
    }
    let n = n as usize;
    if n >= g.d.len() {
        return g;
    }
    let next = g.d.get(n).copied().unwrap_or(0);
    let rest_nonzero = g.d.iter().skip(n + 1).any(|&c| c != 0);
    let prev_odd = n > 0 && g.d.get(n - 1).is_some_and(|c| c % 2 == 1);
    let up = next > 5 || (next == 5 && (rest_nonzero || prev_odd));
    g.d.truncate(n);
    if up {
        let mut i = n;
        loop {
            if i == 0 {
                g.d.insert(0, 1);
                g.dp += 1;
                break;
            }
            i -= 1;
            if let Some(c) = g.d.get_mut(i) {
                if *c == 9 {
                    *c = 0;
                } else {
                    *c += 1;
                    break;
                }
            }
        }
    }
    while g.d.last() == Some(&0) {
        g.d.pop();
    }
    if g.d.is_empty() {
        g.dp = 0;
    }
    g
}

fn digit(g: &Digits, i: i64) -> char {
    if i < 0 {
        return '0';
    }
    g.d.get(i as usize).map_or('0', |c| (b'0' + c) as char)
}

fn fmt_e(out: &mut String, g: &Digits, prec: usize, e: char) {
    out.push(digit(g, 0));
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            out.push(digit(g, i as i64));
        }
    }
    out.push(e);
    let exp = if g.d.is_empty() { 0 } else { g.dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let a = exp.unsigned_abs();
    if a < 10 {
        out.push('0');
    }
    out.push_str(&a.to_string());
}

fn fmt_f(out: &mut String, g: &Digits, prec: usize) {
    if g.dp > 0 {
        for i in 0..g.dp {
            out.push(digit(g, i64::from(i)));
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 1..=prec as i64 {
            out.push(digit(g, i64::from(g.dp) + i - 1));
        }
    }
}

/// Formats `x` (finite or not) without a leading `+`.
pub(crate) fn format_float(x: f64, f: FloatFmt) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let mut out = String::new();
    if x.is_sign_negative() {
        out.push('-');
    }
    let upper = f.verb.is_ascii_uppercase();
    let e = if upper { 'E' } else { 'e' };
    match f.verb.to_ascii_lowercase() {
        'e' => {
            let prec = f.prec.unwrap_or(6);
            let g = round(exact(x), prec as i64 + 1);
            fmt_e(&mut out, &g, prec, e);
        }
        'f' => {
            let prec = f.prec.unwrap_or(6);
            let ex = exact(x);
            let n = i64::from(ex.dp) + prec as i64;
            let g = round(ex, n);
            fmt_f(&mut out, &g, prec);
        }
        _ => {
            let (g, prec, shortest) = match f.prec {
                None => {
                    let g = shortest(x);
                    let n = g.d.len();
                    (g, n, true)
                }
                Some(p) => {
                    let p = p.max(1);
                    (round(exact(x), p as i64), p, false)
                }
            };
            let nd = g.d.len();
            let mut eprec = prec;
            if eprec > nd && nd as i64 >= i64::from(g.dp) {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = i64::from(g.dp) - 1;
            if !g.d.is_empty() && (exp < -4 || exp >= eprec as i64) {
                let p = prec.min(nd).max(1);
                fmt_e(&mut out, &g, p - 1, e);
            } else {
                let p = if prec as i64 > i64::from(g.dp) {
                    nd
                } else {
                    prec
                };
                fmt_f(&mut out, &g, (p as i64 - i64::from(g.dp)).max(0) as usize);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(x: f64, prec: Option<usize>) -> String {
        format_float(x, FloatFmt { verb: 'g', prec })
    }

    #[test]
    fn g_like_go() {
        assert_eq!(g(0.0, None), "0");
        assert_eq!(g(1.0, None), "1");
        assert_eq!(g(1234567.0, Some(4)), "1.235e+06");
        assert_eq!(g(1.2345, Some(4)), "1.234");
        assert_eq!(g(12.345, Some(4)), "12.35");
        assert_eq!(g(123.5, Some(4)), "123.5");
        assert_eq!(g(100000.0, Some(4)), "1e+05");
        assert_eq!(g(1000.0, Some(4)), "1000");
        assert_eq!(g(0.0001, None), "0.0001");
        assert_eq!(g(0.00001, None), "1e-05");
        assert_eq!(g(1e21, None), "1e+21");
        assert_eq!(g(-22.222, Some(4)), "-22.22");
        assert_eq!(g(0.12, Some(4)), "0.12");
        assert_eq!(g(120.0, Some(4)), "120");
        assert_eq!(g(-0.0, None), "-0");
    }

    #[test]
    fn e_and_f() {
        let f = |x, verb, prec| format_float(x, FloatFmt { verb, prec });
        assert_eq!(f(0.0, 'e', None), "0.000000e+00");
        assert_eq!(f(123.456, 'e', Some(2)), "1.23e+02");
        assert_eq!(f(0.125, 'f', Some(2)), "0.12");
        assert_eq!(f(0.375, 'f', Some(2)), "0.38");
        assert_eq!(f(9.999, 'f', Some(2)), "10.00");
        assert_eq!(f(0.0005, 'f', Some(2)), "0.00");
        assert_eq!(f(123456789.0, 'f', None), "123456789.000000");
        assert_eq!(f(1e-7, 'E', Some(1)), "1.0E-07");
    }
}
