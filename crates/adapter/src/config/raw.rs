//! The YAML shape of the configuration and its compilation into [`AdapterConfig`].

use std::collections::BTreeMap;

use regex::Regex;
use serde::Deserialize;
use serde_yaml_ng::Value;

use super::{
    AdapterConfig, ConfigError, OnAbsent, ResourceConverter, ResourceRule, ResourceRules, Rule,
    Template, DEFAULT_METRICS_QUERY, QUERY_FIELDS,
};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct RawConfig {
    rules: Option<Vec<RawRule>>,
    external_rules: Option<Vec<RawRule>>,
    resource_rules: Option<RawResourceRules>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct RawRule {
    series_query: String,
    series_filters: Option<Vec<RawFilter>>,
    resources: Option<RawResources>,
    name: Option<RawName>,
    metrics_query: Option<String>,
    label_value_replacements: Option<Vec<RawReplacement>>,
    #[serde(rename = "on_absent", alias = "onAbsent")]
    on_absent: Option<OnAbsent>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct RawFilter {
    is: Option<String>,
    is_not: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawResources {
    template: Option<String>,
    overrides: Option<BTreeMap<String, RawGroupResource>>,
    namespaced: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawGroupResource {
    group: Option<String>,
    resource: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawName {
    matches: Option<String>,
    #[serde(rename = "as")]
    as_: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawReplacement {
    find: String,
    replace: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawResourceRules {
    cpu: RawResourceRule,
    memory: RawResourceRule,
    window: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct RawResourceRule {
    container_query: String,
    node_query: String,
    resources: Option<RawResources>,
    container_label: Option<String>,
}

const TOP_KEYS: &[&str] = &["rules", "externalRules", "resourceRules"];
const RULE_KEYS: &[&str] = &[
    "seriesQuery",
    "seriesFilters",
    "resources",
    "name",
    "metricsQuery",
    "labelValueReplacements",
    "on_absent",
    "onAbsent",
];
const RESOURCES_KEYS: &[&str] = &["template", "overrides", "namespaced"];
const NAME_KEYS: &[&str] = &["matches", "as"];
const RESOURCE_RULES_KEYS: &[&str] = &["cpu", "memory", "window"];
const RESOURCE_RULE_KEYS: &[&str] = &["containerQuery", "nodeQuery", "resources", "containerLabel"];

fn unknown_keys(v: &Value, known: &[&str], at: &str, out: &mut Vec<String>) {
    if let Value::Mapping(m) = v {
        for k in m.keys() {
            let name = k.as_str().unwrap_or("<non-string key>");
            if !known.contains(&name) {
                out.push(format!("{at}: unknown key {name:?} ignored"));
            }
        }
    }
}

fn collect_warnings(root: &Value) -> Vec<String> {
    let mut w = Vec::new();
    unknown_keys(root, TOP_KEYS, "config", &mut w);
    for list in ["rules", "externalRules"] {
        if let Some(Value::Sequence(rules)) = root.get(list) {
            for (i, r) in rules.iter().enumerate() {
                let at = format!("{list}[{i}]");
                unknown_keys(r, RULE_KEYS, &at, &mut w);
                if let Some(res) = r.get("resources") {
                    unknown_keys(res, RESOURCES_KEYS, &format!("{at}.resources"), &mut w);
                }
                if let Some(n) = r.get("name") {
                    unknown_keys(n, NAME_KEYS, &format!("{at}.name"), &mut w);
                }
            }
        }
    }
    if let Some(rr) = root.get("resourceRules") {
        unknown_keys(rr, RESOURCE_RULES_KEYS, "resourceRules", &mut w);
        for k in ["cpu", "memory"] {
            if let Some(r) = rr.get(k) {
                unknown_keys(r, RESOURCE_RULE_KEYS, &format!("resourceRules.{k}"), &mut w);
            }
        }
    }
    w
}

fn invalid(at: &str, msg: impl std::fmt::Display) -> ConfigError {
    ConfigError::Invalid(format!("{at}: {msg}"))
}

fn converter(res: Option<&RawResources>, at: &str) -> Result<ResourceConverter, ConfigError> {
    let overrides: BTreeMap<String, (String, String)> = res
        .and_then(|r| r.overrides.as_ref())
        .map(|o| {
            o.iter()
                .map(|(l, gr)| {
                    (
                        l.clone(),
                        (gr.group.clone().unwrap_or_default(), gr.resource.clone()),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    ResourceConverter::new(res.and_then(|r| r.template.as_deref()), &overrides)
        .map_err(|e| invalid(at, e))
}

fn compile_rule(raw: RawRule, index: usize, list: &str) -> Result<Rule, ConfigError> {
    let at = format!("{list}[{index}]");
    if raw.series_query.trim().is_empty() {
        return Err(invalid(&at, "seriesQuery is required"));
    }
    let series_matchers = argus_query::parse_metric_selector(&raw.series_query)
        .map_err(|e| invalid(&at, format!("seriesQuery {:?}: {e}", raw.series_query)))?;
    let mut filters = Vec::new();
    for (i, f) in raw
        .series_filters
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        let (is, src) = match (f.is, f.is_not) {
            (Some(s), None) => (true, s),
            (None, Some(s)) => (false, s),
            _ => {
                return Err(invalid(
                    &at,
                    format!("seriesFilters[{i}]: exactly one of `is` and `isNot` must be set"),
                ))
            }
        };
        let re = Regex::new(&src)
            .map_err(|e| invalid(&at, format!("seriesFilters[{i}] regex {src:?}: {e}")))?;
        filters.push((is, re));
    }
    let name = raw.name.unwrap_or_default();
    let matches_src = name
        .matches
        .filter(|m| !m.is_empty())
        .unwrap_or(".*".into());
    let name_matches = Regex::new(&matches_src)
        .map_err(|e| invalid(&at, format!("name.matches {matches_src:?}: {e}")))?;
    let name_as = match name.as_.filter(|a| !a.is_empty()) {
        Some(a) => a,
        None => match name_matches.captures_len() - 1 {
            0 => "$0".to_owned(),
            1 => "$1".to_owned(),
            n => {
                return Err(invalid(
                    &at,
                    format!(
                        "name.matches {matches_src:?} has {n} capture groups: name.as is required"
                    ),
                ))
            }
        },
    };
    let resources = converter(raw.resources.as_ref(), &format!("{at}.resources"))?;
    let query_src = raw
        .metrics_query
        .filter(|q| !q.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_METRICS_QUERY.to_owned());
    let metrics_query = Template::parse(&query_src, QUERY_FIELDS)
        .map_err(|e| invalid(&at, format!("metricsQuery: {e}")))?;
    Ok(Rule {
        index,
        series_query: raw.series_query,
        series_matchers,
        filters,
        name_matches,
        name_as,
        resources,
        namespaced: raw
            .resources
            .as_ref()
            .and_then(|r| r.namespaced)
            .unwrap_or(true),
        metrics_query,
        on_absent: raw.on_absent.unwrap_or_default(),
        label_value_replacements: raw
            .label_value_replacements
            .unwrap_or_default()
            .into_iter()
            .map(|r| (r.find, r.replace))
            .collect(),
    })
}

fn compile_resource_rule(raw: RawResourceRule, at: &str) -> Result<ResourceRule, ConfigError> {
    let container_query = Template::parse(&raw.container_query, QUERY_FIELDS)
        .map_err(|e| invalid(at, format!("containerQuery: {e}")))?;
    let node_query = Template::parse(&raw.node_query, QUERY_FIELDS)
        .map_err(|e| invalid(at, format!("nodeQuery: {e}")))?;
    if raw.container_query.trim().is_empty() || raw.node_query.trim().is_empty() {
        return Err(invalid(at, "containerQuery and nodeQuery are required"));
    }
    let resources = converter(raw.resources.as_ref(), &format!("{at}.resources"))?;
    for (res, what) in [
        ("pods", "pod"),
        ("nodes", "node"),
        ("namespaces", "namespace"),
    ] {
        if resources
            .label_for_resource(&super::GroupResource::core(res))
            .is_none()
        {
            return Err(invalid(
                at,
                format!("resources must map a label to the {what} resource"),
            ));
        }
    }
    Ok(ResourceRule {
        container_query,
        node_query,
        resources,
        container_label: raw
            .container_label
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "container".to_owned()),
    })
}

pub(super) fn compile(yaml: &str) -> Result<AdapterConfig, ConfigError> {
    let root: Value = if yaml.trim().is_empty() {
        Value::Null
    } else {
        serde_yaml_ng::from_str(yaml).map_err(|e| ConfigError::Yaml(e.to_string()))?
    };
    let warnings = collect_warnings(&root);
    let raw: RawConfig = if root.is_null() {
        RawConfig::default()
    } else {
        serde_yaml_ng::from_value(root).map_err(|e| ConfigError::Yaml(e.to_string()))?
    };
    let rules = raw
        .rules
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, r)| compile_rule(r, i, "rules"))
        .collect::<Result<Vec<_>, _>>()?;
    let external_rules = raw
        .external_rules
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, r)| compile_rule(r, i, "externalRules"))
        .collect::<Result<Vec<_>, _>>()?;
    let resource_rules = match raw.resource_rules {
        None => None,
        Some(rr) => {
            let window_ms = match rr.window.as_deref().filter(|w| !w.is_empty()) {
                None => 300_000,
                Some(w) => argus_model::parse_duration_ms(w)
                    .map_err(|e| invalid("resourceRules.window", e.0))?,
            };
            if window_ms <= 0 {
                return Err(invalid("resourceRules.window", "must be positive"));
            }
            Some(ResourceRules {
                cpu: compile_resource_rule(rr.cpu, "resourceRules.cpu")?,
                memory: compile_resource_rule(rr.memory, "resourceRules.memory")?,
                window_ms,
            })
        }
    };
    Ok(AdapterConfig {
        rules,
        external_rules,
        resource_rules,
        warnings,
    })
}

#[cfg(test)]
mod tests;
