//! `role: pod`: one target per declared container port, and one port-less target per
//! container that declares none; init containers too, marked by
//! `__meta_kubernetes_pod_container_init`. Source `pod/<namespace>/<name>`.

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

use super::labels::{self, join_host_port, set, ADDRESS, NAMESPACE};
use super::store::Cache;
use super::Options;
use crate::discovery::{LabelSet, TargetGroup};

pub(crate) fn source(ns: &str, name: &str) -> String {
    format!("pod/{ns}/{name}")
}

/// The pod's own labels (without `__meta_kubernetes_namespace`), shared with the
/// endpoints roles (Prometheus' `podLabels`).
pub(crate) fn pod_labels(pod: &Pod) -> LabelSet {
    let mut ls = LabelSet::new();
    let status = pod.status.as_ref();
    let spec = pod.spec.as_ref();
    let s = |v: Option<&String>| v.cloned().unwrap_or_default();
    set(
        &mut ls,
        "pod_ip",
        s(status.and_then(|st| st.pod_ip.as_ref())),
    );
    set(&mut ls, "pod_ready", ready(pod));
    set(
        &mut ls,
        "pod_phase",
        s(status.and_then(|st| st.phase.as_ref())),
    );
    set(
        &mut ls,
        "pod_node_name",
        s(spec.and_then(|sp| sp.node_name.as_ref())),
    );
    set(
        &mut ls,
        "pod_host_ip",
        s(status.and_then(|st| st.host_ip.as_ref())),
    );
    set(&mut ls, "pod_uid", s(pod.metadata.uid.as_ref()));
    labels::add_object_meta(&mut ls, &pod.metadata, "pod");
    let controller = pod
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true));
    if let Some(c) = controller {
        if !c.kind.is_empty() {
            set(&mut ls, "pod_controller_kind", c.kind.clone());
        }
        if !c.name.is_empty() {
            set(&mut ls, "pod_controller_name", c.name.clone());
        }
    }
    ls
}

/// The status of the `Ready` condition, lower-cased; `unknown` without one.
fn ready(pod: &Pod) -> String {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
        .map(|c| c.status.to_lowercase())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn container_id(statuses: Option<&Vec<ContainerStatus>>, name: &str) -> String {
    statuses
        .into_iter()
        .flatten()
        .find(|s| s.name == name)
        .and_then(|s| s.container_id.clone())
        .unwrap_or_default()
}

/// The pod IP, when the pod has one (it has none while starting or once evicted).
pub(crate) fn pod_ip(pod: &Pod) -> Option<&str> {
    pod.status
        .as_ref()
        .and_then(|s| s.pod_ip.as_deref())
        .filter(|ip| !ip.is_empty())
}

pub(crate) fn build(pod: &Pod, cache: &Cache, opts: &Options) -> TargetGroup {
    let ns = labels::namespace_of(&pod.metadata);
    let mut tg = TargetGroup {
        source: source(&ns, &labels::name_of(&pod.metadata)),
        ..TargetGroup::default()
    };
    let Some(ip) = pod_ip(pod) else {
        return tg;
    };
    tg.labels = pod_labels(pod);
    tg.labels.insert(NAMESPACE.to_owned(), ns.clone());
    if opts.attach_node {
        let node = pod.spec.as_ref().and_then(|s| s.node_name.as_deref());
        if let Some(n) = node.and_then(|n| cache.node("", n)) {
            labels::add_node_metadata(&mut tg.labels, n);
        }
    }
    opts.add_namespace_metadata(&mut tg.labels, &ns, cache);

    let Some(spec) = pod.spec.as_ref() else {
        return tg;
    };
    let status = pod.status.as_ref();
    let regular = spec.containers.iter().map(|c| (c, false));
    let init = spec.init_containers.iter().flatten().map(|c| (c, true));
    for (c, is_init) in regular.chain(init) {
        let statuses = status.and_then(|s| {
            if is_init {
                s.init_container_statuses.as_ref()
            } else {
                s.container_statuses.as_ref()
            }
        });
        let mut base = LabelSet::new();
        set(&mut base, "pod_container_name", c.name.clone());
        set(
            &mut base,
            "pod_container_id",
            container_id(statuses, &c.name),
        );
        set(
            &mut base,
            "pod_container_image",
            c.image.clone().unwrap_or_default(),
        );
        set(&mut base, "pod_container_init", labels::bool_str(is_init));
        let ports = c.ports.as_deref().unwrap_or_default();
        if ports.is_empty() {
            // Without a declared port the address is the bare pod IP; relabeling has to
            // supply the port.
            let mut t = base;
            t.insert(ADDRESS.to_owned(), ip.to_owned());
            tg.targets.push(t);
            continue;
        }
        for p in ports {
            let mut t = base.clone();
            let port = p.container_port.to_string();
            t.insert(ADDRESS.to_owned(), join_host_port(ip, &port));
            set(&mut t, "pod_container_port_number", port);
            set(
                &mut t,
                "pod_container_port_name",
                p.name.clone().unwrap_or_default(),
            );
            set(
                &mut t,
                "pod_container_port_protocol",
                p.protocol.clone().unwrap_or_default(),
            );
            tg.targets.push(t);
        }
    }
    tg
}
