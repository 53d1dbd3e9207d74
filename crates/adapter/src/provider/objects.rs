//! Resolving a request's `labelSelector` (which selects *Kubernetes objects* by their
//! labels) into object names, since metric series don't carry object labels.
//!
//! Sources, in order:
//! 1. the Kubernetes API (a label-selected list), when running in a cluster;
//! 2. kube-state-metrics' `kube_<kind>_labels` series in the TSDB, when any exist (note
//!    that kube-state-metrics v2 exports only labels listed in
//!    `--metric-labels-allowlist`; keys are sanitized to `label_<key>`);
//! 3. otherwise the selector is applied to the metric series' own labels.

use std::collections::BTreeSet;

use argus_model::{is_stale_nan, Matcher, SelectHints};

use crate::config::GroupResource;
use crate::error::AdapterError;
use crate::selector::LabelSelector;
use crate::state::AdapterState;

/// Where a label selector was resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectSource {
    /// No selector: every object with series.
    Unrestricted,
    /// A list call to the Kubernetes API.
    KubernetesApi,
    /// kube-state-metrics `kube_<kind>_labels` series.
    KubeStateMetrics,
    /// The selector was applied to the metric series' labels.
    SeriesLabels,
}

impl ObjectSource {
    /// Name shown by the debug endpoint.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectSource::Unrestricted => "none",
            ObjectSource::KubernetesApi => "kubernetes-api",
            ObjectSource::KubeStateMetrics => "kube-state-metrics",
            ObjectSource::SeriesLabels => "series-labels",
        }
    }
}

/// The objects a request covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectSet {
    /// Every object that has series.
    Any,
    /// Exactly these (namespace, name) pairs.
    Names(BTreeSet<(String, String)>),
    /// Series whose own labels match the selector.
    SeriesLabels(LabelSelector),
}

/// Replaces characters Prometheus label names can't hold, as kube-state-metrics does.
pub fn ksm_label_name(key: &str) -> String {
    let mut s = String::with_capacity(key.len() + 6);
    s.push_str("label_");
    s.extend(key.chars().map(|c| {
        if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '_'
        }
    }));
    s
}

/// Resolves `selector` for objects of `resource` in `namespace` (all namespaces if None).
pub async fn resolve(
    state: &AdapterState,
    resource: &GroupResource,
    namespace: Option<&str>,
    selector: &LabelSelector,
) -> Result<(ObjectSet, ObjectSource), AdapterError> {
    if selector.is_empty() {
        return Ok((ObjectSet::Any, ObjectSource::Unrestricted));
    }
    let now = state.now_ms();
    if let Some(kube) = state.0.kube.as_ref() {
        let objs = kube
            .list(resource, namespace, &selector.to_string(), now)
            .await?;
        let names = objs.into_iter().map(|o| (o.namespace, o.name)).collect();
        return Ok((ObjectSet::Names(names), ObjectSource::KubernetesApi));
    }
    let s = state.clone();
    let (resource, namespace, selector) = (
        resource.clone(),
        namespace.map(str::to_owned),
        selector.clone(),
    );
    tokio::task::spawn_blocking(move || {
        ksm_lookup(&s, &resource, namespace.as_deref(), &selector, now)
    })
    .await
    .map_err(|e| AdapterError::Internal(format!("object lookup task: {e}")))?
}

fn ksm_lookup(
    state: &AdapterState,
    resource: &GroupResource,
    namespace: Option<&str>,
    selector: &LabelSelector,
    now: i64,
) -> Result<(ObjectSet, ObjectSource), AdapterError> {
    let singular = resource.info().singular;
    let metric = format!("kube_{singular}_labels");
    let mint = now.saturating_sub(state.0.options.lookback_ms);
    let q = state.0.storage.querier(mint, now)?;
    let hints = SelectHints {
        start: mint,
        end: now,
        ..SelectHints::default()
    };
    let mut matchers = vec![Matcher::equal(argus_model::METRIC_NAME, metric.as_str())];
    let mut set = q.select(false, Some(&hints), &matchers);
    if set.next().is_none() {
        // No kube-state-metrics for this kind at all: match the series' own labels.
        return Ok((
            ObjectSet::SeriesLabels(selector.clone()),
            ObjectSource::SeriesLabels,
        ));
    }
    if let Some(ns) = namespace {
        matchers.push(Matcher::equal("namespace", ns));
    }
    let mut names = BTreeSet::new();
    let mut set = q.select(false, Some(&hints), &matchers);
    while let Some(series) = set.next() {
        let series = series?;
        let labels = series.labels();
        let mut it = series.iterator();
        let mut last = None;
        while it.next() {
            last = Some(it.at());
        }
        if let Some(e) = it.err() {
            return Err(e.clone().into());
        }
        // Only objects that still exist: a fresh, non-stale sample.
        if !last.is_some_and(|s| s.t >= mint && s.t <= now && !is_stale_nan(s.v)) {
            continue;
        }
        let matches = selector.matches(|k| labels.get(&ksm_label_name(k)));
        if matches {
            if let Some(name) = labels.get(&singular) {
                names.insert((labels.get_or_empty("namespace").to_owned(), name.to_owned()));
            }
        }
    }
    Ok((ObjectSet::Names(names), ObjectSource::KubeStateMetrics))
}
