//! Normalises two API answers and compares them: status, HTTP code, error type (and message
//! where asked), result type, series label sets, order where Prometheus defines one,
//! timestamps, and values within 1e-9 relative (NaN equals NaN, infinities by sign).

use std::collections::BTreeMap;

use serde_json::Value;

type Labels = BTreeMap<String, String>;

/// One `[ts, "value"]` pair: ms and the value's text as sent.
#[derive(Debug, Clone)]
pub struct Point {
    t_ms: i64,
    v: String,
}

#[derive(Debug)]
pub enum Data {
    Scalar(Point),
    Str(Point),
    Vector(Vec<(Labels, Point)>),
    Matrix(Vec<(Labels, Vec<Point>)>),
}

/// An answer reduced to what is compared.
#[derive(Debug)]
pub enum Answer {
    Ok(Data),
    Err {
        http: u16,
        kind: String,
        msg: String,
    },
}

impl Answer {
    pub fn is_err(&self) -> bool {
        matches!(self, Answer::Err { .. })
    }

    /// Whether the result holds at least one sample (to check the data set is exercised).
    pub fn has_samples(&self) -> bool {
        match self {
            Answer::Ok(Data::Vector(v)) => !v.is_empty(),
            Answer::Ok(Data::Matrix(m)) => !m.is_empty(),
            Answer::Ok(_) => true,
            Answer::Err { .. } => false,
        }
    }
}

fn point(v: &Value) -> Result<Point, String> {
    let a = v.as_array().ok_or("point is not an array")?;
    let (Some(t), Some(val)) = (a.first().and_then(Value::as_f64), a.get(1)) else {
        return Err(format!("bad point {v}"));
    };
    let v = val.as_str().ok_or("value is not a string")?;
    Ok(Point {
        t_ms: (t * 1000.0).round() as i64,
        v: v.to_owned(),
    })
}

fn labels(v: &Value) -> Result<Labels, String> {
    let o = v.as_object().ok_or("metric is not an object")?;
    o.iter()
        .map(|(k, v)| {
            v.as_str()
                .map(|s| (k.clone(), s.to_owned()))
                .ok_or_else(|| "label value is not a string".to_owned())
        })
        .collect()
}

/// Parses a response body; anything unparseable is an error the caller reports.
pub fn parse(http: u16, body: &str) -> Result<Answer, String> {
    let j: Value = serde_json::from_str(body).map_err(|e| format!("not JSON ({e}): {body}"))?;
    if j["status"] != "success" {
        return Ok(Answer::Err {
            http,
            kind: j["errorType"].as_str().unwrap_or("").to_owned(),
            msg: j["error"].as_str().unwrap_or("").to_owned(),
        });
    }
    let d = &j["data"];
    let r = &d["result"];
    let data = match d["resultType"].as_str() {
        Some("scalar") => Data::Scalar(point(r)?),
        Some("string") => Data::Str(point(r)?),
        Some("vector") => Data::Vector(
            r.as_array()
                .ok_or("vector result is not an array")?
                .iter()
                .map(|s| Ok((labels(&s["metric"])?, point(&s["value"])?)))
                .collect::<Result<_, String>>()?,
        ),
        Some("matrix") => Data::Matrix(
            r.as_array()
                .ok_or("matrix result is not an array")?
                .iter()
                .map(|s| {
                    let pts = s["values"]
                        .as_array()
                        .ok_or("values is not an array")?
                        .iter()
                        .map(point)
                        .collect::<Result<_, String>>()?;
                    Ok((labels(&s["metric"])?, pts))
                })
                .collect::<Result<_, String>>()?,
        ),
        other => return Err(format!("unknown resultType {other:?}")),
    };
    Ok(Answer::Ok(data))
}

fn num(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

/// Values equal within 1e-9 relative; NaN equals NaN, infinities equal by sign.
pub fn close(a: &str, b: &str) -> bool {
    match (num(a), num(b)) {
        (Some(x), Some(y)) if x.is_nan() || y.is_nan() => x.is_nan() && y.is_nan(),
        (Some(x), Some(y)) if x.is_infinite() || y.is_infinite() => x == y,
        (Some(x), Some(y)) => x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs()),
        _ => a == b,
    }
}

fn fmt_labels(l: &Labels) -> String {
    let inner: Vec<String> = l.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", inner.join(", "))
}

fn cmp_point(what: &str, a: &Point, p: &Point) -> Result<(), String> {
    if a.t_ms != p.t_ms {
        return Err(format!("{what}: timestamp {} vs {}", a.t_ms, p.t_ms));
    }
    if !close(&a.v, &p.v) {
        return Err(format!("{what}: value {} vs {}", a.v, p.v));
    }
    // Equal numbers must also be written alike: Prometheus writes Go's shortest 'f' form,
    // `+Inf`, `-Inf` and `NaN`.
    let same_bits = num(&a.v)
        .zip(num(&p.v))
        .is_some_and(|(x, y)| x.to_bits() == y.to_bits());
    if same_bits && a.v != p.v {
        return Err(format!("{what}: value written {:?} vs {:?}", a.v, p.v));
    }
    Ok(())
}

/// How the order of an instant vector is compared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Order {
    /// Prometheus defines no order: compare as sets.
    Any,
    /// `sort`, `sort_desc`, ungrouped `topk`/`bottomk`: the sequence of values must match
    /// (series with equal values may come in any order, Prometheus does not order ties).
    ByValue,
}

fn cmp_vector(a: &[(Labels, Point)], p: &[(Labels, Point)], order: Order) -> Result<(), String> {
    if a.len() != p.len() {
        return Err(format!("{} series vs {}", a.len(), p.len()));
    }
    if order == Order::ByValue {
        for (i, (x, y)) in a.iter().zip(p).enumerate() {
            if !close(&x.1.v, &y.1.v) {
                return Err(format!(
                    "order: element {i} is {} {} vs {} {}",
                    fmt_labels(&x.0),
                    x.1.v,
                    fmt_labels(&y.0),
                    y.1.v
                ));
            }
        }
    }
    let sa: BTreeMap<&Labels, &Point> = a.iter().map(|(l, p)| (l, p)).collect();
    let sp: BTreeMap<&Labels, &Point> = p.iter().map(|(l, p)| (l, p)).collect();
    if sa.len() != a.len() {
        return Err("argus answered duplicate label sets".into());
    }
    for (l, pp) in &sp {
        match sa.get(l) {
            None => return Err(format!("missing series {}", fmt_labels(l))),
            Some(ap) => cmp_point(&fmt_labels(l), ap, pp)?,
        }
    }
    if let Some(l) = sa.keys().find(|l| !sp.contains_key(*l)) {
        return Err(format!("extra series {}", fmt_labels(l)));
    }
    Ok(())
}

fn cmp_matrix(
    a: &[(Labels, Vec<Point>)],
    p: &[(Labels, Vec<Point>)],
    sorted: bool,
) -> Result<(), String> {
    if a.len() != p.len() {
        return Err(format!("{} series vs {}", a.len(), p.len()));
    }
    let mut a: Vec<&(Labels, Vec<Point>)> = a.iter().collect();
    let mut p: Vec<&(Labels, Vec<Point>)> = p.iter().collect();
    if !sorted {
        a.sort_by(|x, y| x.0.cmp(&y.0));
        p.sort_by(|x, y| x.0.cmp(&y.0));
    }
    for (x, y) in a.iter().zip(&p) {
        if x.0 != y.0 {
            return Err(format!(
                "series {} vs {}",
                fmt_labels(&x.0),
                fmt_labels(&y.0)
            ));
        }
        if x.1.len() != y.1.len() {
            return Err(format!(
                "{}: {} points vs {}",
                fmt_labels(&x.0),
                x.1.len(),
                y.1.len()
            ));
        }
        for (xp, yp) in x.1.iter().zip(&y.1) {
            cmp_point(&fmt_labels(&x.0), xp, yp)?;
        }
    }
    Ok(())
}

/// Compares Argus' answer `a` with Prometheus' `p`; `Err` says the first difference.
pub fn compare(
    a: &Answer,
    p: &Answer,
    order: Order,
    range: bool,
    same_message: bool,
) -> Result<(), String> {
    match (a, p) {
        (
            Answer::Err {
                http: ah,
                kind: ak,
                msg: am,
            },
            Answer::Err {
                http: ph,
                kind: pk,
                msg: pm,
            },
        ) => {
            if ak != pk || ah != ph {
                return Err(format!("error {ah} {ak} vs {ph} {pk}"));
            }
            if same_message && am != pm {
                return Err(format!("error message {am:?} vs {pm:?}"));
            }
            Ok(())
        }
        (Answer::Err { kind, msg, .. }, Answer::Ok(_)) => Err(format!(
            "argus failed ({kind}: {msg}), prometheus succeeded"
        )),
        (Answer::Ok(_), Answer::Err { kind, msg, .. }) => Err(format!(
            "argus succeeded, prometheus failed ({kind}: {msg})"
        )),
        (Answer::Ok(x), Answer::Ok(y)) => match (x, y) {
            (Data::Scalar(a), Data::Scalar(p)) | (Data::Str(a), Data::Str(p)) => {
                cmp_point("value", a, p)
            }
            (Data::Vector(a), Data::Vector(p)) => cmp_vector(a, p, order),
            // Range results are sorted by labels in both; an instant query's matrix has no
            // defined order.
            (Data::Matrix(a), Data::Matrix(p)) => cmp_matrix(a, p, range),
            _ => Err(format!("result type {} vs {}", type_name(x), type_name(y))),
        },
    }
}

fn type_name(d: &Data) -> &'static str {
    match d {
        Data::Scalar(_) => "scalar",
        Data::Str(_) => "string",
        Data::Vector(_) => "vector",
        Data::Matrix(_) => "matrix",
    }
}
