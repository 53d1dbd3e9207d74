//! `role: endpointslice` (`discovery.k8s.io/v1`): one target per address and port of
//! each endpoint slice, with the labels of its service (named by the
//! `kubernetes.io/service-name` label) and of backing pods, whose other container ports
//! become targets too. Source `endpointslice/<namespace>/<name>`.

use std::collections::BTreeMap;

use k8s_openapi::api::discovery::v1::EndpointSlice;

use super::endpoints::{
    add_container_port_labels, add_uncovered_ports, resolve_pod, PodKey, SeenPod,
};
use super::labels::{self, bool_str, join_host_port, set, ADDRESS, NAMESPACE};
use super::pod::pod_labels;
use super::service::service_labels;
use super::store::Cache;
use super::Options;
use crate::discovery::{LabelSet, TargetGroup};

/// The label every endpoint slice carries with the name of its service.
pub(crate) const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

pub(crate) fn source(ns: &str, name: &str) -> String {
    format!("endpointslice/{ns}/{name}")
}

/// The service an endpoint slice belongs to.
pub(crate) fn service_name(eps: &EndpointSlice) -> Option<&str> {
    eps.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(SERVICE_NAME_LABEL))
        .map(String::as_str)
}

pub(crate) fn build(eps: &EndpointSlice, cache: &Cache, opts: &Options) -> TargetGroup {
    let ns = labels::namespace_of(&eps.metadata);
    let mut tg = TargetGroup {
        source: source(&ns, &labels::name_of(&eps.metadata)),
        ..TargetGroup::default()
    };
    tg.labels.insert(NAMESPACE.to_owned(), ns.clone());
    set(
        &mut tg.labels,
        "endpointslice_address_type",
        eps.address_type.clone(),
    );
    labels::add_object_meta(&mut tg.labels, &eps.metadata, "endpointslice");
    if let Some(svc) = service_name(eps).and_then(|n| cache.service(&ns, n)) {
        labels::merge(&mut tg.labels, service_labels(svc));
    }
    opts.add_namespace_metadata(&mut tg.labels, &ns, cache);

    let mut seen: BTreeMap<PodKey, SeenPod<'_>> = BTreeMap::new();
    let ports = eps.ports.as_deref().unwrap_or_default();
    for ep in &eps.endpoints {
        for port in ports {
            for addr in &ep.addresses {
                let mut t = LabelSet::new();
                let address = match port.port {
                    Some(p) => join_host_port(addr, p),
                    None => addr.clone(),
                };
                t.insert(ADDRESS.to_owned(), address);
                if let Some(n) = &port.name {
                    set(&mut t, "endpointslice_port_name", n.clone());
                }
                if let Some(p) = &port.protocol {
                    set(&mut t, "endpointslice_port_protocol", p.clone());
                }
                if let Some(p) = port.port {
                    set(&mut t, "endpointslice_port", p.to_string());
                }
                if let Some(a) = &port.app_protocol {
                    set(&mut t, "endpointslice_port_app_protocol", a.clone());
                }
                let cond = ep.conditions.as_ref();
                let conditions = [
                    ("ready", cond.and_then(|c| c.ready)),
                    ("serving", cond.and_then(|c| c.serving)),
                    ("terminating", cond.and_then(|c| c.terminating)),
                ];
                for (name, v) in conditions {
                    if let Some(v) = v {
                        let suffix = format!("endpointslice_endpoint_conditions_{name}");
                        set(&mut t, &suffix, bool_str(v));
                    }
                }
                if let Some(h) = &ep.hostname {
                    set(&mut t, "endpointslice_endpoint_hostname", h.clone());
                }
                if let Some(r) = &ep.target_ref {
                    let kind = r.kind.clone().unwrap_or_default();
                    set(&mut t, "endpointslice_address_target_kind", kind);
                    let name = r.name.clone().unwrap_or_default();
                    set(&mut t, "endpointslice_address_target_name", name);
                }
                if let Some(n) = &ep.node_name {
                    set(&mut t, "endpointslice_endpoint_node_name", n.clone());
                }
                if let Some(z) = &ep.zone {
                    set(&mut t, "endpointslice_endpoint_zone", z.clone());
                }
                for (k, v) in ep.deprecated_topology.iter().flatten() {
                    let n = labels::sanitize(k);
                    set(
                        &mut t,
                        &format!("endpointslice_endpoint_topology_{n}"),
                        v.clone(),
                    );
                    set(
                        &mut t,
                        &format!("endpointslice_endpoint_topology_present_{n}"),
                        "true",
                    );
                }
                if opts.attach_node {
                    let node_ref = ep
                        .target_ref
                        .as_ref()
                        .filter(|r| r.kind.as_deref() == Some("Node"));
                    let node = match node_ref {
                        Some(r) => r.name.as_deref(),
                        None => ep.node_name.as_deref(),
                    };
                    if let Some(n) = node.and_then(|n| cache.node("", n)) {
                        labels::add_node_metadata(&mut t, n);
                    }
                }
                let Some(pod) = resolve_pod(cache, ep.target_ref.as_ref(), &ns) else {
                    tg.targets.push(t);
                    continue;
                };
                let key = (
                    labels::namespace_of(&pod.metadata),
                    labels::name_of(&pod.metadata),
                );
                let entry = seen.entry(key).or_insert_with(|| SeenPod {
                    pod,
                    ports: Vec::new(),
                });
                if let Some(p) = port.port {
                    entry.ports.push(p);
                }
                labels::merge(&mut t, pod_labels(pod));
                if let Some(p) = port.port {
                    add_container_port_labels(&mut t, pod, p, None);
                }
                tg.targets.push(t);
            }
        }
    }
    add_uncovered_ports(&mut tg, &seen);
    tg
}
