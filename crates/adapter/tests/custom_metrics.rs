//! custom.metrics.k8s.io over real HTTPS: discovery, object / many objects / namespace /
//! root-scoped requests, both API versions, selectors and 404 Status bodies.
#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;

const TS: &str = "2023-11-14T22:13:20Z";
const V2: &str = "/apis/custom.metrics.k8s.io/v1beta2";
const V1: &str = "/apis/custom.metrics.k8s.io/v1beta1";

fn pod_item(name: &str, metric: &str, value: &str, window: Option<i64>) -> serde_json::Value {
    let mut v = json!({
        "describedObject": {"kind": "Pod", "namespace": "default", "name": name, "apiVersion": "v1"},
        "metric": {"name": metric, "selector": null},
        "timestamp": TS,
        "value": value,
    });
    if let Some(w) = window {
        v["windowSeconds"] = json!(w);
    }
    v
}

#[tokio::test]
async fn discovery_documents() {
    let srv = start(cluster_fixture(), Setup::default()).await;
    let (code, groups) = srv.get("/apis").await;
    assert_eq!(code, 200);
    assert_eq!(groups["kind"], "APIGroupList");
    let names: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "custom.metrics.k8s.io",
            "external.metrics.k8s.io",
            "metrics.k8s.io"
        ]
    );
    let (_, g) = srv.get("/apis/custom.metrics.k8s.io").await;
    assert_eq!(
        g,
        json!({
            "kind": "APIGroup", "apiVersion": "v1", "name": "custom.metrics.k8s.io",
            "versions": [
                {"groupVersion": "custom.metrics.k8s.io/v1beta2", "version": "v1beta2"},
                {"groupVersion": "custom.metrics.k8s.io/v1beta1", "version": "v1beta1"},
            ],
            "preferredVersion": {"groupVersion": "custom.metrics.k8s.io/v1beta2", "version": "v1beta2"},
        })
    );
    // Discovery is served from the last snapshot; build it first.
    srv.state.refresh().await.unwrap();
    let (code, list) = srv.get(V2).await;
    assert_eq!(code, 200);
    assert_eq!(list["kind"], "APIResourceList");
    assert_eq!(list["apiVersion"], "v1");
    assert_eq!(list["groupVersion"], "custom.metrics.k8s.io/v1beta2");
    let res = list["resources"].as_array().unwrap();
    let find = |n: &str| res.iter().find(|r| r["name"] == n).cloned();
    assert_eq!(
        find("pods/http_requests").unwrap(),
        json!({"name": "pods/http_requests", "singularName": "", "namespaced": true,
               "kind": "MetricValueList", "verbs": ["get"]})
    );
    assert_eq!(
        find("namespaces/http_requests").unwrap()["namespaced"],
        false
    );
    assert!(find("services/http_requests").is_some());
    assert!(find("pods/cpu_usage").is_some());
    assert!(find("pods/memory_working_set_bytes").is_some());
    assert!(
        find("pods/queue_depth").is_none(),
        "queue_depth has no pod label"
    );
    assert!(find("namespaces/queue_depth").is_some());
    let (_, v1) = srv.get(V1).await;
    assert_eq!(v1["groupVersion"], "custom.metrics.k8s.io/v1beta1");
    assert_eq!(v1["resources"], list["resources"]);
    let (code, _) = srv.get("/apis/custom.metrics.k8s.io/v2").await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn many_pods_v1beta2_exact_json() {
    let srv = start(cluster_fixture(), Setup::default()).await;
    let (code, body) = srv
        .get(&format!("{V2}/namespaces/default/pods/*/http_requests"))
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "kind": "MetricValueList",
            "apiVersion": "custom.metrics.k8s.io/v1beta2",
            "metadata": {},
            "items": [
                pod_item("web-1", "http_requests", "10500m", Some(120)),
                pod_item("web-2", "http_requests", "1500m", Some(120)),
            ]
        })
    );
    // Byte-level: key order as Kubernetes' Go structs serialize.
    let (_, raw) = srv
        .get_text(&format!("{V2}/namespaces/default/pods/web-2/http_requests"))
        .await;
    assert_eq!(
        raw,
        r#"{"kind":"MetricValueList","apiVersion":"custom.metrics.k8s.io/v1beta2","metadata":{},"items":[{"describedObject":{"kind":"Pod","namespace":"default","name":"web-2","apiVersion":"v1"},"metric":{"name":"http_requests","selector":null},"timestamp":"2023-11-14T22:13:20Z","windowSeconds":120,"value":"1500m"}]}"#
    );
}

#[tokio::test]
async fn v1beta1_shape() {
    let srv = start(cluster_fixture(), Setup::default()).await;
    let (code, body) = srv
        .get(&format!(
            "{V1}/namespaces/default/pods/*/http_requests?metricLabelSelector=code%3D200"
        ))
        .await;
    assert_eq!(code, 200, "{body}");
    let sel = json!({"matchLabels": {"code": "200"}});
    assert_eq!(
        body,
        json!({
            "kind": "MetricValueList",
            "apiVersion": "custom.metrics.k8s.io/v1beta1",
            "metadata": {},
            "items": [
                {"describedObject": {"kind": "Pod", "namespace": "default", "name": "web-1", "apiVersion": "v1"},
                 "metricName": "http_requests", "timestamp": TS, "window": 120, "value": "10", "selector": sel},
                {"describedObject": {"kind": "Pod", "namespace": "default", "name": "web-2", "apiVersion": "v1"},
                 "metricName": "http_requests", "timestamp": TS, "window": 120, "value": "1500m", "selector": sel},
            ]
        })
    );
}

#[tokio::test]
async fn single_object_namespace_and_cadvisor_metrics() {
    let srv = start(cluster_fixture(), Setup::default()).await;
    let (code, body) = srv
        .get(&format!("{V2}/namespaces/default/pods/web-1/cpu_usage"))
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        body["items"],
        json!([pod_item("web-1", "cpu_usage", "260m", Some(120))])
    );

    let (_, body) = srv
        .get(&format!(
            "{V2}/namespaces/default/pods/*/memory_working_set_bytes"
        ))
        .await;
    assert_eq!(
        body["items"],
        json!([
            pod_item("web-1", "memory_working_set_bytes", "150994944", None),
            pod_item("web-2", "memory_working_set_bytes", "67108864", None),
        ])
    );

    // Metrics about a namespace.
    let (code, body) = srv
        .get(&format!("{V2}/namespaces/default/metrics/http_requests"))
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        body["items"],
        json!([{
            "describedObject": {"kind": "Namespace", "name": "default", "apiVersion": "v1"},
            "metric": {"name": "http_requests", "selector": null},
            "timestamp": TS, "windowSeconds": 120, "value": "12"
        }])
    );
    // Services (override label `service`).
    let (_, body) = srv
        .get(&format!(
            "{V2}/namespaces/default/services/web/http_requests"
        ))
        .await;
    assert_eq!(body["items"][0]["describedObject"]["kind"], "Service");
    assert_eq!(body["items"][0]["value"], "12");
}

#[tokio::test]
async fn not_found_status_bodies() {
    let srv = start(cluster_fixture(), Setup::default()).await;
    let (code, body) = srv
        .get(&format!("{V2}/namespaces/default/pods/*/no_such_metric"))
        .await;
    assert_eq!(code, 404);
    assert_eq!(
        body,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "the server could not find the metric no_such_metric for pods",
               "reason": "NotFound", "code": 404})
    );
    let (code, body) = srv
        .get(&format!("{V2}/namespaces/default/pods/ghost/http_requests"))
        .await;
    assert_eq!(code, 404);
    assert_eq!(
        body["message"],
        "the server could not find the metric http_requests for pods ghost"
    );
    assert_eq!(body["details"], json!({"name": "ghost", "kind": "pods"}));
    // A namespaced metric asked for without a namespace.
    let (code, _) = srv.get(&format!("{V2}/pods/*/http_requests")).await;
    assert_eq!(code, 404);
    let (code, body) = srv.get(&format!("{V2}/a/b/c/d/e/f")).await;
    assert_eq!((code, body["reason"].clone()), (404, json!("NotFound")));
}

#[tokio::test]
async fn label_selectors_without_object_source_match_series_labels() {
    let srv = start(cluster_fixture(), Setup::default()).await;
    let (_, body) = srv
        .get(&format!(
            "{V2}/namespaces/default/pods/*/http_requests?labelSelector=service%3Dweb"
        ))
        .await;
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    let (code, body) = srv
        .get(&format!(
            "{V2}/namespaces/default/pods/*/http_requests?labelSelector=app%3Dweb"
        ))
        .await;
    assert_eq!(code, 200);
    assert_eq!(body["items"], json!([]));
    let (_, body) = srv
        .get(&format!(
            "{V2}/namespaces/default/pods/*/http_requests?metricLabelSelector=code+in+(500)"
        ))
        .await;
    assert_eq!(
        body["items"],
        json!([pod_item("web-1", "http_requests", "500m", Some(120))
            .as_object()
            .map(|o| {
                let mut o = o.clone();
                o["metric"] = json!({"name": "http_requests", "selector": {
                "matchExpressions": [{"key": "code", "operator": "In", "values": ["500"]}]}});
                serde_json::Value::Object(o)
            })
            .unwrap()])
    );
}

#[tokio::test]
async fn label_selectors_resolve_through_kube_state_metrics() {
    let s = cluster_fixture();
    for (pod, app) in [("web-1", "web"), ("web-2", "batch")] {
        gauge(
            &s,
            &[
                ("__name__", "kube_pod_labels"),
                ("namespace", "default"),
                ("pod", pod),
                ("label_app", app),
                ("label_app_kubernetes_io_name", "shop"),
            ],
            1.0,
        );
    }
    let srv = start(s, Setup::default()).await;
    let (code, body) = srv
        .get(&format!(
            "{V2}/namespaces/default/pods/*/http_requests?labelSelector=app%3Dweb"
        ))
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        body["items"],
        json!([pod_item("web-1", "http_requests", "10500m", Some(120))])
    );
    // Qualified keys are looked up under kube-state-metrics' sanitized name.
    let (_, body) = srv
        .get(&format!(
            "{V2}/namespaces/default/pods/*/http_requests?labelSelector=app.kubernetes.io%2Fname%3Dshop,app+notin+(web)"
        ))
        .await;
    assert_eq!(
        body["items"],
        json!([pod_item("web-2", "http_requests", "1500m", Some(120))])
    );
    let (_, dbg) = srv
        .get("/debug/metrics/http_requests?namespace=default&labelSelector=app%3Dweb")
        .await;
    assert_eq!(dbg["labelSelectorResolvedBy"], "kube-state-metrics");
    assert_eq!(dbg["rule"], "rules[4]");
    assert_eq!(
        dbg["query"],
        r#"sum(rate(http_requests_total{namespace="default",pod=~"web-1"}[2m])) by (pod)"#
    );
    assert_eq!(dbg["raw"][0]["labels"], json!({"pod": "web-1"}));
}

#[tokio::test]
async fn bad_selectors_are_400() {
    let srv = start(cluster_fixture(), Setup::default()).await;
    for (q, needle) in [
        (
            "labelSelector=app%3D%3D%3Dx",
            "labelSelector: unable to parse requirement",
        ),
        ("labelSelector=app+in+web", "expected: '('"),
        (
            "metricLabelSelector=app.kubernetes.io%2Fname%3Dx",
            "not a valid Prometheus label name",
        ),
        ("metricLabelSelector=n%3E3", "cannot be translated"),
    ] {
        let (code, body) = srv
            .get(&format!("{V2}/namespaces/default/pods/*/http_requests?{q}"))
            .await;
        assert_eq!(code, 400, "{q}: {body}");
        assert_eq!(body["reason"], "BadRequest");
        assert!(
            body["message"].as_str().unwrap().contains(needle),
            "{q}: {body}"
        );
    }
}

#[tokio::test]
async fn root_scoped_nodes_and_on_absent() {
    let config = r#"
rules:
- seriesQuery: '{__name__="node_load1",node!=""}'
  resources: {overrides: {node: {resource: node}}}
  on_absent: zero
- seriesQuery: '{__name__="http_requests_total",namespace!="",pod!=""}'
  resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
  name: {matches: "^(.*)_total$", as: "${1}_per_second"}
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)'
  on_absent: zero
"#;
    let srv = start(
        cluster_fixture(),
        Setup {
            config: Some(config.into()),
            ..Setup::default()
        },
    )
    .await;
    let (code, body) = srv.get(&format!("{V2}/nodes/*/node_load1")).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        body["items"],
        json!([{
            "describedObject": {"kind": "Node", "name": "n1", "apiVersion": "v1"},
            "metric": {"name": "node_load1", "selector": null},
            "timestamp": TS, "value": "750m"
        }])
    );
    let (_, body) = srv.get(&format!("{V2}/nodes/n9/node_load1")).await;
    assert_eq!(body["items"][0]["value"], "0", "on_absent: zero");
    assert_eq!(body["items"][0]["describedObject"]["name"], "n9");
    let (_, body) = srv
        .get(&format!(
            "{V2}/namespaces/default/pods/ghost/http_requests_per_second"
        ))
        .await;
    assert_eq!(body["items"][0]["value"], "0");
    assert_eq!(body["items"][0]["windowSeconds"], 60);
}
