//! `role: endpoints`: one target per address and port of each `Endpoints` object, with
//! the labels of its service and, for addresses backed by a pod, the pod's labels; the
//! pod's other container ports become targets too. Source `endpoints/<namespace>/<name>`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, Endpoints, ObjectReference, Pod};

use super::labels::{self, join_host_port, set, ADDRESS, NAMESPACE};
use super::pod::{pod_ip, pod_labels};
use super::service::service_labels;
use super::store::Cache;
use super::Options;
use crate::discovery::{LabelSet, TargetGroup};

pub(crate) fn source(ns: &str, name: &str) -> String {
    format!("endpoints/{ns}/{name}")
}

/// The pod an address points at, if the pod is known.
pub(crate) fn resolve_pod<'a>(
    cache: &'a Cache,
    target: Option<&ObjectReference>,
    default_ns: &str,
) -> Option<&'a Pod> {
    let r = target?;
    if r.kind.as_deref() != Some("Pod") {
        return None;
    }
    let ns = r.namespace.as_deref().unwrap_or(default_ns);
    cache.pod(ns, r.name.as_deref()?)
}

/// The pod's containers, then its init containers (sidecars declare ports too), each
/// with whether it is an init container.
fn containers(pod: &Pod) -> impl Iterator<Item = (&Container, bool)> {
    let spec = pod.spec.iter();
    let regular = spec
        .clone()
        .flat_map(|s| s.containers.iter().map(|c| (c, false)));
    let init = spec.flat_map(|s| s.init_containers.iter().flatten().map(|c| (c, true)));
    regular.chain(init)
}

/// Labels of the container declaring `port`, if any (endpoint targets backed by a pod).
/// The protocol is the endpoint port's when given (the `endpoints` role), else the
/// container port's (the `endpointslice` role), as in Prometheus.
pub(crate) fn add_container_port_labels(
    t: &mut LabelSet,
    pod: &Pod,
    port: i32,
    protocol: Option<&str>,
) {
    for (c, is_init) in containers(pod) {
        if let Some(cp) = c
            .ports
            .iter()
            .flatten()
            .find(|cp| cp.container_port == port)
        {
            set(t, "pod_container_name", c.name.clone());
            set(
                t,
                "pod_container_image",
                c.image.clone().unwrap_or_default(),
            );
            set(
                t,
                "pod_container_port_name",
                cp.name.clone().unwrap_or_default(),
            );
            set(t, "pod_container_port_number", port.to_string());
            let proto = protocol.or(cp.protocol.as_deref()).unwrap_or_default();
            set(t, "pod_container_port_protocol", proto);
            set(t, "pod_container_init", labels::bool_str(is_init));
        }
    }
}

/// Targets for the container ports of pods that no endpoint port covered.
pub(crate) fn add_uncovered_ports(tg: &mut TargetGroup, seen: &BTreeMap<PodKey, SeenPod<'_>>) {
    for sp in seen.values() {
        let Some(ip) = pod_ip(sp.pod) else {
            continue;
        };
        for (c, is_init) in containers(sp.pod) {
            for cp in c.ports.iter().flatten() {
                if sp.ports.contains(&cp.container_port) {
                    continue;
                }
                let mut t = pod_labels(sp.pod);
                let port = cp.container_port.to_string();
                t.insert(ADDRESS.to_owned(), join_host_port(ip, &port));
                set(&mut t, "pod_container_name", c.name.clone());
                set(
                    &mut t,
                    "pod_container_image",
                    c.image.clone().unwrap_or_default(),
                );
                set(
                    &mut t,
                    "pod_container_port_name",
                    cp.name.clone().unwrap_or_default(),
                );
                set(&mut t, "pod_container_port_number", port);
                set(&mut t, "pod_container_init", labels::bool_str(is_init));
                set(
                    &mut t,
                    "pod_container_port_protocol",
                    cp.protocol.clone().unwrap_or_default(),
                );
                tg.targets.push(t);
            }
        }
    }
}

/// `(namespace, name)` of a pod seen behind an endpoint.
pub(crate) type PodKey = (String, String);

/// A pod seen behind an endpoint and the endpoint ports that produced targets for it.
pub(crate) struct SeenPod<'a> {
    pub pod: &'a Pod,
    pub ports: Vec<i32>,
}

pub(crate) fn build(eps: &Endpoints, cache: &Cache, opts: &Options) -> TargetGroup {
    let ns = labels::namespace_of(&eps.metadata);
    let name = labels::name_of(&eps.metadata);
    let mut tg = TargetGroup {
        source: source(&ns, &name),
        ..TargetGroup::default()
    };
    tg.labels.insert(NAMESPACE.to_owned(), ns.clone());
    if let Some(svc) = cache.service(&ns, &name) {
        labels::merge(&mut tg.labels, service_labels(svc));
    }
    labels::add_object_meta(&mut tg.labels, &eps.metadata, "endpoints");
    opts.add_namespace_metadata(&mut tg.labels, &ns, cache);

    let mut seen: BTreeMap<PodKey, SeenPod<'_>> = BTreeMap::new();
    for subset in eps.subsets.iter().flatten() {
        for port in subset.ports.iter().flatten() {
            let ready = subset.addresses.iter().flatten().map(|a| (a, "true"));
            let not_ready = subset
                .not_ready_addresses
                .iter()
                .flatten()
                .map(|a| (a, "false"));
            for (addr, ready) in ready.chain(not_ready) {
                let mut t = LabelSet::new();
                t.insert(ADDRESS.to_owned(), join_host_port(&addr.ip, port.port));
                set(
                    &mut t,
                    "endpoint_port_name",
                    port.name.clone().unwrap_or_default(),
                );
                set(
                    &mut t,
                    "endpoint_port_protocol",
                    port.protocol.clone().unwrap_or_default(),
                );
                set(&mut t, "endpoint_ready", ready);
                if let Some(r) = &addr.target_ref {
                    set(
                        &mut t,
                        "endpoint_address_target_kind",
                        r.kind.clone().unwrap_or_default(),
                    );
                    set(
                        &mut t,
                        "endpoint_address_target_name",
                        r.name.clone().unwrap_or_default(),
                    );
                }
                if let Some(n) = &addr.node_name {
                    set(&mut t, "endpoint_node_name", n.clone());
                }
                if let Some(h) = addr.hostname.as_ref().filter(|h| !h.is_empty()) {
                    set(&mut t, "endpoint_hostname", h.clone());
                }
                if opts.attach_node {
                    let node_ref = addr
                        .target_ref
                        .as_ref()
                        .filter(|r| r.kind.as_deref() == Some("Node"));
                    let node = addr
                        .node_name
                        .as_deref()
                        .or_else(|| node_ref.and_then(|r| r.name.as_deref()));
                    if let Some(n) = node.and_then(|n| cache.node("", n)) {
                        labels::add_node_metadata(&mut t, n);
                    }
                }
                let Some(pod) = resolve_pod(cache, addr.target_ref.as_ref(), &ns) else {
                    tg.targets.push(t);
                    continue;
                };
                let key = (
                    labels::namespace_of(&pod.metadata),
                    labels::name_of(&pod.metadata),
                );
                seen.entry(key)
                    .or_insert_with(|| SeenPod {
                        pod,
                        ports: Vec::new(),
                    })
                    .ports
                    .push(port.port);
                labels::merge(&mut t, pod_labels(pod));
                add_container_port_labels(
                    &mut t,
                    pod,
                    port.port,
                    Some(port.protocol.as_deref().unwrap_or_default()),
                );
                tg.targets.push(t);
            }
        }
    }
    let over_capacity = eps
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("endpoints.kubernetes.io/over-capacity"));
    if let Some(v) = over_capacity {
        // Kubernetes caps an Endpoints object at 1000 addresses; the rest are missing.
        tracing::warn!(endpoints = %name, namespace = %ns, over_capacity = %v, "Endpoints object holds more than 1000 addresses; use role endpointslice to see them all.");
    }
    add_uncovered_ports(&mut tg, &seen);
    tg
}
