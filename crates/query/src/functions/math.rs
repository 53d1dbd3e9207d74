//! Element-wise instant-vector functions: math, trigonometry, rounding, clamping, and the
//! scalar helpers (`scalar`, `vector`, `time`, `pi`, `min_of`, `max_of`).

use std::f64::consts::PI;

use argus_model::Labels;

use crate::engine::value::{drop_metadata, Elem, Vector};
use crate::parser::{go_max, go_min};

/// The element-wise float function of `name`, if it is one.
pub(crate) fn simple(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "sqrt" => f64::sqrt,
        "ln" => f64::ln,
        "log2" => f64::log2,
        "log10" => f64::log10,
        "sin" => f64::sin,
        "cos" => f64::cos,
        "tan" => f64::tan,
        "asin" => f64::asin,
        "acos" => f64::acos,
        "atan" => f64::atan,
        "sinh" => f64::sinh,
        "cosh" => f64::cosh,
        "tanh" => f64::tanh,
        "asinh" => f64::asinh,
        "acosh" => f64::acosh,
        "atanh" => f64::atanh,
        "rad" => |v| v * PI / 180.0,
        "deg" => |v| v * 180.0 / PI,
        "sgn" => |v| {
            if v < 0.0 {
                -1.0
            } else if v > 0.0 {
                1.0
            } else {
                v
            }
        },
        _ => return None,
    })
}

/// Applies `f` to every element; the result loses its metric name.
pub(crate) fn map_floats(v: &Vector, delayed: bool, f: impl Fn(f64) -> f64) -> Vector {
    v.iter()
        .map(|e| Elem {
            metric: if delayed {
                e.metric.clone()
            } else {
                drop_metadata(&e.metric)
            },
            t: e.t,
            f: f(e.f),
            drop_name: true,
        })
        .collect()
}

/// `round(v, to_nearest)`: ties round up, as Prometheus does.
pub(crate) fn round(v: &Vector, to_nearest: f64, delayed: bool) -> Vector {
    // Rounding with the inverse causes fewer floating point accuracy issues.
    let inv = 1.0 / to_nearest;
    map_floats(v, delayed, |x| (x * inv + 0.5).floor() / inv)
}

/// `clamp(v, min, max)`; empty when `max < min`.
pub(crate) fn clamp(v: &Vector, min: f64, max: f64, delayed: bool) -> Vector {
    if max < min {
        return Vector::new();
    }
    map_floats(v, delayed, |x| go_max(min, go_min(max, x)))
}

/// A single element with no labels.
pub(crate) fn scalar_elem(f: f64) -> Vector {
    vec![Elem {
        metric: Labels::empty(),
        t: 0,
        f,
        drop_name: false,
    }]
}

/// `scalar(v)`: the only element's value, else NaN.
pub(crate) fn scalar(v: &Vector) -> Vector {
    match v.as_slice() {
        [e] => scalar_elem(e.f),
        _ => scalar_elem(f64::NAN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vec_of(vals: &[f64]) -> Vector {
        vals.iter()
            .map(|&f| Elem {
                metric: Labels::from_pairs(&[("__name__", "m")]),
                t: 0,
                f,
                drop_name: false,
            })
            .collect()
    }

    #[test]
    fn round_and_clamp() {
        let r = round(&vec_of(&[1.5, -1.5, 2.45]), 1.0, false);
        assert_eq!(
            r.iter().map(|e| e.f).collect::<Vec<_>>(),
            vec![2.0, -1.0, 2.0]
        );
        assert!(r[0].metric.is_empty(), "name dropped");
        let r = round(&vec_of(&[2.45]), 0.1, true);
        assert!((r[0].f - 2.5).abs() < 1e-12);
        assert!(
            r[0].drop_name && !r[0].metric.is_empty(),
            "delayed: flagged, kept"
        );
        let c = clamp(&vec_of(&[-5.0, 5.0, f64::NAN]), 0.0, 1.0, false);
        assert_eq!(c[0].f, 0.0);
        assert_eq!(c[1].f, 1.0);
        assert!(c[2].f.is_nan());
        assert!(clamp(&vec_of(&[1.0]), 2.0, 1.0, false).is_empty());
    }

    #[test]
    fn sgn_and_scalar() {
        let f = simple("sgn").unwrap();
        assert_eq!(f(-3.0), -1.0);
        assert_eq!(f(0.0), 0.0);
        assert!(scalar(&vec_of(&[1.0, 2.0]))[0].f.is_nan());
        assert_eq!(scalar(&vec_of(&[7.0]))[0].f, 7.0);
    }
}
