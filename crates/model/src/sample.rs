//! Samples and the stale marker.
//!
//! Timestamps are milliseconds since the Unix epoch as `i64`. A stale marker is a NaN with a
//! specific bit pattern that Prometheus writes when a series disappears; it must be compared by
//! bits, never with `is_nan()`, because ordinary NaN values are legitimate data.

use serde::{Deserialize, Serialize};

/// Bit pattern of Prometheus' stale-marker NaN.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The stale-marker value.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// True only for the stale-marker NaN (not for other NaNs).
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// One float sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Milliseconds since the Unix epoch.
    pub t: i64,
    /// The value (may be NaN, ±Inf or the stale marker).
    pub v: f64,
}

impl Sample {
    /// A sample.
    pub fn new(t: i64, v: f64) -> Self {
        Sample { t, v }
    }

    /// Equality that treats values by bit pattern, so NaN == NaN and the stale marker differs
    /// from other NaNs. This is what "the same sample" means for storage.
    pub fn bit_eq(&self, o: &Sample) -> bool {
        self.t == o.t && self.v.to_bits() == o.v.to_bits()
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_marker_is_distinct_from_nan() {
        assert!(is_stale_nan(stale_nan()));
        assert!(stale_nan().is_nan());
        assert!(!is_stale_nan(f64::NAN));
        assert!(Sample::new(1, f64::NAN).bit_eq(&Sample::new(1, f64::NAN)));
        assert!(!Sample::new(1, f64::NAN).bit_eq(&Sample::new(1, stale_nan())));
    }
}
