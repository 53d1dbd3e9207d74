//! Alertmanager's template functions (`template/template.go` `DefaultFuncs`) and builders
//! for its data types with their methods (`KV.SortedPairs`, `Alerts.Firing`, ...).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::strfuncs::{arity, cases_title, humanize_duration, re_match, re_replace_all, str_arg};
use crate::time::GoTime;
use crate::value::{func, Func, Object, Value};

fn time_arg(a: &[Value], i: usize) -> Result<&GoTime, String> {
    match a.get(i).map(Value::base) {
        Some(Value::Time(t)) => Ok(t),
        Some(Value::Nil) | None => Err("invalid value; expected time.Time".into()),
        Some(other) => Err(format!(
            "wrong type for value; expected time.Time; got {}",
            other.type_name()
        )),
    }
}

fn json(v: &Value) -> serde_json::Value {
    match v.base() {
        Value::Nil | Value::Func(_) => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) | Value::Duration(i) => serde_json::Value::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        Value::String(s) | Value::Html(s) => serde_json::Value::String(s.clone()),
        Value::Time(t) => {
            serde_json::Value::String(t.utc().format("2006-01-02T15:04:05.999999999Z07:00"))
        }
        Value::List(l) => serde_json::Value::Array(l.iter().map(json).collect()),
        Value::Map(m) | Value::Struct(m) => {
            serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), json(v))).collect())
        }
        Value::Object(o) => json(&o.value),
    }
}

/// Alertmanager's default function map.
pub fn functions() -> HashMap<String, Func> {
    let mut m: HashMap<String, Func> = HashMap::new();
    let mut add = |name: &str, f: Func| {
        m.insert(name.to_string(), f);
    };
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
        "title",
        func(|a| {
            arity("title", a, 1)?;
            Ok(Value::String(cases_title(str_arg(a, 0)?)))
        }),
    );
    add(
        "trimSpace",
        func(|a| {
            arity("trimSpace", a, 1)?;
            Ok(Value::String(str_arg(a, 0)?.trim().to_string()))
        }),
    );
    add(
        "join",
        func(|a| {
            arity("join", a, 2)?;
            let sep = str_arg(a, 0)?;
            let items = match a.get(1).map(Value::base) {
                Some(Value::List(l)) => l,
                Some(Value::Nil) => return Ok(Value::from("")),
                Some(other) => {
                    return Err(format!(
                        "wrong type for value; expected []string; got {}",
                        other.type_name()
                    ))
                }
                None => return Err("invalid value; expected []string".into()),
            };
            let parts: Result<Vec<&str>, String> = items
                .iter()
                .map(|v| {
                    v.as_str().ok_or_else(|| {
                        format!(
                            "wrong type for value; expected string; got {}",
                            v.type_name()
                        )
                    })
                })
                .collect();
            Ok(Value::String(parts?.join(sep)))
        }),
    );
    add("match", func(re_match));
    add(
        "safeHtml",
        func(|a| {
            arity("safeHtml", a, 1)?;
            Ok(Value::Html(str_arg(a, 0)?.to_string()))
        }),
    );
    add("reReplaceAll", func(re_replace_all));
    add(
        "stringSlice",
        func(|a| {
            for (i, _) in a.iter().enumerate() {
                str_arg(a, i)?;
            }
            Ok(Value::List(a.to_vec()))
        }),
    );
    add("list", func(|a| Ok(Value::List(a.to_vec()))));
    add(
        "date",
        func(|a| {
            arity("date", a, 2)?;
            Ok(Value::String(time_arg(a, 1)?.format(str_arg(a, 0)?)))
        }),
    );
    add(
        "tz",
        func(|a| {
            arity("tz", a, 2)?;
            Ok(Value::Time(time_arg(a, 1)?.in_zone(str_arg(a, 0)?)?))
        }),
    );
    add(
        "since",
        func(|a| {
            arity("since", a, 1)?;
            let t = time_arg(a, 0)?;
            let d = GoTime::now().unix_nanos() - t.unix_nanos();
            Ok(Value::Duration(i64::try_from(d).unwrap_or(i64::MAX)))
        }),
    );
    add("humanizeDuration", func(humanize_duration));
    add(
        "toJson",
        func(|a| {
            arity("toJson", a, 1)?;
            serde_json::to_string(&json(a.first().unwrap_or(&Value::Nil)))
                .map(Value::String)
                .map_err(|e| e.to_string())
        }),
    );
    m
}

fn pair(name: &str, value: &Value) -> Value {
    Value::map([("Name", Value::from(name)), ("Value", value.clone())])
}

fn names_of(v: &Value) -> Vec<Value> {
    match v.base() {
        Value::Map(m) => m.keys().map(|k| Value::from(k.as_str())).collect(),
        Value::List(l) => l
            .iter()
            .map(|p| p.get("Name").cloned().unwrap_or_default())
            .collect(),
        _ => Vec::new(),
    }
}

fn values_of(v: &Value) -> Vec<Value> {
    match v.base() {
        Value::Map(m) => m.values().cloned().collect(),
        Value::List(l) => l
            .iter()
            .map(|p| p.get("Value").cloned().unwrap_or_default())
            .collect(),
        _ => Vec::new(),
    }
}

fn pairs_methods() -> Arc<BTreeMap<String, Func>> {
    let mut m: BTreeMap<String, Func> = BTreeMap::new();
    m.insert(
        "Names".into(),
        func(|a| Ok(Value::List(names_of(a.first().unwrap_or(&Value::Nil))))),
    );
    m.insert(
        "Values".into(),
        func(|a| Ok(Value::List(values_of(a.first().unwrap_or(&Value::Nil))))),
    );
    Arc::new(m)
}

fn kv_methods() -> Arc<BTreeMap<String, Func>> {
    let mut m: BTreeMap<String, Func> = BTreeMap::new();
    m.insert(
        "SortedPairs".into(),
        func(|a| {
            let Some(Value::Map(kv)) = a.first().map(Value::base) else {
                return Ok(Value::List(Vec::new()));
            };
            let list = kv.iter().map(|(k, v)| pair(k, v)).collect();
            Ok(Value::Object(Object {
                value: Box::new(Value::List(list)),
                methods: pairs_methods(),
            }))
        }),
    );
    m.insert(
        "Names".into(),
        func(|a| Ok(Value::List(names_of(a.first().unwrap_or(&Value::Nil))))),
    );
    m.insert(
        "Values".into(),
        func(|a| Ok(Value::List(values_of(a.first().unwrap_or(&Value::Nil))))),
    );
    m.insert(
        "Remove".into(),
        func(|a| {
            let Some(Value::Map(kv)) = a.first().map(Value::base) else {
                return Err("Remove on a non-KV value".into());
            };
            let drop: Vec<String> = match a.get(1).map(Value::base) {
                Some(Value::List(l)) => l
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                Some(Value::Nil) | None => Vec::new(),
                Some(other) => {
                    return Err(format!(
                        "wrong type for value; expected []string; got {}",
                        other.type_name()
                    ))
                }
            };
            let kept: BTreeMap<String, Value> = kv
                .iter()
                .filter(|(k, _)| !drop.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Ok(kv_value(kept))
        }),
    );
    Arc::new(m)
}

fn kv_value(m: BTreeMap<String, Value>) -> Value {
    Value::Object(Object {
        value: Box::new(Value::Map(m)),
        methods: kv_methods(),
    })
}

/// A label or annotation set as Alertmanager's `KV` (methods `SortedPairs`, `Names`,
/// `Values`, `Remove`; pairs have `.Name`/`.Value`).
pub fn kv(pairs: &BTreeMap<String, String>) -> Value {
    kv_value(
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect(),
    )
}

fn filter_status(a: &[Value], status: &str) -> Value {
    let list = match a.first().map(Value::base) {
        Some(Value::List(l)) => l
            .iter()
            .filter(|x| x.get("Status").and_then(Value::as_str) == Some(status))
            .cloned()
            .collect(),
        _ => Vec::new(),
    };
    alerts(list)
}

/// A list of alerts as Alertmanager's `Alerts` (methods `Firing` and `Resolved`, which
/// select by each alert's `.Status`).
pub fn alerts(list: Vec<Value>) -> Value {
    let mut m: BTreeMap<String, Func> = BTreeMap::new();
    m.insert("Firing".into(), func(|a| Ok(filter_status(a, "firing"))));
    m.insert(
        "Resolved".into(),
        func(|a| Ok(filter_status(a, "resolved"))),
    );
    Value::Object(Object {
        value: Box::new(Value::List(list)),
        methods: Arc::new(m),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MissingKey, Template};

    fn run(text: &str, data: Value) -> Result<String, String> {
        let mut t = Template::new("t")
            .funcs(functions())
            .missing_key(MissingKey::Zero);
        t.parse(text).map_err(|e| e.to_string())?;
        t.execute("t", &data).map_err(|e| e.to_string())
    }

    #[test]
    fn string_functions() {
        let d = Value::Nil;
        assert_eq!(
            run(
                "{{ toUpper \"ab\" }} {{ toLower \"AB\" }} {{ title \"hELLO wORLD\" }}",
                d.clone()
            )
            .unwrap(),
            "AB ab Hello World"
        );
        assert_eq!(run("[{{ trimSpace \"  x \" }}]", d.clone()).unwrap(), "[x]");
        assert_eq!(
            run("{{ stringSlice \"a\" \"b\" | join \", \" }}", d.clone()).unwrap(),
            "a, b"
        );
        assert_eq!(
            run(
                "{{ reReplaceAll \"-\" \"_\" \"a-b\" }} {{ match \"^a\" \"abc\" }}",
                d.clone()
            )
            .unwrap(),
            "a_b true"
        );
        assert_eq!(
            run("{{ toJson (list 1 \"a\" true) }}", d.clone()).unwrap(),
            "[1,\"a\",true]"
        );
        assert!(run("{{ join \",\" 5 }}", d)
            .unwrap_err()
            .contains("expected []string"));
    }

    #[test]
    fn time_functions() {
        let t = GoTime::from_unix_ms(1_700_000_000_000);
        let d = Value::map([("StartsAt", Value::Time(t))]);
        assert_eq!(
            run(
                "{{ .StartsAt | date \"2006-01-02 15:04:05 MST\" }}",
                d.clone()
            )
            .unwrap(),
            "2023-11-14 22:13:20 UTC"
        );
        assert_eq!(
            run(
                "{{ .StartsAt.Format \"15:04\" }} {{ .StartsAt.Unix }}",
                d.clone()
            )
            .unwrap(),
            "22:13 1700000000"
        );
        if std::path::Path::new("/usr/share/zoneinfo/Europe/Berlin").exists() {
            assert_eq!(
                run(
                    "{{ .StartsAt | tz \"Europe/Berlin\" | date \"15:04 MST\" }}",
                    d.clone()
                )
                .unwrap(),
                "23:13 CET"
            );
        }
        assert!(run("{{ .StartsAt | tz \"No/Where\" }}", d.clone())
            .unwrap_err()
            .contains("unknown time zone No/Where"));
        let since = run("{{ since .StartsAt }}", d.clone()).unwrap();
        assert!(since.ends_with('s') && since.contains('h'), "{since}");
        assert_eq!(
            run("{{ humanizeDuration 3661 }}", d.clone()).unwrap(),
            "1h 1m 1s"
        );
        assert!(run("{{ date \"x\" \"notatime\" }}", d)
            .unwrap_err()
            .contains("expected time.Time"));
    }

    #[test]
    fn kv_and_alerts_methods() {
        let labels: BTreeMap<String, String> =
            [("alertname", "A"), ("job", "j"), ("instance", "i")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        let group: BTreeMap<String, String> = [("job".to_string(), "j".to_string())].into();
        let a1 = Value::map([("Status", Value::from("firing")), ("Labels", kv(&labels))]);
        let a2 = Value::map([("Status", Value::from("resolved")), ("Labels", kv(&labels))]);
        let data = Value::map([
            ("Alerts", alerts(vec![a1, a2])),
            ("CommonLabels", kv(&labels)),
            ("GroupLabels", kv(&group)),
        ]);
        let text = "{{ len .Alerts }} {{ len .Alerts.Firing }} {{ .Alerts.Resolved | len }}|\
{{ range .CommonLabels.SortedPairs }}{{ .Name }}={{ .Value }};{{ end }}|\
{{ .CommonLabels.Names }} {{ .CommonLabels.Values }}|\
{{ (.CommonLabels.Remove .GroupLabels.Names).Names }}|\
{{ .CommonLabels.SortedPairs.Names }}|{{ range .Alerts.Firing }}{{ .Labels.alertname }}{{ end }}|{{ .CommonLabels.job }}";
        assert_eq!(
            run(text, data).unwrap(),
            "2 1 1|alertname=A;instance=i;job=j;|[alertname instance job] [A i j]|[alertname instance]|[alertname instance job]|A|j"
        );
    }
}
