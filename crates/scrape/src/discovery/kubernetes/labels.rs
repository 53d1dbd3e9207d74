//! The `__meta_kubernetes_*` label vocabulary shared by the roles.

use k8s_openapi::api::core::v1::{Namespace, Node};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::discovery::LabelSet;

pub(crate) const PREFIX: &str = "__meta_kubernetes_";
pub(crate) const NAMESPACE: &str = "__meta_kubernetes_namespace";
pub(crate) const ADDRESS: &str = "__address__";

/// Prometheus' `strutil.SanitizeLabelName`: every character outside `[a-zA-Z0-9_]`
/// becomes `_` (one per character, not per byte).
pub(crate) fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `__meta_kubernetes_<suffix>`.
pub(crate) fn meta(suffix: &str) -> String {
    format!("{PREFIX}{suffix}")
}

/// Sets `__meta_kubernetes_<suffix>` to `value`.
pub(crate) fn set(ls: &mut LabelSet, suffix: &str, value: impl Into<String>) {
    ls.insert(meta(suffix), value.into());
}

/// `<host>:<port>`, with IPv6 literals bracketed (Go's `net.JoinHostPort`).
pub(crate) fn join_host_port(host: &str, port: impl std::fmt::Display) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The `<kind>_name`, `<kind>_label_*`, `<kind>_labelpresent_*`, `<kind>_annotation_*` and
/// `<kind>_annotationpresent_*` labels of an object (Prometheus' `addObjectMetaLabels`).
pub(crate) fn add_object_meta(ls: &mut LabelSet, meta_: &ObjectMeta, kind: &str) {
    set(ls, &format!("{kind}_name"), name_of(meta_));
    add_labels_and_annotations(ls, meta_, kind);
}

fn add_labels_and_annotations(ls: &mut LabelSet, meta_: &ObjectMeta, kind: &str) {
    for (k, v) in meta_.labels.iter().flatten() {
        let n = sanitize(k);
        set(ls, &format!("{kind}_label_{n}"), v.clone());
        set(ls, &format!("{kind}_labelpresent_{n}"), "true");
    }
    for (k, v) in meta_.annotations.iter().flatten() {
        let n = sanitize(k);
        set(ls, &format!("{kind}_annotation_{n}"), v.clone());
        set(ls, &format!("{kind}_annotationpresent_{n}"), "true");
    }
}

/// The node labels of `attach_metadata.node`: name, labels and annotations of the node.
pub(crate) fn add_node_metadata(ls: &mut LabelSet, node: &Node) {
    add_object_meta(ls, &node.metadata, "node");
}

/// The namespace labels of `attach_metadata.namespace`: its labels and annotations
/// (`__meta_kubernetes_namespace` already holds the name).
pub(crate) fn add_namespace_metadata(ls: &mut LabelSet, ns: &Namespace) {
    add_labels_and_annotations(ls, &ns.metadata, "namespace");
}

pub(crate) fn name_of(m: &ObjectMeta) -> String {
    m.name.clone().unwrap_or_default()
}

pub(crate) fn namespace_of(m: &ObjectMeta) -> String {
    m.namespace.clone().unwrap_or_default()
}

/// `true`/`false` as Go's `strconv.FormatBool`.
pub(crate) fn bool_str(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

/// Adds `from` to `to`, the labels of `from` winning (Prometheus' `LabelSet.Merge`).
pub(crate) fn merge(to: &mut LabelSet, from: LabelSet) {
    to.extend(from);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_per_character() {
        assert_eq!(sanitize("app.kubernetes.io/name"), "app_kubernetes_io_name");
        assert_eq!(sanitize("prometheus.io/scrape"), "prometheus_io_scrape");
        assert_eq!(sanitize("héllo-wörld"), "h_llo_w_rld");
        assert_eq!(sanitize("ok_Name9"), "ok_Name9");
    }

    #[test]
    fn joins_ipv6_with_brackets() {
        assert_eq!(join_host_port("10.0.0.1", 80), "10.0.0.1:80");
        assert_eq!(join_host_port("fd00::1", 9100), "[fd00::1]:9100");
    }
}
