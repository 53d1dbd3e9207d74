//! custom.metrics.k8s.io: values of a metric for one object, for many objects selected
//! by labels, or for a namespace.

use std::collections::BTreeMap;

use crate::config::{GroupResource, OnAbsent};
use crate::error::AdapterError;
use crate::k8s::{ObjectReference, StatusDetails};
use crate::provider::objects::{self, ObjectSet, ObjectSource};
use crate::provider::{rows, window_seconds};
use crate::quantity::Quantity;
use crate::selector::{alternation, is_prom_label_name, LabelSelector, SelectorError};
use crate::state::AdapterState;

/// Which objects a request is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectName {
    /// One named object (`…/pods/web-1/metric`): exactly one item or 404.
    One(String),
    /// All objects matching `labelSelector` (`…/pods/*/metric`).
    All,
}

/// A parsed custom metrics request.
#[derive(Debug, Clone)]
pub struct CustomRequest {
    /// The described resource (`pods`, `deployments.apps`, `namespaces`, …).
    pub resource: GroupResource,
    /// Namespace of namespaced requests.
    pub namespace: Option<String>,
    /// Object(s).
    pub name: ObjectName,
    /// API metric name.
    pub metric: String,
    /// `labelSelector`: selects objects.
    pub label_selector: LabelSelector,
    /// `metricLabelSelector`: selects series.
    pub metric_selector: LabelSelector,
}

/// One value of the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomValue {
    /// The object.
    pub object: ObjectReference,
    /// Evaluation time, ms.
    pub t_ms: i64,
    /// Rate window, seconds.
    pub window_seconds: Option<i64>,
    /// The value.
    pub value: Quantity,
}

/// What a query did, for the debug endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryTrace {
    /// `rules[i]` or `externalRules[i]`.
    pub rule: String,
    /// The series name.
    pub series: String,
    /// The rendered PromQL.
    pub query: String,
    /// How `labelSelector` was resolved.
    pub object_source: ObjectSource,
    /// Raw result rows: labels, t, v.
    pub raw: Vec<(BTreeMap<String, String>, i64, f64)>,
}

pub(crate) fn prom_label(key: &str) -> Result<String, SelectorError> {
    if is_prom_label_name(key) {
        Ok(key.to_owned())
    } else {
        Err(SelectorError(format!(
            "selector key {key:?} is not a valid Prometheus label name, so no series can \
             carry it"
        )))
    }
}

fn not_found(req: &CustomRequest) -> AdapterError {
    let res = req.resource.qualified();
    match &req.name {
        ObjectName::One(name) => AdapterError::NotFound {
            message: format!(
                "the server could not find the metric {} for {res} {name}",
                req.metric
            ),
            details: Some(StatusDetails {
                name: name.clone(),
                group: req.resource.group.clone(),
                kind: req.resource.resource.clone(),
            }),
        },
        ObjectName::All => AdapterError::not_found(format!(
            "the server could not find the metric {} for {res}",
            req.metric
        )),
    }
}

/// Answers a custom metrics request.
pub async fn get(
    state: &AdapterState,
    req: &CustomRequest,
) -> Result<(Vec<CustomValue>, QueryTrace), AdapterError> {
    let key = (req.resource.clone(), req.metric.clone());
    let mut snap = state.snapshot();
    if !snap.custom.contains_key(&key) {
        snap = state.refresh_if_stale().await?;
    }
    let entry = snap
        .custom
        .get(&key)
        .cloned()
        .ok_or_else(|| not_found(req))?;
    if entry.namespaced != req.namespace.is_some() {
        return Err(not_found(req));
    }
    let config = state.config();
    let rule = config.rules.get(entry.rule).ok_or_else(|| not_found(req))?;
    let res_label = rule
        .resources
        .label_for_resource(&req.resource)
        .ok_or_else(|| not_found(req))?;

    let mut matchers = req.metric_selector.to_promql_matchers(prom_label)?;
    if let Some(ns) = &req.namespace {
        let ns_label = rule
            .resources
            .label_for_resource(&GroupResource::core("namespaces"))
            .ok_or_else(|| {
                AdapterError::Internal(format!(
                    "rules[{}] maps no label to namespaces, so it cannot answer namespaced requests",
                    rule.index
                ))
            })?;
        matchers.push(matcher(&ns_label, "=", ns));
    }
    let mut wanted: Option<Vec<String>> = None;
    let (set, source) = match &req.name {
        ObjectName::One(name) => {
            matchers.push(matcher(&res_label, "=", name));
            (ObjectSet::Any, ObjectSource::Unrestricted)
        }
        ObjectName::All => {
            objects::resolve(
                state,
                &req.resource,
                req.namespace.as_deref(),
                &req.label_selector,
            )
            .await?
        }
    };
    match set {
        ObjectSet::Any => {
            if req.name == ObjectName::All {
                matchers.push(format!("{res_label}!=\"\""));
            }
        }
        ObjectSet::Names(names) => {
            let names: Vec<String> = names.into_iter().map(|(_, n)| n).collect();
            if names.is_empty() {
                let trace = trace(rule.index, &entry.series, String::new(), source);
                return Ok((Vec::new(), trace));
            }
            matchers.push(matcher(&res_label, "=~", &alternation(&names)));
            wanted = Some(names);
        }
        ObjectSet::SeriesLabels(sel) => {
            matchers.extend(sel.to_promql_matchers(prom_label)?);
            matchers.push(format!("{res_label}!=\"\""));
        }
    }
    let label_matchers = matchers.join(",");
    let query = rule.metrics_query.render(|f| match f {
        "Series" => &entry.series,
        "LabelMatchers" => &label_matchers,
        _ => &res_label,
    });
    let now = state.now_ms();
    let result = state.instant_query(query.clone(), now).await?;
    let window = window_seconds(&query);
    let info = req.resource.info();
    let mut by_name: BTreeMap<String, (i64, f64)> = BTreeMap::new();
    let mut raw = Vec::new();
    for (labels, t, v) in rows(result.value) {
        raw.push((
            labels
                .iter()
                .map(|l| (l.name.to_owned(), l.value.to_owned()))
                .collect(),
            t,
            v,
        ));
        let name = match (&req.name, labels.get(&res_label)) {
            (_, Some(n)) if !n.is_empty() => n.to_owned(),
            // A scalar or label-less answer for one object is that object's value.
            (ObjectName::One(n), _) if labels.is_empty() => n.clone(),
            _ => continue,
        };
        if !v.is_finite() {
            tracing::debug!(object = %name, value = v, "Skipping non-finite custom metric value.");
            continue;
        }
        // Queries should aggregate to one series per object; keep the first if not.
        by_name.entry(name).or_insert((t, v));
    }
    match (&req.name, rule.on_absent) {
        (ObjectName::One(n), OnAbsent::Zero) => {
            by_name.entry(n.clone()).or_insert((now, 0.0));
        }
        (ObjectName::All, OnAbsent::Zero) => {
            for n in wanted.iter().flatten() {
                by_name.entry(n.clone()).or_insert((now, 0.0));
            }
        }
        _ => {}
    }
    if let ObjectName::One(n) = &req.name {
        by_name.retain(|k, _| k == n);
        if by_name.is_empty() {
            return Err(not_found(req));
        }
    }
    let mut items = Vec::with_capacity(by_name.len());
    for (name, (t, v)) in by_name {
        let value =
            Quantity::from_metric_value(v).map_err(|e| AdapterError::Internal(e.to_string()))?;
        items.push(CustomValue {
            object: ObjectReference {
                kind: info.kind.clone(),
                namespace: if info.namespaced {
                    req.namespace.clone().unwrap_or_default()
                } else {
                    String::new()
                },
                name,
                api_version: info.api_version.clone(),
            },
            t_ms: t,
            window_seconds: window,
            value,
        });
    }
    let mut tr = trace(rule.index, &entry.series, query, source);
    tr.raw = raw;
    Ok((items, tr))
}

fn trace(rule: usize, series: &str, query: String, source: ObjectSource) -> QueryTrace {
    QueryTrace {
        rule: format!("rules[{rule}]"),
        series: series.to_owned(),
        query,
        object_source: source,
        raw: Vec::new(),
    }
}

/// `name<op>"value"` with Go string quoting.
pub(crate) fn matcher(name: &str, op: &str, value: &str) -> String {
    let mut s = String::with_capacity(name.len() + value.len() + 4);
    s.push_str(name);
    s.push_str(op);
    argus_model::labels::go_quote_into(value, &mut s);
    s
}
