use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Endpoints, Service};
use serde_json::json;

use super::*;
use crate::config::load_str;

fn sd(body: &str) -> KubernetesSdConfig {
    let mut yaml = String::from("scrape_configs:\n  - job_name: k\n    kubernetes_sd_configs:\n");
    for l in body.lines() {
        yaml.push_str("      ");
        yaml.push_str(l);
        yaml.push('\n');
    }
    let cfg = load_str(&yaml, "k.yml").unwrap();
    cfg.scrape_configs[0].kubernetes_sd_configs[0].clone()
}

#[test]
fn namespaces_default_to_all_and_include_the_own_one() {
    assert_eq!(namespaces(&sd("- role: pod\n"), None), vec![None]);
    let c = sd("- role: pod\n  namespaces:\n    names: [b, a, b]\n");
    assert_eq!(
        namespaces(&c, None),
        vec![Some("a".into()), Some("b".into())]
    );
    let c = sd("- role: pod\n  namespaces:\n    own_namespace: true\n    names: [a]\n");
    assert_eq!(
        namespaces(&c, Some("mon")),
        vec![Some("a".into()), Some("mon".into())]
    );
    let c = sd("- role: pod\n  namespaces:\n    own_namespace: true\n");
    assert_eq!(namespaces(&c, Some("mon")), vec![Some("mon".into())]);
}

#[test]
fn roles_watch_what_their_labels_need() {
    let kinds = |c: &KubernetesSdConfig, ns: &[Option<String>]| -> Vec<(Kind, Option<String>)> {
        watch_specs(c, ns)
            .into_iter()
            .map(|s| (s.kind, s.namespace))
            .collect()
    };
    let two = [Some("a".to_owned()), Some("b".to_owned())];
    let c = sd("- role: endpoints\n  attach_metadata:\n    node: true\n    namespace: true\n");
    let got = kinds(&c, &two);
    assert_eq!(got.len(), 8, "{got:?}");
    for k in [Kind::Endpoints, Kind::Service, Kind::Pod] {
        assert!(got.contains(&(k, Some("a".into()))) && got.contains(&(k, Some("b".into()))));
    }
    assert!(got.contains(&(Kind::Node, None)) && got.contains(&(Kind::Namespace, None)));
    // Node metadata only where Prometheus attaches it; nodes are cluster-scoped.
    let c = sd("- role: service\n  attach_metadata:\n    node: true\n");
    assert_eq!(kinds(&c, &[None]), vec![(Kind::Service, None)]);
    let c = sd("- role: node\n  namespaces:\n    names: [a]\n");
    assert_eq!(kinds(&c, &two), vec![(Kind::Node, None)]);
}

fn service(ns: &str, name: &str) -> Obj {
    let s: Service = serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": ns, "labels": {"team": "x"}},
        "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.9", "ports": [{"name": "web", "port": 80, "protocol": "TCP"}]}
    }))
    .unwrap();
    Obj::Service(Box::new(s))
}

fn endpoints(ns: &str, name: &str) -> Obj {
    let e: Endpoints = serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": ns},
        "subsets": [{"addresses": [{"ip": "10.1.0.1"}], "ports": [{"name": "web", "port": 80, "protocol": "TCP"}]}]
    }))
    .unwrap();
    Obj::Endpoints(Box::new(e))
}

fn sync_for(role: KubernetesRole) -> Sync {
    Sync {
        role,
        opts: Options::default(),
        specs: Vec::new(),
        states: Vec::new(),
        cache: Cache::default(),
        sent: BTreeMap::new(),
        initial_sent: false,
    }
}

fn key(ns: &str, name: &str) -> Key {
    (ns.to_owned(), name.to_owned())
}

#[test]
fn related_changes_rebuild_the_groups_of_their_namespace() {
    let mut s = sync_for(KubernetesRole::Endpoints);
    for o in [
        endpoints("a", "web"),
        endpoints("a", "db"),
        endpoints("b", "web"),
    ] {
        s.cache.apply(o);
    }
    let changed = BTreeSet::from([(Kind::Service, key("a", "web"))]);
    assert_eq!(
        s.affected(&changed),
        BTreeSet::from([key("a", "db"), key("a", "web")])
    );
    let changed = BTreeSet::from([(Kind::Namespace, key("", "b"))]);
    assert_eq!(s.affected(&changed), BTreeSet::from([key("b", "web")]));
    let changed = BTreeSet::from([(Kind::Node, key("", "n1"))]);
    assert_eq!(s.affected(&changed).len(), 3);
    let changed = BTreeSet::from([(Kind::Endpoints, key("b", "web"))]);
    assert_eq!(s.affected(&changed), BTreeSet::from([key("b", "web")]));
}

#[test]
fn only_changed_groups_are_sent_and_deletions_once() {
    let mut s = sync_for(KubernetesRole::Endpoints);
    s.cache.apply(endpoints("a", "web"));
    let first = s.updates(s.all_keys());
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].source, "endpoints/a/web");
    // Rebuilding unchanged objects sends nothing.
    assert!(s.updates(s.all_keys()).is_empty());
    // A new service adds its labels to the endpoints' group.
    s.cache.apply(service("a", "web"));
    let u = s.updates(BTreeSet::from([key("a", "web")]));
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].labels["__meta_kubernetes_service_label_team"], "x");
    // A deleted object sends one empty group, then nothing.
    s.cache.delete(&endpoints("a", "web"));
    let u = s.updates(s.all_keys());
    assert_eq!(u.len(), 1);
    assert!(u[0].targets.is_empty() && u[0].source == "endpoints/a/web");
    assert!(s.updates(s.all_keys()).is_empty());
}

#[test]
fn a_relist_replaces_only_its_own_scope() {
    let mut c = Cache::default();
    c.apply(endpoints("a", "x"));
    c.apply(endpoints("b", "y"));
    let touched = c.replace(Kind::Endpoints, Some("a"), vec![endpoints("a", "z")]);
    assert_eq!(touched, BTreeSet::from([key("a", "x"), key("a", "z")]));
    assert_eq!(c.keys(Kind::Endpoints), vec![key("a", "z"), key("b", "y")]);
    let touched = c.replace(Kind::Endpoints, None, Vec::new());
    assert_eq!(touched.len(), 2);
    assert!(c.keys(Kind::Endpoints).is_empty());
}
