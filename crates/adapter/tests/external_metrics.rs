//! external.metrics.k8s.io over real HTTPS.
#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;

const TS: &str = "2023-11-14T22:13:20Z";
const EXT: &str = "/apis/external.metrics.k8s.io/v1beta1";

#[tokio::test]
async fn default_rules_serve_any_metric() {
    let srv = start(cluster_fixture(), Setup::default()).await;
    let (code, body) = srv
        .get(&format!(
            "{EXT}/namespaces/default/queue_depth?labelSelector=queue%3Djobs"
        ))
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "kind": "ExternalMetricValueList",
            "apiVersion": "external.metrics.k8s.io/v1beta1",
            "metadata": {},
            "items": [{"metricName": "queue_depth", "metricLabels": {}, "timestamp": TS, "value": "42"}]
        })
    );
    let (_, body) = srv
        .get(&format!("{EXT}/namespaces/any/http_requests_per_second"))
        .await;
    assert_eq!(
        body["items"],
        json!([{"metricName": "http_requests_per_second", "metricLabels": {}, "timestamp": TS,
                "window": 120, "value": "12"}])
    );
    srv.state.refresh().await.unwrap();
    let (_, list) = srv.get(EXT).await;
    let names: Vec<&str> = list["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"queue_depth"), "{names:?}");
    assert!(names.contains(&"http_requests_per_second"));
    assert_eq!(list["resources"][0]["kind"], "ExternalMetricValueList");
    assert_eq!(list["resources"][0]["namespaced"], true);
}

#[tokio::test]
async fn namespaced_rules_and_series_labels() {
    let config = r#"
externalRules:
- seriesQuery: '{__name__="queue_depth",queue!=""}'
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (queue)
  resources:
    overrides: { namespace: {resource: "namespace"} }
- seriesQuery: '{__name__="missing_metric_total"}'
  name: {matches: "^(.*)_total$"}
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
    let (_, body) = srv
        .get(&format!("{EXT}/namespaces/workers/queue_depth"))
        .await;
    assert_eq!(
        body["items"],
        json!([
            {"metricName": "queue_depth", "metricLabels": {"queue": "jobs"}, "timestamp": TS, "value": "42"},
            {"metricName": "queue_depth", "metricLabels": {"queue": "mail"}, "timestamp": TS, "value": "7"},
        ])
    );
    // Namespaced by default: another namespace sees nothing.
    let (code, body) = srv
        .get(&format!("{EXT}/namespaces/default/queue_depth"))
        .await;
    assert_eq!((code, body["items"].clone()), (200, json!([])));
    let (code, body) = srv
        .get(&format!(
            "{EXT}/namespaces/workers/queue_depth?labelSelector=queue+notin+(jobs)"
        ))
        .await;
    assert_eq!(code, 200);
    assert_eq!(body["items"][0]["metricLabels"], json!({"queue": "mail"}));
    let (code, body) = srv.get(&format!("{EXT}/namespaces/workers/nope")).await;
    assert_eq!(code, 404);
    assert_eq!(
        body["message"],
        "the server could not find the metric nope for namespaces"
    );
    let (code, body) = srv.get(&format!("{EXT}/namespaces/workers")).await;
    assert_eq!((code, body["reason"].clone()), (404, json!("NotFound")));
}
