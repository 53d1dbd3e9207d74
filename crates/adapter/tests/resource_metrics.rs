//! metrics.k8s.io (what `kubectl top` and CPU/memory HPAs read) over real HTTPS, from
//! cAdvisor fixtures.
#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;

const TS: &str = "2023-11-14T22:13:20Z";
const M: &str = "/apis/metrics.k8s.io/v1beta1";

fn web1() -> serde_json::Value {
    json!({
        "metadata": {"name": "web-1", "namespace": "default", "creationTimestamp": TS},
        "timestamp": TS, "window": "2m0s",
        "containers": [
            {"name": "app", "usage": {"cpu": "250m", "memory": "128Mi"}},
            {"name": "sidecar", "usage": {"cpu": "10m", "memory": "16Mi"}},
        ]
    })
}

fn web2() -> serde_json::Value {
    json!({
        "metadata": {"name": "web-2", "namespace": "default", "creationTimestamp": TS},
        "timestamp": TS, "window": "2m0s",
        "containers": [{"name": "app", "usage": {"cpu": "500m", "memory": "64Mi"}}]
    })
}

#[tokio::test]
async fn node_metrics() {
    let srv = start(cluster_fixture(), Setup::default()).await;
    let (code, body) = srv.get(&format!("{M}/nodes")).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "kind": "NodeMetricsList", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {},
            "items": [
                {"metadata": {"name": "n1", "creationTimestamp": TS}, "timestamp": TS,
                 "window": "2m0s", "usage": {"cpu": "1500m", "memory": "2Gi"}},
                {"metadata": {"name": "n2", "creationTimestamp": TS}, "timestamp": TS,
                 "window": "2m0s", "usage": {"cpu": "750m", "memory": "3000000000"}},
            ]
        })
    );
    let (code, raw) = srv.get_text(&format!("{M}/nodes/n2")).await;
    assert_eq!(code, 200);
    assert_eq!(
        raw,
        r#"{"kind":"NodeMetrics","apiVersion":"metrics.k8s.io/v1beta1","metadata":{"name":"n2","creationTimestamp":"2023-11-14T22:13:20Z"},"timestamp":"2023-11-14T22:13:20Z","window":"2m0s","usage":{"cpu":"750m","memory":"3000000000"}}"#
    );
    let (code, body) = srv.get(&format!("{M}/nodes/n9")).await;
    assert_eq!(code, 404);
    assert_eq!(
        body,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "nodes.metrics.k8s.io \"n9\" not found", "reason": "NotFound",
               "details": {"name": "n9", "group": "metrics.k8s.io", "kind": "nodes"}, "code": 404})
    );
    let (_, body) = srv
        .get(&format!("{M}/nodes?fieldSelector=metadata.name%3Dn1"))
        .await;
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    let (_, body) = srv.get(&format!("{M}/nodes?labelSelector=node%3Dn2")).await;
    assert_eq!(body["items"][0]["metadata"]["name"], "n2");
}

#[tokio::test]
async fn pod_metrics() {
    let srv = start(cluster_fixture(), Setup::default()).await;
    let (code, body) = srv.get(&format!("{M}/namespaces/default/pods")).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        body,
        json!({"kind": "PodMetricsList", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {},
               "items": [web1(), web2()]})
    );
    let (_, all) = srv.get(&format!("{M}/pods")).await;
    let items = all["items"].as_array().unwrap_or_else(|| panic!("{all}"));
    assert_eq!(items.len(), 3);
    assert_eq!(
        items[0]["containers"],
        json!([{"name": "app", "usage": {"cpu": "250m", "memory": "128Mi"}},
               {"name": "sidecar", "usage": {"cpu": "10m", "memory": "16Mi"}}])
    );
    let dns = items
        .iter()
        .find(|i| i["metadata"]["name"] == "dns-1")
        .unwrap();
    assert_eq!(dns["metadata"]["namespace"], "kube-system");
    assert_eq!(
        dns["containers"],
        json!([{"name": "coredns", "usage": {"cpu": "2m", "memory": "20000000"}}])
    );
    let (code, one) = srv.get(&format!("{M}/namespaces/default/pods/web-2")).await;
    assert_eq!(code, 200);
    let mut want = web2();
    want["kind"] = json!("PodMetrics");
    want["apiVersion"] = json!("metrics.k8s.io/v1beta1");
    assert_eq!(one, want);
    let (code, body) = srv.get(&format!("{M}/namespaces/default/pods/ghost")).await;
    assert_eq!(code, 404);
    assert_eq!(
        body["message"],
        "pods.metrics.k8s.io \"default/ghost\" not found"
    );
    let (_, body) = srv
        .get(&format!(
            "{M}/pods?fieldSelector=metadata.namespace%3Dkube-system"
        ))
        .await;
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    let (_, body) = srv
        .get(&format!(
            "{M}/namespaces/default/pods?fieldSelector=metadata.name!%3Dweb-1"
        ))
        .await;
    assert_eq!(body["items"], json!([web2()]));
    let (code, body) = srv
        .get(&format!("{M}/pods?fieldSelector=spec.nodeName%3Dn1"))
        .await;
    assert_eq!(code, 400);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("field label not supported"));
}

#[tokio::test]
async fn pod_label_selector_via_kube_state_metrics() {
    let s = cluster_fixture();
    gauge(
        &s,
        &[
            ("__name__", "kube_pod_labels"),
            ("namespace", "default"),
            ("pod", "web-2"),
            ("label_tier", "api"),
        ],
        1.0,
    );
    let srv = start(s, Setup::default()).await;
    let (_, body) = srv
        .get(&format!(
            "{M}/namespaces/default/pods?labelSelector=tier%3Dapi"
        ))
        .await;
    assert_eq!(body["items"], json!([web2()]));
    let (_, body) = srv
        .get(&format!(
            "{M}/namespaces/default/pods?labelSelector=tier%3Dnone"
        ))
        .await;
    assert_eq!(body["items"], json!([]));
}

#[tokio::test]
async fn without_resource_rules_the_group_is_not_served() {
    let srv = start(
        cluster_fixture(),
        Setup {
            config: Some("rules: []".into()),
            ..Setup::default()
        },
    )
    .await;
    let (_, groups) = srv.get("/apis").await;
    assert_eq!(groups["groups"].as_array().unwrap().len(), 2);
    let (code, body) = srv.get(&format!("{M}/nodes")).await;
    assert_eq!(code, 404);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("no resourceRules"));
}
