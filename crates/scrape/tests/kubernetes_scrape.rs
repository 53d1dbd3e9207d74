//! End to end: the `kubernetes-pods` job of `examples/kubernetes.yml`, pointed at a fake
//! API server, discovers annotated pods, and the scrape manager scrapes them where the
//! `prometheus.io/{scrape,port,path,scheme}` annotations say.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
mod k8s_api;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use argus_model::memstore::MemStorage;
use argus_scrape::config::load_str;
use argus_scrape::ScrapeManager;
use common::*;
use k8s_api::{start, Script};
use serde_json::json;

fn pod(name: &str, annotations: serde_json::Value, ports: serde_json::Value) -> serde_json::Value {
    json!({
        "metadata": {"name": name, "namespace": "demo", "uid": format!("uid-{name}"),
                     "resourceVersion": "10", "labels": {"app": name}, "annotations": annotations},
        "spec": {
            "nodeName": "worker-1",
            "initContainers": [{"name": "migrate", "image": "demo/migrate:1"}],
            "containers": [{"name": "app", "image": "demo/app:1", "ports": ports}]
        },
        "status": {"phase": "Running", "podIP": "127.0.0.1", "hostIP": "127.0.0.1",
                   "conditions": [{"type": "Ready", "status": "True"}]}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn annotated_pods_of_the_example_config_are_scraped() {
    let metrics = serve(Arc::new(|r: &Request| {
        if r.path == "/custom/metrics" {
            Response::text("# TYPE demo_requests_total counter\ndemo_requests_total 42\n")
        } else {
            Response {
                status: 404,
                ..Response::text("not found\n")
            }
        }
    }))
    .await;
    let port = metrics.addr.port().to_string();
    let closed = free_port().to_string();
    let pods = json!({
        "kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "11"},
        "items": [
            pod("web", json!({"prometheus.io/scrape": "true", "prometheus.io/port": port,
                              "prometheus.io/path": "/custom/metrics"}),
                json!([{"name": "http", "containerPort": 8080, "protocol": "TCP"},
                       {"name": "admin", "containerPort": 8081, "protocol": "TCP"}])),
            pod("quiet", json!({}), json!([{"name": "http", "containerPort": 8080}])),
            pod("secure", json!({"prometheus.io/scrape": "true", "prometheus.io/port": closed,
                                 "prometheus.io/scheme": "https"}),
                json!([{"name": "https", "containerPort": 8443}])),
        ]
    });
    let api = start(vec![("/api/v1/pods", Script::list(pods.to_string()))]).await;

    // The example's job, with the API server, credentials and a short interval filled in.
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/kubernetes.yml"),
    )
    .unwrap();
    let mut doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let jobs = doc["scrape_configs"].as_sequence_mut().unwrap();
    jobs.retain(|j| j["job_name"].as_str() == Some("kubernetes-pods"));
    let job = &mut jobs[0];
    job["scrape_interval"] = "300ms".into();
    job["scrape_timeout"] = "250ms".into();
    job["kubernetes_sd_configs"] = serde_yaml_ng::from_str(&format!(
        "- role: pod\n  api_server: {}\n  authorization:\n    credentials_file: {}\n  tls_config:\n    ca_file: {}\n",
        api.url,
        api.token_file().display(),
        api.ca_file.display()
    ))
    .unwrap();
    doc.as_mapping_mut().unwrap().remove("rule_files");
    let cfg = load_str(&serde_yaml_ng::to_string(&doc).unwrap(), "example.yml").unwrap();

    let store = MemStorage::new();
    let m = ScrapeManager::new(Arc::new(store.clone()), &prometheus::Registry::new());
    m.apply_config(&cfg).await.unwrap();
    let r = m.clone();
    tokio::spawn(async move { r.run().await });

    let addr = format!("127.0.0.1:{port}");
    let key = format!(
        "demo_requests_total{{app=\"web\", instance=\"{addr}\", job=\"kubernetes-pods\", namespace=\"demo\", pod=\"web\"}}"
    );
    let d = wait_for(Duration::from_secs(30), || {
        let d = dump(&store);
        d.contains_key(&key).then_some(d)
    })
    .await
    .unwrap_or_else(|| panic!("not scraped: {:?}", m.active_targets()));
    assert_eq!(d[&key].last().unwrap().1, 42.0);
    assert!(metrics
        .requests
        .lock()
        .iter()
        .all(|r| r.path == "/custom/metrics"));

    // Two container ports collapse into one target on the annotated port; the init
    // container's target and the pod without the annotation are dropped.
    let active = m.active_targets();
    let mut urls: Vec<&str> = active.iter().map(|t| t.scrape_url.as_str()).collect();
    urls.sort();
    assert_eq!(
        urls,
        [
            format!("http://{addr}/custom/metrics"),
            format!("https://127.0.0.1:{closed}/metrics"),
        ]
    );
    let web = active
        .iter()
        .find(|t| t.labels.get("pod").map(String::as_str) == Some("web"))
        .unwrap();
    assert_eq!(
        web.discovered_labels["__meta_kubernetes_pod_annotation_prometheus_io_path"],
        "/custom/metrics"
    );
    assert_eq!(web.health, "up");
    let dropped = m.dropped_targets();
    assert!(dropped.iter().any(|t| {
        t.discovered_labels
            .get("__meta_kubernetes_pod_name")
            .map(String::as_str)
            == Some("quiet")
    }));
    assert!(dropped.iter().any(|t| {
        t.discovered_labels
            .get("__meta_kubernetes_pod_container_init")
            .map(String::as_str)
            == Some("true")
    }));
    m.shutdown();
}
