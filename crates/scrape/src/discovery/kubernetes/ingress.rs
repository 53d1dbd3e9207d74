//! `role: ingress`: one target per path of each rule, addressed by the rule's host; the
//! scheme is `https` when a TLS entry covers the host. Source `ingress/<namespace>/<name>`.

use k8s_openapi::api::networking::v1::Ingress;

use super::labels::{self, set, ADDRESS, NAMESPACE};
use super::store::Cache;
use super::Options;
use crate::discovery::{LabelSet, TargetGroup};

pub(crate) fn source(ns: &str, name: &str) -> String {
    format!("ingress/{ns}/{name}")
}

/// Whether a TLS host entry covers `host`; `*.example.com` covers exactly one more label.
fn tls_covers(pattern: &str, host: &str) -> bool {
    if pattern == host {
        return true;
    }
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .split_once('.')
            .is_some_and(|(first, rest)| !first.is_empty() && rest == suffix),
        None => false,
    }
}

pub(crate) fn build(ing: &Ingress, cache: &Cache, opts: &Options) -> TargetGroup {
    let ns = labels::namespace_of(&ing.metadata);
    let mut tg = TargetGroup {
        source: source(&ns, &labels::name_of(&ing.metadata)),
        ..TargetGroup::default()
    };
    tg.labels.insert(NAMESPACE.to_owned(), ns.clone());
    labels::add_object_meta(&mut tg.labels, &ing.metadata, "ingress");
    opts.add_namespace_metadata(&mut tg.labels, &ns, cache);
    let Some(spec) = ing.spec.as_ref() else {
        return tg;
    };
    if let Some(class) = &spec.ingress_class_name {
        set(&mut tg.labels, "ingress_class_name", class.clone());
    }
    let tls_hosts: Vec<&str> = spec
        .tls
        .iter()
        .flatten()
        .flat_map(|t| t.hosts.iter().flatten())
        .map(String::as_str)
        .collect();
    for rule in spec.rules.iter().flatten() {
        let host = rule.host.clone().unwrap_or_default();
        let scheme = if tls_hosts.iter().any(|p| tls_covers(p, &host)) {
            "https"
        } else {
            "http"
        };
        let paths: Vec<String> = match &rule.http {
            None => vec!["/".to_owned()],
            Some(h) => h
                .paths
                .iter()
                .map(|p| match p.path.as_deref() {
                    None | Some("") => "/".to_owned(),
                    Some(p) => p.to_owned(),
                })
                .collect(),
        };
        for path in paths {
            let mut t = LabelSet::new();
            t.insert(ADDRESS.to_owned(), host.clone());
            set(&mut t, "ingress_scheme", scheme);
            set(&mut t, "ingress_host", host.clone());
            set(&mut t, "ingress_path", path);
            tg.targets.push(t);
        }
    }
    tg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_tls_hosts_cover_one_label() {
        assert!(tls_covers("*.example.com", "shop.example.com"));
        assert!(!tls_covers("*.example.com", "a.b.example.com"));
        assert!(!tls_covers("*.example.com", "example.com"));
        assert!(tls_covers("example.com", "example.com"));
    }
}
