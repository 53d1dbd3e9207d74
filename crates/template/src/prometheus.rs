//! Prometheus' template functions (`template/template.go`) and its alert-field expansion.
//!
//! Query results are lists of samples, each a map `{"Labels": {name: value}, "Value": f64}`
//! like Prometheus' `sample` struct; [`sample`] builds one. `query` itself is supplied by
//! the caller (it needs the engine), as a [`Func`] taking the query string.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::escape::url_query_escape;
use crate::gofmt::sprintf;
use crate::strfuncs::{
    arity, go_title, humanize_duration, re_match, re_replace_all, str_arg, to_float,
};
use crate::time::GoTime;
use crate::value::{func, Func, Value};
use crate::{MissingKey, Template};

/// One query-result sample as templates see it.
pub fn sample(labels: impl IntoIterator<Item = (String, String)>, value: f64) -> Value {
    let labels: BTreeMap<String, Value> = labels
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    Value::map([
        ("Labels", Value::Map(labels)),
        ("Value", Value::Float(value)),
    ])
}

/// The data of an alert-field template (Prometheus' `AlertTemplateData`).
pub fn alert_template_data(
    labels: &BTreeMap<String, String>,
    external_labels: &BTreeMap<String, String>,
    external_url: &str,
    value: f64,
) -> Value {
    let fields: BTreeMap<String, Value> = [
        ("Labels", Value::from(labels.clone())),
        ("ExternalLabels", Value::from(external_labels.clone())),
        ("ExternalURL", Value::from(external_url)),
        ("Value", Value::Float(value)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Value::Struct(fields)
}

/// The variable definitions Prometheus prepends to every alert label/annotation template.
pub const ALERT_TEMPLATE_DEFS: &str = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";

/// `%.4g` plus suffix.
fn g4(v: f64, suffix: &str) -> Value {
    Value::String(sprintf("%.4g", &[Value::Float(v)]) + suffix)
}

fn one_float(name: &str, a: &[Value]) -> Result<f64, String> {
    arity(name, a, 1)?;
    to_float(a.first().unwrap_or(&Value::Nil))
}

fn humanize(a: &[Value]) -> Result<Value, String> {
    let mut v = one_float("humanize", a)?;
    if v == 0.0 || v.is_nan() || v.is_infinite() {
        return Ok(g4(v, ""));
    }
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    Ok(g4(v, prefix))
}

fn humanize1024(a: &[Value]) -> Result<Value, String> {
    let mut v = one_float("humanize1024", a)?;
    if v.abs() <= 1.0 || v.is_nan() || v.is_infinite() {
        return Ok(g4(v, ""));
    }
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    Ok(g4(v, prefix))
}

/// Prometheus' `floatToTime`: seconds → time truncated to milliseconds (`model.Time`).
fn float_to_time(v: f64) -> Result<Option<GoTime>, String> {
    if v.is_nan() || v.is_infinite() {
        return Ok(None);
    }
    let ns = v * 1e9;
    if ns > i64::MAX as f64 || ns < i64::MIN as f64 {
        return Err(format!(
            "{} cannot be represented as a nanoseconds timestamp since it overflows int64",
            crate::gofmt::sprint(&[Value::Float(v)])
        ));
    }
    let ms = (ns as i64) / 1_000_000;
    Ok(Some(GoTime::from_unix_ms(ms)))
}

fn humanize_timestamp(a: &[Value]) -> Result<Value, String> {
    let v = one_float("humanizeTimestamp", a)?;
    match float_to_time(v)? {
        None => Ok(g4(v, "")),
        Some(t) => Ok(Value::String(t.to_string())),
    }
}

fn to_time(a: &[Value]) -> Result<Value, String> {
    let v = one_float("toTime", a)?;
    match float_to_time(v)? {
        None => Err(format!(
            "{} cannot be converted to a time",
            crate::gofmt::sprint(&[Value::Float(v)])
        )),
        Some(t) => Ok(Value::Time(t)),
    }
}

/// Prometheus duration syntax (`1h30m`, `5m`, `1d`, `100ms`) → milliseconds.
pub fn parse_prom_duration(s: &str) -> Option<i64> {
    if s == "0" {
        return Some(0);
    }
    let units: [(&str, i64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ];
    if s.is_empty() {
        return None;
    }
    let mut rest = s;
    let mut total: i64 = 0;
    let mut last_rank: Option<usize> = None;
    while !rest.is_empty() {
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let num: i64 = rest.get(..n)?.parse().ok()?;
        rest = rest.get(n..)?;
        let (rank, (unit, mult)) = units.iter().enumerate().find(|(_, (u, _))| {
            if *u == "m" {
                rest.starts_with('m') && !rest.starts_with("ms")
            } else {
                rest.starts_with(u)
            }
        })?;
        // Units must appear in decreasing order, each at most once.
        if last_rank.is_some_and(|l| rank <= l) {
            return None;
        }
        last_rank = Some(rank);
        rest = rest.get(unit.len()..)?;
        total = total.checked_add(num.checked_mul(*mult)?)?;
    }
    Some(total)
}

fn parse_duration(a: &[Value]) -> Result<Value, String> {
    arity("parseDuration", a, 1)?;
    let s = str_arg(a, 0)?;
    let ms = parse_prom_duration(s).ok_or_else(|| format!("not a valid duration string: {s:?}"))?;
    Ok(Value::Float(ms as f64 / 1000.0))
}

fn to_duration(a: &[Value]) -> Result<Value, String> {
    let v = one_float("toDuration", a)?;
    if v.is_nan() || v.is_infinite() || (v * 1e9).abs() > i64::MAX as f64 {
        return Err(format!(
            "{} cannot be converted to a duration",
            crate::gofmt::sprint(&[Value::Float(v)])
        ));
    }
    Ok(Value::Duration((v * 1e9) as i64))
}

/// Go's `net.SplitHostPort`.
pub(crate) fn split_host_port(s: &str) -> Option<(String, String)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = after.strip_prefix(':')?;
        if port.contains(':') {
            return None;
        }
        return Some((host.to_string(), port.to_string()));
    }
    let (host, port) = s.rsplit_once(':')?;
    if host.contains(':') || host.contains('[') || host.contains(']') {
        return None;
    }
    Some((host.to_string(), port.to_string()))
}

fn is_ip(s: &str) -> bool {
    s.parse::<std::net::IpAddr>().is_ok()
}

fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn strip_port(a: &[Value]) -> Result<Value, String> {
    arity("stripPort", a, 1)?;
    let hp = str_arg(a, 0)?;
    Ok(Value::from(
        split_host_port(hp).map_or_else(|| hp.to_string(), |(h, _)| h),
    ))
}

fn strip_domain(a: &[Value]) -> Result<Value, String> {
    arity("stripDomain", a, 1)?;
    let hp = str_arg(a, 0)?;
    let (host, port) = split_host_port(hp).unwrap_or_else(|| (hp.to_string(), String::new()));
    if is_ip(&host) {
        return Ok(Value::from(hp));
    }
    let short = host.split('.').next().unwrap_or("");
    Ok(Value::from(if port.is_empty() {
        short.to_string()
    } else {
        join_host_port(short, &port)
    }))
}

fn sample_field<'v>(name: &str, v: &'v Value) -> Result<&'v Value, String> {
    match v.base() {
        Value::Map(m) => Ok(m.get(name).unwrap_or(&Value::Nil)),
        Value::Nil => Err("invalid memory address or nil pointer dereference".into()),
        other => Err(format!(
            "wrong type for value; expected *template.sample; got {}",
            other.type_name()
        )),
    }
}

fn label_of(s: &Value, label: &str) -> Result<Value, String> {
    let labels = sample_field("Labels", s)?;
    Ok(labels
        .get(label)
        .cloned()
        .unwrap_or_else(|| Value::from("")))
}

/// The path of a URL (`http://h:9090/prefix?x` → `/prefix`).
fn url_path(u: &str) -> String {
    let after_scheme = u.split_once("://").map_or(u, |(_, r)| r);
    let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
    path.split(['?', '#']).next().unwrap_or("").to_string()
}

/// Prometheus' function map. `query` (if given) runs a PromQL instant query at the
/// expansion's timestamp and returns a list of [`sample`]s; `now_s` is that timestamp.
pub fn functions(external_url: &str, query: Option<Func>, now_s: f64) -> HashMap<String, Func> {
    let mut m: HashMap<String, Func> = HashMap::new();
    let mut add = |name: &str, f: Func| {
        m.insert(name.to_string(), f);
    };
    let q = query.unwrap_or_else(|| func(|_| Err("query is not available in this context".into())));
    add("query", q);
    add(
        "first",
        func(|a| {
            arity("first", a, 1)?;
            match a.first().map(Value::base) {
                Some(Value::List(l)) => l
                    .first()
                    .cloned()
                    .ok_or_else(|| "first() called on vector with no elements".to_string()),
                Some(Value::Nil) => Err("first() called on vector with no elements".into()),
                Some(other) => Err(format!(
                    "wrong type for value; expected template.queryResult; got {}",
                    other.type_name()
                )),
                None => Err("first() called on vector with no elements".into()),
            }
        }),
    );
    add(
        "label",
        func(|a| {
            arity("label", a, 2)?;
            label_of(a.get(1).unwrap_or(&Value::Nil), str_arg(a, 0)?)
        }),
    );
    add(
        "value",
        func(|a| {
            arity("value", a, 1)?;
            sample_field("Value", a.first().unwrap_or(&Value::Nil)).cloned()
        }),
    );
    add(
        "strvalue",
        func(|a| {
            arity("strvalue", a, 1)?;
            label_of(a.first().unwrap_or(&Value::Nil), "__value__")
        }),
    );
    add(
        "args",
        func(|a| {
            Ok(Value::Map(
                a.iter()
                    .enumerate()
                    .map(|(i, v)| (format!("arg{i}"), v.clone()))
                    .collect(),
            ))
        }),
    );
    add("reReplaceAll", func(re_replace_all));
    add(
        "safeHtml",
        func(|a| {
            arity("safeHtml", a, 1)?;
            Ok(Value::Html(str_arg(a, 0)?.to_string()))
        }),
    );
    add("match", func(re_match));
    add(
        "title",
        func(|a| {
            arity("title", a, 1)?;
            Ok(Value::String(go_title(str_arg(a, 0)?)))
        }),
    );
    add(
        "toUpper",
        func(|a| {
            arity("toUpper", a, 1)?;
            Ok(Value::String(str_arg(a, 0)?.to_uppercase()))
        }),
    );
    add(
        "toLower",
        func(|a| {
            arity("toLower", a, 1)?;
            Ok(Value::String(str_arg(a, 0)?.to_lowercase()))
        }),
    );
    add(
        "graphLink",
        func(|a| {
            arity("graphLink", a, 1)?;
            Ok(Value::String(format!(
                "/graph?g0.expr={}&g0.tab=0",
                url_query_escape(str_arg(a, 0)?)
            )))
        }),
    );
    add(
        "tableLink",
        func(|a| {
            arity("tableLink", a, 1)?;
            Ok(Value::String(format!(
                "/graph?g0.expr={}&g0.tab=1",
                url_query_escape(str_arg(a, 0)?)
            )))
        }),
    );
    add(
        "sortByLabel",
        func(|a| {
            arity("sortByLabel", a, 2)?;
            let label = str_arg(a, 0)?;
            let Some(Value::List(l)) = a.get(1).map(Value::base) else {
                return Err("wrong type for value; expected template.queryResult".into());
            };
            let mut keyed: Vec<(String, Value)> = Vec::with_capacity(l.len());
            for s in l {
                let k = label_of(s, label)?.as_str().unwrap_or("").to_string();
                keyed.push((k, s.clone()));
            }
            keyed.sort_by(|x, y| x.0.cmp(&y.0)); // stable, as sort.Stable
            Ok(Value::List(keyed.into_iter().map(|(_, v)| v).collect()))
        }),
    );
    add("stripPort", func(strip_port));
    add("stripDomain", func(strip_domain));
    add("humanize", func(humanize));
    add("humanize1024", func(humanize1024));
    add("humanizeDuration", func(humanize_duration));
    add(
        "humanizePercentage",
        func(|a| {
            let v = one_float("humanizePercentage", a)?;
            Ok(g4(v * 100.0, "%"))
        }),
    );
    add("humanizeTimestamp", func(humanize_timestamp));
    add("toTime", func(to_time));
    add("toDuration", func(to_duration));
    add(
        "now",
        func(move |a| {
            arity("now", a, 0)?;
            Ok(Value::Float(now_s))
        }),
    );
    let url = Arc::new(external_url.to_string());
    let u2 = url.clone();
    add(
        "pathPrefix",
        func(move |a| {
            arity("pathPrefix", a, 0)?;
            Ok(Value::String(url_path(&u2)))
        }),
    );
    add(
        "externalURL",
        func(move |a| {
            arity("externalURL", a, 0)?;
            Ok(Value::String(url.to_string()))
        }),
    );
    add("parseDuration", func(parse_duration));
    m
}

/// Expands `text` like Prometheus' `Expander.Expand` (text mode, `missingkey=zero`). The
/// error reads `error parsing template NAME: ...` or `error executing template NAME: ...`.
pub fn expand(
    name: &str,
    text: &str,
    data: &Value,
    funcs: &HashMap<String, Func>,
) -> Result<String, String> {
    let mut t = Template::new(name)
        .funcs(funcs.iter().map(|(k, f)| (k.clone(), f.clone())))
        .missing_key(MissingKey::Zero);
    t.parse(text)
        .map_err(|e| format!("error parsing template {name}: {e}"))?;
    t.execute(name, data)
        .map_err(|e| format!("error executing template {name}: {e}"))
}

/// Only parses, as `Expander.ParseTest` (what `promtool check rules` runs on each template).
pub fn parse_test(name: &str, text: &str, funcs: &HashMap<String, Func>) -> Result<(), String> {
    let mut t = Template::new(name).funcs(funcs.iter().map(|(k, f)| (k.clone(), f.clone())));
    t.parse(text).map_err(|e| e.to_string())
}

#[cfg(test)]
#[path = "prometheus_tests.rs"]
mod tests;
