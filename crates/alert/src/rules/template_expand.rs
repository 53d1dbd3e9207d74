//! Expansion of alert label and annotation templates, as Prometheus' `AlertingRule.Eval`
//! does: the `$labels`/`$value`/`$externalLabels`/`$externalURL` definitions prepended,
//! `missingkey=zero`, and `query` bound to the evaluation time. A failing template yields
//! `<error expanding template: ...>` and a warning; evaluation goes on.

use std::collections::{BTreeMap, HashMap};

use argus_template::prometheus::{
    alert_template_data, expand, functions, sample, ALERT_TEMPLATE_DEFS,
};
use argus_template::{func, Func, Value};

use super::{query_vector, EvalContext};

/// Prometheus' template functions with `query` running against the rule's engine at `ts_ms`.
pub(crate) fn alert_functions(ctx: &EvalContext, ts_ms: i64) -> HashMap<String, Func> {
    let c = ctx.clone();
    let query = func(move |a| {
        let Some(q) = a.first().and_then(Value::as_str) else {
            return Err("wrong type for value; expected string".into());
        };
        let v = query_vector(&c, q, ts_ms).map_err(|e| e.to_string())?;
        Ok(Value::List(
            v.into_iter()
                .map(|s| {
                    sample(
                        s.labels
                            .iter()
                            .map(|l| (l.name.to_string(), l.value.to_string())),
                        s.v,
                    )
                })
                .collect(),
        ))
    });
    functions(&ctx.external_url, Some(query), ts_ms as f64 / 1000.0)
}

/// Expands every template of `templates` for one alert sample.
pub(crate) fn expand_all(
    ctx: &EvalContext,
    funcs: &HashMap<String, Func>,
    rule_name: &str,
    labels: &BTreeMap<String, String>,
    value: f64,
    templates: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    if templates.is_empty() {
        return BTreeMap::new();
    }
    let data = alert_template_data(labels, &ctx.external_labels, &ctx.external_url, value);
    let name = format!("__alert_{rule_name}");
    templates
        .iter()
        .map(|(k, text)| {
            if let Some(m) = &ctx.template_metrics {
                m.expansions.inc();
            }
            // Plain text needs no template machinery.
            if !text.contains("{{") {
                return (k.clone(), text.clone());
            }
            let full = format!("{ALERT_TEMPLATE_DEFS}{text}");
            let out = expand(&name, &full, &data, funcs).unwrap_or_else(|err| {
                if let Some(m) = &ctx.template_metrics {
                    m.failures.inc();
                }
                tracing::warn!(rule = rule_name, err = %err, "Expanding alert template failed.");
                format!("<error expanding template: {err}>")
            });
            (k.clone(), out)
        })
        .collect()
}
