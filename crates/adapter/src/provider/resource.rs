//! metrics.k8s.io: CPU and memory of pods (per container) and nodes, from the
//! `resourceRules` queries (by default cAdvisor's `container_cpu_usage_seconds_total`
//! rate and `container_memory_working_set_bytes`, nodes from the root cgroup).
//!
//! As in prometheus-adapter, a pod is reported only when both CPU and memory have a
//! value; a container with only one of them reports `0` for the other. Negative and NaN
//! values (counter resets inside the window) read as `0`.

use std::collections::BTreeMap;

use crate::config::{GroupResource, ResourceRule, ResourceRules};
use crate::error::AdapterError;
use crate::k8s::StatusDetails;
use crate::provider::custom::{matcher, prom_label};
use crate::provider::objects::{self, ObjectSet};
use crate::provider::rows;
use crate::quantity::Quantity;
use crate::selector::{alternation, FieldSelector, LabelSelector};
use crate::state::AdapterState;

/// Usage of one container.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerUsage {
    /// Container name.
    pub name: String,
    /// CPU, nanocore precision.
    pub cpu: Quantity,
    /// Memory working set, bytes.
    pub memory: Quantity,
}

/// Usage of one pod.
#[derive(Debug, Clone, PartialEq)]
pub struct PodUsage {
    /// Namespace.
    pub namespace: String,
    /// Pod name.
    pub name: String,
    /// Earliest sample time, ms.
    pub t_ms: i64,
    /// Containers sorted by name.
    pub containers: Vec<ContainerUsage>,
}

/// Usage of one node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeUsage {
    /// Node name.
    pub name: String,
    /// Earliest sample time, ms.
    pub t_ms: i64,
    /// CPU.
    pub cpu: Quantity,
    /// Memory working set.
    pub memory: Quantity,
}

/// Fields metrics.k8s.io accepts in `fieldSelector`.
pub const POD_FIELDS: &[&str] = &["metadata.name", "metadata.namespace"];
/// Fields accepted for nodes.
pub const NODE_FIELDS: &[&str] = &["metadata.name"];

fn rules(state: &AdapterState) -> Result<ResourceRules, AdapterError> {
    state.config().resource_rules.clone().ok_or_else(|| {
        AdapterError::not_found(
            "metrics.k8s.io is not served: the adapter configuration has no resourceRules",
        )
    })
}

fn label(rule: &ResourceRule, res: &str) -> Result<String, AdapterError> {
    rule.resources
        .label_for_resource(&GroupResource::core(res))
        .ok_or_else(|| AdapterError::Internal(format!("resourceRules map no label to {res}")))
}

fn clamp(v: f64) -> f64 {
    if v.is_nan() || v < 0.0 {
        0.0
    } else {
        v
    }
}

/// A 404 as metrics-server words it (`pods.metrics.k8s.io "ns/name" not found`).
pub fn object_not_found(resource: &str, name: &str) -> AdapterError {
    AdapterError::NotFound {
        message: format!("{resource}.metrics.k8s.io \"{name}\" not found"),
        details: Some(StatusDetails {
            name: name.to_owned(),
            group: "metrics.k8s.io".to_owned(),
            kind: resource.to_owned(),
        }),
    }
}

type Rows = Vec<(argus_model::Labels, i64, f64)>;

async fn run_both(
    state: &AdapterState,
    rr: &ResourceRules,
    node: bool,
    matchers: &[String],
    group_by: &[String],
) -> Result<(Rows, Rows), AdapterError> {
    let render = |rule: &ResourceRule| {
        let lm = matchers.join(",");
        let gb = group_by.join(",");
        let t = if node {
            &rule.node_query
        } else {
            &rule.container_query
        };
        t.render(|f| match f {
            "LabelMatchers" => lm.as_str(),
            "GroupBy" | "GroupBySlice" => gb.as_str(),
            _ => "",
        })
    };
    let now = state.now_ms();
    let (cpu, mem) = tokio::join!(
        state.instant_query(render(&rr.cpu), now),
        state.instant_query(render(&rr.memory), now)
    );
    Ok((rows(cpu?.value), rows(mem?.value)))
}

/// Pod metrics in `namespace` (all namespaces if `None`), or the one pod `name`.
pub async fn pods(
    state: &AdapterState,
    namespace: Option<&str>,
    name: Option<&str>,
    label_selector: &LabelSelector,
    field_selector: &FieldSelector,
) -> Result<(Vec<PodUsage>, i64), AdapterError> {
    let rr = rules(state)?;
    let (pod_l, ns_l) = (label(&rr.cpu, "pods")?, label(&rr.cpu, "namespaces")?);
    let container_l = rr.cpu.container_label.clone();
    let mut matchers = Vec::new();
    let namespace = namespace.or(field_selector.equal_value("metadata.namespace"));
    if let Some(ns) = namespace {
        matchers.push(matcher(&ns_l, "=", ns));
    }
    if let Some(n) = name.or(field_selector.equal_value("metadata.name")) {
        matchers.push(matcher(&pod_l, "=", n));
    }
    let (set, _) = objects::resolve(
        state,
        &GroupResource::core("pods"),
        namespace,
        label_selector,
    )
    .await?;
    let mut wanted = None;
    match set {
        ObjectSet::Any => {}
        ObjectSet::Names(n) if n.is_empty() => return Ok((Vec::new(), rr.window_ms)),
        ObjectSet::Names(n) => {
            let names: Vec<String> = n.iter().map(|(_, p)| p.clone()).collect();
            matchers.push(matcher(&pod_l, "=~", &alternation(&names)));
            wanted = Some(n);
        }
        ObjectSet::SeriesLabels(sel) => matchers.extend(sel.to_promql_matchers(prom_label)?),
    }
    if matchers.is_empty() {
        // Templates put <<.LabelMatchers>> before their own matchers: never leave it empty.
        matchers.push(format!("{pod_l}!=\"\""));
    }
    let group_by = vec![pod_l.clone(), ns_l.clone(), container_l.clone()];
    let (cpu, mem) = run_both(state, &rr, false, &matchers, &group_by).await?;

    // (namespace, pod) → (earliest t, container → (cpu, mem)).
    type Containers = BTreeMap<String, (Option<f64>, Option<f64>)>;
    let mut pods: BTreeMap<(String, String), (i64, Containers, bool, bool)> = BTreeMap::new();
    for (is_cpu, rows) in [(true, cpu), (false, mem)] {
        for (labels, t, v) in rows {
            let (Some(pod), Some(container)) = (labels.get(&pod_l), labels.get(&container_l))
            else {
                continue;
            };
            let key = (labels.get_or_empty(&ns_l).to_owned(), pod.to_owned());
            if wanted.as_ref().is_some_and(|w| !w.contains(&key)) {
                continue;
            }
            let e = pods
                .entry(key)
                .or_insert((t, BTreeMap::new(), false, false));
            e.0 = e.0.min(t);
            let c = e.1.entry(container.to_owned()).or_insert((None, None));
            if is_cpu {
                c.0 = Some(clamp(v));
                e.2 = true;
            } else {
                c.1 = Some(clamp(v));
                e.3 = true;
            }
        }
    }
    let mut out = Vec::with_capacity(pods.len());
    for ((ns, pod), (t, containers, has_cpu, has_mem)) in pods {
        if !(has_cpu && has_mem) {
            tracing::debug!(namespace = %ns, pod = %pod, "Skipping pod without both CPU and memory.");
            continue;
        }
        if !field_selector.matches(|f| {
            if f == "metadata.name" {
                pod.as_str()
            } else {
                ns.as_str()
            }
        }) {
            continue;
        }
        let mut cs = Vec::with_capacity(containers.len());
        for (name, (c, m)) in containers {
            cs.push(ContainerUsage {
                name,
                cpu: Quantity::from_cores(c.unwrap_or(0.0))
                    .map_err(|e| AdapterError::Internal(e.to_string()))?,
                memory: Quantity::from_bytes(m.unwrap_or(0.0))
                    .map_err(|e| AdapterError::Internal(e.to_string()))?,
            });
        }
        out.push(PodUsage {
            namespace: ns,
            name: pod,
            t_ms: t,
            containers: cs,
        });
    }
    if let (Some(n), Some(ns)) = (name, namespace) {
        if out.is_empty() {
            return Err(object_not_found("pods", &format!("{ns}/{n}")));
        }
    }
    Ok((out, rr.window_ms))
}

/// Node metrics, or the one node `name`.
pub async fn nodes(
    state: &AdapterState,
    name: Option<&str>,
    label_selector: &LabelSelector,
    field_selector: &FieldSelector,
) -> Result<(Vec<NodeUsage>, i64), AdapterError> {
    let rr = rules(state)?;
    let node_l = label(&rr.cpu, "nodes")?;
    let mut matchers = Vec::new();
    if let Some(n) = name.or(field_selector.equal_value("metadata.name")) {
        matchers.push(matcher(&node_l, "=", n));
    }
    let (set, _) =
        objects::resolve(state, &GroupResource::core("nodes"), None, label_selector).await?;
    match set {
        ObjectSet::Any => {}
        ObjectSet::Names(n) if n.is_empty() => return Ok((Vec::new(), rr.window_ms)),
        ObjectSet::Names(n) => {
            let names: Vec<String> = n.into_iter().map(|(_, p)| p).collect();
            matchers.push(matcher(&node_l, "=~", &alternation(&names)));
        }
        ObjectSet::SeriesLabels(sel) => matchers.extend(sel.to_promql_matchers(prom_label)?),
    }
    if matchers.is_empty() {
        matchers.push(format!("{node_l}!=\"\""));
    }
    let (cpu, mem) = run_both(state, &rr, true, &matchers, std::slice::from_ref(&node_l)).await?;
    let mut nodes: BTreeMap<String, (i64, Option<f64>, Option<f64>)> = BTreeMap::new();
    for (is_cpu, rows) in [(true, cpu), (false, mem)] {
        for (labels, t, v) in rows {
            let Some(node) = labels.get(&node_l) else {
                continue;
            };
            let e = nodes.entry(node.to_owned()).or_insert((t, None, None));
            e.0 = e.0.min(t);
            if is_cpu {
                e.1 = Some(clamp(v));
            } else {
                e.2 = Some(clamp(v));
            }
        }
    }
    let mut out = Vec::new();
    for (node, (t, cpu, mem)) in nodes {
        let (Some(cpu), Some(mem)) = (cpu, mem) else {
            continue;
        };
        if !field_selector.matches(|_| node.as_str()) {
            continue;
        }
        out.push(NodeUsage {
            name: node,
            t_ms: t,
            cpu: Quantity::from_cores(cpu).map_err(|e| AdapterError::Internal(e.to_string()))?,
            memory: Quantity::from_bytes(mem).map_err(|e| AdapterError::Internal(e.to_string()))?,
        });
    }
    if let Some(n) = name {
        if out.is_empty() {
            return Err(object_not_found("nodes", n));
        }
    }
    Ok((out, rr.window_ms))
}
