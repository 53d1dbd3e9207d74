//! Kubernetes `resource.Quantity`: exact decimal values and their canonical strings.
//!
//! Every value the metrics APIs return is a quantity string, and clients compare them as
//! strings in tests and dashboards, so the canonical form must be byte-identical to what
//! `k8s.io/apimachinery/pkg/api/resource` prints:
//!
//! - a value is `unscaled × 10^scale`, never a float;
//! - DecimalSI: strip trailing decimal zeros into the exponent, lower the exponent to a
//!   multiple of three, then print the suffix (`n u m "" k M G T P E`): 1.5 → `1500m`;
//! - BinarySI: values in (-1024, 1024), and values that are not whole numbers, print as
//!   DecimalSI; otherwise strip factors of 1024 (`Ki Mi Gi Ti Pi Ei`): 1.5Gi → `1536Mi`;
//! - DecimalExponent: like DecimalSI with `e<exp>` instead of a suffix;
//! - exponents with no SI suffix (below nano, above exa, above Ei) fall back to the
//!   exponent form (`1e21`, `100e-12`), as current apimachinery does.
//!
//! Floats from PromQL become quantities through their exact shortest decimal form
//! (`2.675` stays `2.675`, not `2.67499999…`), then round to the precision the API uses
//! (milli for custom/external metrics, nano for CPU, whole bytes for memory): to the
//! nearest unit, halves away from zero, except that a non-zero value smaller than one unit
//! becomes one unit. The latter is Kubernetes' parsing rule ("if you want some resources,
//! you should get some resources"), so a tiny non-zero rate never collapses to `0`; the
//! former keeps float noise from computed rates (`0.0020000000005` cores) from turning
//! into an extra unit, which rounding everything up would do.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How a quantity prints its exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Decimal SI suffixes: `n u m k M G T P E`.
    DecimalSI,
    /// Binary SI suffixes: `Ki Mi Gi Ti Pi Ei`.
    BinarySI,
    /// `e<exponent>`.
    DecimalExponent,
}

/// Why a quantity could not be built or parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// NaN or ±Inf has no quantity form.
    #[error("value {0} is not a finite number and has no Kubernetes quantity form")]
    NotFinite(String),
    /// The string does not follow the quantity grammar.
    #[error("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {0:?}")]
    Format(String),
    /// The number has more digits than this implementation holds (38).
    #[error("quantity {0:?} has too many digits")]
    TooLarge(String),
}

/// An exact decimal quantity with a print format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity {
    unscaled: i128,
    scale: i32,
    format: Format,
}

/// Powers of ten that fit an i128 (10^0 ..= 10^38).
fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

/// Divides `v` by `10^n`, rounding away from zero; exactness in the second value.
fn div_pow10_round_up(v: i128, n: u32) -> (i128, bool) {
    let Some(d) = pow10(n) else {
        // |v| < 10^38 < 10^n: any non-zero value rounds up to one unit.
        return (v.signum(), v == 0);
    };
    let q = v / d;
    let r = v % d;
    if r == 0 {
        (q, true)
    } else {
        (q + v.signum(), false)
    }
}

impl Quantity {
    /// `value` in `format` (Kubernetes `NewQuantity`).
    pub fn new(value: i64, format: Format) -> Self {
        Self {
            unscaled: i128::from(value),
            scale: 0,
            format,
        }
    }

    /// `value / 1000` in `format` (Kubernetes `NewMilliQuantity`).
    pub fn new_milli(value: i64, format: Format) -> Self {
        Self {
            unscaled: i128::from(value),
            scale: -3,
            format,
        }
    }

    /// `value × 10^scale` as DecimalSI (Kubernetes `NewScaledQuantity`).
    pub fn new_scaled(value: i64, scale: i32) -> Self {
        Self {
            unscaled: i128::from(value),
            scale,
            format: Format::DecimalSI,
        }
    }

    /// The exact decimal value of `v` rounded to a multiple of `10^min_scale` (nearest,
    /// halves and sub-unit values away from zero).
    pub fn from_f64(v: f64, min_scale: i32, format: Format) -> Result<Self, QuantityError> {
        if !v.is_finite() {
            return Err(QuantityError::NotFinite(v.to_string()));
        }
        // `{:e}` prints the shortest digits that round-trip: "2.675e0", "-1e-7".
        let s = format!("{v:e}");
        let (mant, exp) = s
            .split_once('e')
            .ok_or_else(|| QuantityError::Format(s.clone()))?;
        let exp: i32 = exp.parse().map_err(|_| QuantityError::Format(s.clone()))?;
        let (neg, mant) = match mant.strip_prefix('-') {
            Some(m) => (true, m),
            None => (false, mant),
        };
        let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
        let digits = format!("{int}{frac}");
        let mut unscaled: i128 = digits
            .parse()
            .map_err(|_| QuantityError::Format(s.clone()))?;
        if neg {
            unscaled = -unscaled;
        }
        let frac_len = i32::try_from(frac.len()).map_err(|_| QuantityError::Format(s.clone()))?;
        let q = Self {
            unscaled,
            scale: exp - frac_len,
            format,
        };
        Ok(q.round_to(min_scale))
    }

    /// CPU in cores as a nanocore-precision DecimalSI quantity (what metrics-server reports).
    pub fn from_cores(v: f64) -> Result<Self, QuantityError> {
        Self::from_f64(v, -9, Format::DecimalSI)
    }

    /// Bytes as a whole-byte BinarySI quantity.
    pub fn from_bytes(v: f64) -> Result<Self, QuantityError> {
        Self::from_f64(v, 0, Format::BinarySI)
    }

    /// A custom or external metric value at milli precision (as prometheus-adapter reports).
    pub fn from_metric_value(v: f64) -> Result<Self, QuantityError> {
        Self::from_f64(v, -3, Format::DecimalSI)
    }

    /// Rounds so that the scale is at least `min_scale`: to nearest, halves away from zero,
    /// and non-zero values below one unit up to one unit.
    fn round_to(self, min_scale: i32) -> Self {
        if self.scale >= min_scale {
            return self;
        }
        let n = u32::try_from(i64::from(min_scale) - i64::from(self.scale)).unwrap_or(u32::MAX);
        let v = match pow10(n) {
            // |unscaled| < 10^38 < 10^n: a non-zero value is below one unit.
            None => self.unscaled.signum(),
            Some(d) => {
                let (q, r) = (self.unscaled / d, self.unscaled % d);
                if q == 0 && r != 0 {
                    self.unscaled.signum()
                } else if r.unsigned_abs() * 2 >= d.unsigned_abs() {
                    q + self.unscaled.signum()
                } else {
                    q
                }
            }
        };
        Self {
            unscaled: v,
            scale: min_scale,
            format: self.format,
        }
    }

    /// The print format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// True for zero.
    pub fn is_zero(&self) -> bool {
        self.unscaled == 0
    }

    /// The value as a float (approximate).
    pub fn as_f64(&self) -> f64 {
        self.unscaled as f64 * 10f64.powi(self.scale)
    }

    /// Parses a quantity string exactly as `resource.ParseQuantity` does, including its
    /// rounding of sub-nano values up to `1n` and its BinarySI cap at 2^63-1.
    pub fn parse(s: &str) -> Result<Self, QuantityError> {
        parse::parse(s)
    }

    /// The value as an integer when it is whole and fits.
    fn as_integer(&self) -> Option<i128> {
        if self.scale >= 0 {
            pow10(self.scale.unsigned_abs()).and_then(|p| self.unscaled.checked_mul(p))
        } else {
            let (v, exact) = div_pow10_round_up(self.unscaled, self.scale.unsigned_abs());
            exact.then_some(v)
        }
    }

    /// Mantissa and exponent in decimal canonical form: no trailing zeros moved out of the
    /// exponent beyond the nearest multiple of three.
    fn decimal_parts(&self) -> (i128, i64) {
        let mut amount = self.unscaled;
        let mut exp = i64::from(self.scale);
        while amount != 0 && amount % 10 == 0 {
            amount /= 10;
            exp += 1;
        }
        // Lower the exponent to a multiple of three (Go's `%` keeps the sign, like Rust's).
        let adjust = match exp % 3 {
            1 | -2 => 1,
            2 | -1 => 2,
            _ => 0,
        };
        if adjust > 0 {
            if let Some(a) = pow10(adjust).and_then(|p| amount.checked_mul(p)) {
                amount = a;
                exp -= i64::from(adjust);
            }
        }
        (amount, exp)
    }

    fn write_decimal(&self, f: &mut fmt::Formatter<'_>, format: Format) -> fmt::Result {
        let (amount, exp) = self.decimal_parts();
        let suffix = match (format, exp) {
            (_, 0) => "",
            (Format::DecimalSI | Format::BinarySI, -9) => "n",
            (Format::DecimalSI | Format::BinarySI, -6) => "u",
            (Format::DecimalSI | Format::BinarySI, -3) => "m",
            (Format::DecimalSI | Format::BinarySI, 3) => "k",
            (Format::DecimalSI | Format::BinarySI, 6) => "M",
            (Format::DecimalSI | Format::BinarySI, 9) => "G",
            (Format::DecimalSI | Format::BinarySI, 12) => "T",
            (Format::DecimalSI | Format::BinarySI, 15) => "P",
            (Format::DecimalSI | Format::BinarySI, 18) => "E",
            _ => return write!(f, "{amount}e{exp}"),
        };
        write!(f, "{amount}{suffix}")
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.unscaled == 0 {
            return f.write_str("0");
        }
        if self.format != Format::BinarySI {
            return self.write_decimal(f, self.format);
        }
        // BinarySI only when the value is a whole number of at least 1024 in magnitude.
        let Some(mut v) = self.as_integer().filter(|v| v.unsigned_abs() >= 1024) else {
            return self.write_decimal(f, Format::DecimalSI);
        };
        let mut e = 0usize;
        while v % 1024 == 0 {
            v /= 1024;
            e += 1;
        }
        match ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"].get(e) {
            Some(suffix) => write!(f, "{v}{suffix}"),
            // Past Ei there is no suffix: print the exact decimal value instead.
            None => self.write_decimal(f, Format::DecimalExponent),
        }
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Quantity::parse(s.trim()).map_err(serde::de::Error::custom)
    }
}

mod parse {
    use super::{div_pow10_round_up, pow10, Format, Quantity, QuantityError};

    /// 2^63 - 1, the cap on parsed BinarySI values.
    const MAX_ALLOWED: i128 = i64::MAX as i128;

    pub(super) fn parse(s: &str) -> Result<Quantity, QuantityError> {
        let err = || QuantityError::Format(s.to_owned());
        if s.is_empty() {
            return Err(err());
        }
        let b = s.as_bytes();
        let mut pos = 0;
        let mut neg = false;
        match b.first() {
            Some(b'-') => {
                neg = true;
                pos = 1;
            }
            Some(b'+') => pos = 1,
            _ => {}
        }
        let int_start = pos;
        while b.get(pos).is_some_and(u8::is_ascii_digit) {
            pos += 1;
        }
        let int = s.get(int_start..pos).ok_or_else(err)?;
        let mut frac = "";
        if b.get(pos) == Some(&b'.') {
            pos += 1;
            let start = pos;
            while b.get(pos).is_some_and(u8::is_ascii_digit) {
                pos += 1;
            }
            frac = s.get(start..pos).ok_or_else(err)?;
        }
        if int.is_empty() && frac.is_empty() && s.get(int_start..pos).is_none_or(|x| x != ".") {
            return Err(err());
        }
        let suffix = s.get(pos..).ok_or_else(err)?;
        let (base2_exp, base10_exp, format) = interpret_suffix(suffix).ok_or_else(err)?;

        let digits = format!("{int}{frac}");
        let digits = digits.trim_start_matches('0');
        if digits.len() > 36 {
            return Err(QuantityError::TooLarge(s.to_owned()));
        }
        let mut unscaled: i128 = if digits.is_empty() {
            0
        } else {
            digits.parse().map_err(|_| err())?
        };
        let frac_len = i64::try_from(frac.len()).map_err(|_| err())?;
        let mut scale = base10_exp - frac_len;
        if base2_exp > 0 {
            unscaled = unscaled
                .checked_mul(1i128 << base2_exp)
                .ok_or_else(|| QuantityError::TooLarge(s.to_owned()))?;
        }
        let mut format = format;
        if unscaled == 0 {
            return Ok(Quantity {
                unscaled: 0,
                scale: 0,
                format,
            });
        }
        // Round non-zero values up (away from zero) to nano.
        if scale < -9 {
            let n = u32::try_from(-9 - scale).unwrap_or(u32::MAX);
            unscaled = div_pow10_round_up(unscaled, n).0;
            scale = -9;
        }
        let scale32 = i32::try_from(scale).map_err(|_| QuantityError::TooLarge(s.to_owned()))?;
        let mut q = Quantity {
            unscaled,
            scale: scale32,
            format,
        };
        if format == Format::BinarySI {
            let over = match q.as_integer() {
                Some(v) => v > MAX_ALLOWED,
                None => scale32 > 0,
            };
            if over {
                q.unscaled = MAX_ALLOWED;
                q.scale = 0;
            }
            // Values in (0, 1) lose nothing only in decimal form.
            let below_one =
                q.scale < 0 && pow10(q.scale.unsigned_abs()).is_some_and(|p| q.unscaled.abs() < p);
            if below_one {
                format = Format::DecimalSI;
                q.format = format;
            }
        }
        if neg {
            q.unscaled = -q.unscaled;
        }
        Ok(q)
    }

    /// (binary exponent, decimal exponent, format) of a suffix.
    fn interpret_suffix(suffix: &str) -> Option<(u32, i64, Format)> {
        let r = match suffix {
            "" => (0, 0, Format::DecimalSI),
            "n" => (0, -9, Format::DecimalSI),
            "u" => (0, -6, Format::DecimalSI),
            "m" => (0, -3, Format::DecimalSI),
            "k" => (0, 3, Format::DecimalSI),
            "M" => (0, 6, Format::DecimalSI),
            "G" => (0, 9, Format::DecimalSI),
            "T" => (0, 12, Format::DecimalSI),
            "P" => (0, 15, Format::DecimalSI),
            "E" => (0, 18, Format::DecimalSI),
            "Ki" => (10, 0, Format::BinarySI),
            "Mi" => (20, 0, Format::BinarySI),
            "Gi" => (30, 0, Format::BinarySI),
            "Ti" => (40, 0, Format::BinarySI),
            "Pi" => (50, 0, Format::BinarySI),
            "Ei" => (60, 0, Format::BinarySI),
            _ => {
                let rest = suffix.strip_prefix(['e', 'E'])?;
                let digits = rest.strip_prefix(['+', '-']).unwrap_or(rest);
                if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
                    return None;
                }
                let exp: i64 = rest.parse().ok()?;
                if exp.unsigned_abs() > i32::MAX as u64 {
                    return None;
                }
                (0, exp, Format::DecimalExponent)
            }
        };
        Some(r)
    }
}

#[cfg(test)]
mod tests;
