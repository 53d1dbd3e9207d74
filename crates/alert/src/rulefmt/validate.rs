//! Rule validation (`rulefmt.Rule.Validate` and promtool's template parse test).

use argus_template::prometheus::{functions, parse_test, ALERT_TEMPLATE_DEFS};

use super::{NameValidation, RuleSpec};

fn legacy_label(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether `s` is a valid label name under the scheme.
pub fn is_valid_label_name(s: &str, v: NameValidation) -> bool {
    match v {
        NameValidation::Utf8 => !s.is_empty(),
        NameValidation::Legacy => legacy_label(s),
    }
}

/// Whether `s` is a valid metric name under the scheme.
pub fn is_valid_metric_name(s: &str, v: NameValidation) -> bool {
    match v {
        NameValidation::Utf8 => !s.is_empty(),
        NameValidation::Legacy => {
            let mut chars = s.chars();
            matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        }
    }
}

/// A rule or group label: the name must be valid and not `__name__`.
pub(crate) fn check_label(name: &str, _value: &str, v: NameValidation) -> Option<String> {
    if !is_valid_label_name(name, v) || name == "__name__" {
        return Some(format!("invalid label name: {name}"));
    }
    None
}

/// Checks one rule; returns (field, message) pairs.
pub(crate) fn check_rule(
    r: &RuleSpec,
    has_for: bool,
    has_keep_firing_for: bool,
    v: NameValidation,
) -> Vec<(Option<&'static str>, String)> {
    let mut errs: Vec<(Option<&'static str>, String)> = Vec::new();
    match (&r.record, &r.alert) {
        (Some(_), Some(_)) => errs.push((
            Some("record"),
            "only one of 'record' and 'alert' must be set".into(),
        )),
        (None, None) => errs.push((None, "one of 'record' or 'alert' must be set".into())),
        _ => {}
    }
    if r.expr.is_empty() {
        errs.push((Some("expr"), "field 'expr' must be set in rule".into()));
    } else if let Err(e) = argus_query::parse(&r.expr) {
        errs.push((Some("expr"), format!("could not parse expression: {e}")));
    }
    if let Some(record) = &r.record {
        if !r.annotations.is_empty() {
            errs.push((
                Some("annotations"),
                "invalid field 'annotations' in recording rule".into(),
            ));
        }
        if has_for {
            errs.push((Some("for"), "invalid field 'for' in recording rule".into()));
        }
        if has_keep_firing_for {
            errs.push((
                Some("keep_firing_for"),
                "invalid field 'keep_firing_for' in recording rule".into(),
            ));
        }
        if record.contains('{') || record.contains('}') {
            errs.push((
                Some("record"),
                format!(
                    "braces present in the recording rule name; should it be in expr?: {record}"
                ),
            ));
        } else if !is_valid_metric_name(record, v) {
            errs.push((
                Some("record"),
                format!("invalid recording rule name: {record}"),
            ));
        }
    }
    for (k, val) in &r.labels {
        if let Some(e) = check_label(k, val, v) {
            errs.push((Some("labels"), e));
        }
    }
    for k in r.annotations.keys() {
        if !is_valid_label_name(k, v) {
            errs.push((Some("annotations"), format!("invalid annotation name: {k}")));
        }
    }
    if let Some(alert) = &r.alert {
        // Templates must parse (promtool's testTemplateParsing); `query` and friends exist.
        let funcs = functions("", None, 0.0);
        let name = format!("__alert_{alert}");
        for (field, map) in [("labels", &r.labels), ("annotations", &r.annotations)] {
            for (k, text) in map {
                if let Err(e) = parse_test(&name, &format!("{ALERT_TEMPLATE_DEFS}{text}"), &funcs) {
                    let what = field.trim_end_matches('s');
                    errs.push((
                        Some(field),
                        format!("{what} {}: {e}", argus_query::parser::go_quote_str(k)),
                    ));
                }
            }
        }
    }
    errs
}
