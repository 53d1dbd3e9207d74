//! `role: node`: one target per node, the kubelet's port on the node's preferred
//! address, with `instance` set to the node name. Source `node/<name>`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Node;

use super::labels::{self, join_host_port, set, ADDRESS};
use crate::discovery::{LabelSet, TargetGroup};

pub(crate) fn source(name: &str) -> String {
    format!("node/{name}")
}

/// Address types in the order Prometheus prefers them (`nodeAddress`).
const PREFERENCE: [&str; 6] = [
    "InternalIP",
    "InternalDNS",
    "ExternalIP",
    "ExternalDNS",
    "LegacyHostIP",
    "Hostname",
];

/// The preferred address and the first address of each type.
pub(crate) fn addresses(node: &Node) -> (Option<String>, BTreeMap<String, String>) {
    let mut first: BTreeMap<String, String> = BTreeMap::new();
    let all = node
        .status
        .as_ref()
        .and_then(|s| s.addresses.as_ref())
        .into_iter()
        .flatten();
    for a in all {
        first
            .entry(a.type_.clone())
            .or_insert_with(|| a.address.clone());
    }
    let preferred = PREFERENCE.iter().find_map(|t| first.get(*t).cloned());
    (preferred, first)
}

pub(crate) fn build(node: &Node) -> TargetGroup {
    let name = labels::name_of(&node.metadata);
    let mut tg = TargetGroup {
        source: source(&name),
        ..TargetGroup::default()
    };
    set(
        &mut tg.labels,
        "node_provider_id",
        node.spec
            .as_ref()
            .and_then(|s| s.provider_id.clone())
            .unwrap_or_default(),
    );
    labels::add_object_meta(&mut tg.labels, &node.metadata, "node");
    let (preferred, first) = addresses(node);
    let Some(addr) = preferred else {
        tracing::warn!(node = %name, "No node address found; the node has no target.");
        return tg;
    };
    let port = node
        .status
        .as_ref()
        .and_then(|s| s.daemon_endpoints.as_ref())
        .and_then(|d| d.kubelet_endpoint.as_ref())
        .map(|k| k.port)
        .unwrap_or(0);
    let mut t = LabelSet::new();
    t.insert(ADDRESS.to_owned(), join_host_port(&addr, port));
    t.insert("instance".to_owned(), name);
    for (ty, a) in first {
        t.insert(
            labels::sanitize(&labels::meta(&format!("node_address_{ty}"))),
            a,
        );
    }
    tg.targets.push(t);
    tg
}
