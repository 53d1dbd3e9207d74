//! Go's shortest float formatting (`strconv.FormatFloat(v, 'f'|'e', -1, 64)`).
//!
//! Rust and Go both print the shortest decimal that parses back to the same `f64`, but they
//! break one kind of tie differently: when the exact binary value lies exactly halfway
//! between two shortest candidates (`3167.32916259765625` with 17 digits), Go rounds the
//! last digit half to even (`3167.3291625976562`) and Rust rounds it up (`…563`). Prometheus'
//! API answers are Go's bytes, so the tie is corrected here and every formatter of Argus
//! that mimics Go builds on [`shortest`].

use std::fmt::Write as _;

/// A finite, non-zero value as shortest decimal digits: `v = ±0.d1d2…dn × 10^point`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal {
    /// Whether the value is negative.
    pub negative: bool,
    /// The significant digits, without leading or trailing zeros.
    pub digits: String,
    /// Position of the decimal point relative to the first digit.
    pub point: i32,
}

/// The odd mantissa and binary exponent of a finite non-zero `v`: `|v| = m × 2^e`, `m` odd.
fn odd_mantissa(v: f64) -> (u64, i32) {
    let bits = v.abs().to_bits();
    let exp_bits = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    let (mut m, mut e) = if exp_bits == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), exp_bits - 1075)
    };
    let tz = m.trailing_zeros();
    m >>= tz;
    e += tz as i32;
    (m, e)
}

/// Whether `|v|` is exactly `k × 10^p` for an odd `k` (a decimal midpoint ends in 5, so it
/// is odd): then the binary exponent must equal `p` and `m × 5^-p = k` (or `m = k × 5^p`).
fn equals_odd_decimal(v: f64, k: u128, p: i32) -> bool {
    let (m, e) = odd_mantissa(v);
    if e != p {
        return false;
    }
    let pow5 = |n: u32| 5u128.checked_pow(n);
    if p >= 0 {
        pow5(p as u32)
            .and_then(|f| k.checked_mul(f))
            .is_some_and(|x| x == u128::from(m))
    } else {
        pow5(p.unsigned_abs())
            .and_then(|f| u128::from(m).checked_mul(f))
            .is_some_and(|x| x == k)
    }
}

/// Go's shortest digits of a finite non-zero `v`.
pub fn shortest(v: f64) -> Decimal {
    // Rust's `{:e}` gives shortest round-trip digits: `d.ddde±x`.
    let s = format!("{:e}", v.abs());
    let (mant, exp) = s.split_once('e').unwrap_or((s.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let mut out = Decimal {
        negative: v.is_sign_negative(),
        point: exp + 1,
        digits,
    };
    // A tie needs an odd last digit (Go keeps an even one); with at most 17 digits the
    // candidates fit in integers.
    let n = out.digits.len() as i32;
    let Ok(d) = out.digits.parse::<u64>() else {
        return out;
    };
    if d % 2 == 0 {
        return out;
    }
    // `|v| ≈ d × 10^scale`.
    let scale = out.point - n;
    for c in [d - 1, d + 1] {
        // The midpoint of d and c is 5·(d + c) × 10^(scale-1).
        let k = 5 * u128::from(d + c);
        let back: Option<f64> = format!("{c}e{scale}").parse().ok();
        if back == Some(v.abs()) && equals_odd_decimal(v, k, scale - 1) {
            let mut digits = c.to_string();
            // A carry (…9 + 1) may lengthen the number: the point follows its length.
            out.point = scale + digits.len() as i32;
            while digits.len() > 1 && digits.ends_with('0') {
                digits.pop();
            }
            out.digits = digits;
            return out;
        }
    }
    out
}

/// Appends Go's `FormatFloat(v, 'f', -1, 64)`: plain decimal, never an exponent.
/// NaN and infinities are written as Go does (`NaN`, `+Inf`, `-Inf`).
pub fn write_f(v: f64, out: &mut String) {
    if let Some(s) = special(v) {
        out.push_str(s);
        return;
    }
    if v == 0.0 {
        out.push_str(if v.is_sign_negative() { "-0" } else { "0" });
        return;
    }
    let d = shortest(v);
    if d.negative {
        out.push('-');
    }
    let n = d.digits.len() as i32;
    if d.point <= 0 {
        out.push_str("0.");
        for _ in 0..-d.point {
            out.push('0');
        }
        out.push_str(&d.digits);
    } else if d.point >= n {
        out.push_str(&d.digits);
        for _ in 0..d.point - n {
            out.push('0');
        }
    } else {
        let (a, b) = d.digits.split_at(d.point as usize);
        out.push_str(a);
        out.push('.');
        out.push_str(b);
    }
}

/// Appends Go's `FormatFloat(v, 'e', -1, 64)`: `d.ddde±XX` with at least two exponent
/// digits (`1.5e-07`, `1e+21`).
pub fn write_e(v: f64, out: &mut String) {
    if let Some(s) = special(v) {
        out.push_str(s);
        return;
    }
    if v == 0.0 {
        out.push_str(if v.is_sign_negative() {
            "-0e+00"
        } else {
            "0e+00"
        });
        return;
    }
    let d = shortest(v);
    if d.negative {
        out.push('-');
    }
    let (first, rest) = d.digits.split_at(1);
    out.push_str(first);
    if !rest.is_empty() {
        out.push('.');
        out.push_str(rest);
    }
    let exp = d.point - 1;
    let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
}

/// The decimal exponent of the shortest form (`x` in `d.ddd × 10^x`); 0 for zero.
pub fn decimal_exponent(v: f64) -> i32 {
    if v == 0.0 || !v.is_finite() {
        0
    } else {
        shortest(v).point - 1
    }
}

fn special(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("NaN")
    } else if v == f64::INFINITY {
        Some("+Inf")
    } else if v == f64::NEG_INFINITY {
        Some("-Inf")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: f64) -> String {
        let mut s = String::new();
        write_f(v, &mut s);
        s
    }

    fn e(v: f64) -> String {
        let mut s = String::new();
        write_e(v, &mut s);
        s
    }

    // The literals are exact binary values, written out in full to show the tie.
    #[allow(clippy::excessive_precision)]
    #[test]
    fn ties_round_half_to_even_like_go() {
        // Exactly halfway between two 17-digit candidates: Go keeps the even one.
        assert_eq!(f(3167.32916259765625), "3167.3291625976562");
        assert_eq!(f(0.145999908447265625), "0.14599990844726562");
        assert_eq!(f(1431413225235969.25), "1431413225235969.2");
        assert_eq!(f(279691662187621.625), "279691662187621.62");
        assert_eq!(f(-187.20291137695312), "-187.20291137695312");
    }

    #[test]
    fn plain_values() {
        assert_eq!(f(0.1), "0.1");
        assert_eq!(f(1e21), "1000000000000000000000");
        assert_eq!(f(1.5e-7), "0.00000015");
        assert_eq!(f(123.0), "123");
        assert_eq!(f(-0.0), "-0");
        assert_eq!(f(f64::NAN), "NaN");
        assert_eq!(f(f64::NEG_INFINITY), "-Inf");
        assert_eq!(f(5e-324), format!("0.{}5", "0".repeat(323)));
        assert_eq!(f(f64::MAX).len(), 309);
    }

    #[allow(clippy::excessive_precision)]
    #[test]
    fn exponent_form() {
        assert_eq!(e(1.5e-7), "1.5e-07");
        assert_eq!(e(1e21), "1e+21");
        assert_eq!(e(-123.0), "-1.23e+02");
        assert_eq!(e(0.0), "0e+00");
        assert_eq!(e(3167.32916259765625), "3.1673291625976562e+03");
    }

    #[test]
    fn every_output_round_trips() {
        let mut x: u64 = 0x1234_5678_9abc_def0;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = f64::from_bits(x);
            if !v.is_finite() {
                continue;
            }
            assert_eq!(f(v).parse::<f64>().unwrap(), v, "{v:e}");
            assert_eq!(e(v).parse::<f64>().unwrap(), v, "{v:e}");
        }
    }
}
