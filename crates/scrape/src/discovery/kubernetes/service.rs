//! `role: service`: one target per service port, addressed by the service's cluster DNS
//! name (`<name>.<namespace>.svc:<port>`). Source `svc/<namespace>/<name>`.

use k8s_openapi::api::core::v1::Service;

use super::labels::{self, join_host_port, set, ADDRESS, NAMESPACE};
use super::store::Cache;
use super::Options;
use crate::discovery::{LabelSet, TargetGroup};

pub(crate) fn source(ns: &str, name: &str) -> String {
    format!("svc/{ns}/{name}")
}

/// Namespace, name, labels and annotations of a service; the endpoints roles attach
/// them too (Prometheus' `serviceLabels`).
pub(crate) fn service_labels(svc: &Service) -> LabelSet {
    let mut ls = LabelSet::new();
    ls.insert(NAMESPACE.to_owned(), labels::namespace_of(&svc.metadata));
    labels::add_object_meta(&mut ls, &svc.metadata, "service");
    ls
}

pub(crate) fn build(svc: &Service, cache: &Cache, opts: &Options) -> TargetGroup {
    let ns = labels::namespace_of(&svc.metadata);
    let name = labels::name_of(&svc.metadata);
    let mut tg = TargetGroup {
        source: source(&ns, &name),
        labels: service_labels(svc),
        ..TargetGroup::default()
    };
    opts.add_namespace_metadata(&mut tg.labels, &ns, cache);
    let Some(spec) = svc.spec.as_ref() else {
        return tg;
    };
    let ty = spec.type_.clone().unwrap_or_default();
    for p in spec.ports.iter().flatten() {
        let mut t = LabelSet::new();
        t.insert(
            ADDRESS.to_owned(),
            join_host_port(&format!("{name}.{ns}.svc"), p.port),
        );
        set(
            &mut t,
            "service_port_name",
            p.name.clone().unwrap_or_default(),
        );
        set(&mut t, "service_port_number", p.port.to_string());
        set(
            &mut t,
            "service_port_protocol",
            p.protocol.clone().unwrap_or_default(),
        );
        set(&mut t, "service_type", ty.clone());
        if ty == "ExternalName" {
            set(
                &mut t,
                "service_external_name",
                spec.external_name.clone().unwrap_or_default(),
            );
        } else {
            set(
                &mut t,
                "service_cluster_ip",
                spec.cluster_ip.clone().unwrap_or_default(),
            );
        }
        if ty == "LoadBalancer" {
            set(
                &mut t,
                "service_loadbalancer_ip",
                spec.load_balancer_ip.clone().unwrap_or_default(),
            );
        }
        tg.targets.push(t);
    }
    tg
}
