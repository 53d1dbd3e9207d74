//! Latency of the Kubernetes metrics APIs over a real TSDB (`argus_tsdb::Db`), measured
//! through the adapter's router in-process (request parsing, metric lookup, PromQL,
//! JSON), without TLS:
//!
//! - `custom_pods_1k`: `GET …/namespaces/load/pods/*/http_requests` over 1,000 pods
//!   (a rate over 10 minutes of 15 s scrapes per pod);
//! - `custom_pods_1k_ksm_selector`: the same with `labelSelector=app=web` resolved through
//!   kube-state-metrics' `kube_pod_labels` (1,000 pods, half of them selected);
//! - `pod_metrics_5k_containers`: `GET /apis/metrics.k8s.io/v1beta1/namespaces/load/pods`
//!   over 1,000 pods × 5 containers (cAdvisor CPU counters and memory gauges);
//! - `node_metrics_100`: `GET /apis/metrics.k8s.io/v1beta1/nodes` over 100 nodes.
//!
//! It also prints the resident memory the adapter adds on top of the loaded TSDB
//! (state, metric registry snapshot, one pass over every request).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::sync::Arc;

use argus_adapter::{router, AdapterConfig, AdapterOptions, AdapterState, AuthConfig};
use argus_model::{Appendable, Labels};
use argus_query::Engine;
use axum::body::Body;
use axum::http::Request;
use criterion::{criterion_group, criterion_main, Criterion};
use tower::ServiceExt;

const NOW: i64 = 1_700_000_000_000;
const STEP: i64 = 15_000;
const PODS: usize = 1_000;
const CONTAINERS: usize = 5;
const NODES: usize = 100;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4)
}

fn load(db: &argus_tsdb::Db) {
    let mut series: Vec<(Labels, f64, bool)> = Vec::new();
    for p in 0..PODS {
        let pod = format!("pod-{p:04}");
        let node = format!("node-{:03}", p % NODES);
        series.push((
            Labels::from_pairs(&[
                ("__name__", "http_requests_total"),
                ("namespace", "load"),
                ("pod", pod.as_str()),
                ("service", "web"),
            ]),
            1.0 + (p % 7) as f64,
            true,
        ));
        let app = if p % 2 == 0 { "web" } else { "batch" };
        series.push((
            Labels::from_pairs(&[
                ("__name__", "kube_pod_labels"),
                ("namespace", "load"),
                ("pod", pod.as_str()),
                ("label_app", app),
            ]),
            1.0,
            false,
        ));
        for c in 0..CONTAINERS {
            let container = format!("c{c}");
            let base = [
                ("namespace", "load"),
                ("pod", pod.as_str()),
                ("container", container.as_str()),
                ("node", node.as_str()),
                ("id", "/kubepods/x"),
            ];
            let mut cpu = vec![("__name__", "container_cpu_usage_seconds_total")];
            cpu.extend(base);
            series.push((Labels::from_pairs(&cpu), 0.01 * (1 + c) as f64, true));
            let mut mem = vec![("__name__", "container_memory_working_set_bytes")];
            mem.extend(base);
            series.push((Labels::from_pairs(&mem), (64 << 20) as f64, false));
        }
    }
    for n in 0..NODES {
        let node = format!("node-{n:03}");
        series.push((
            Labels::from_pairs(&[
                ("__name__", "container_cpu_usage_seconds_total"),
                ("id", "/"),
                ("node", node.as_str()),
            ]),
            2.5,
            true,
        ));
        series.push((
            Labels::from_pairs(&[
                ("__name__", "container_memory_working_set_bytes"),
                ("id", "/"),
                ("node", node.as_str()),
            ]),
            (16u64 << 30) as f64,
            false,
        ));
    }
    for k in 0..=40 {
        let t = NOW - 600_000 + k * STEP;
        let mut app = db.appender();
        for (labels, v, counter) in &series {
            let value = if *counter {
                v * (k * STEP / 1000) as f64
            } else {
                *v
            };
            app.append(None, labels, t, value).unwrap();
        }
        app.commit().unwrap();
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let reg = prometheus::Registry::new();
    let opts = argus_tsdb::Options {
        auto_compaction: false,
        ..argus_tsdb::Options::default()
    };
    let db = argus_tsdb::Db::open(dir.path(), opts, &reg).unwrap();
    load(&db);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let before = rss_kib();
    let state = AdapterState::new(
        Arc::new(db),
        Engine::default(),
        AdapterConfig::embedded_default().unwrap(),
        AdapterOptions::default(),
        AuthConfig::anonymous(),
        None,
        &reg,
    )
    .unwrap()
    .with_clock(|| NOW);
    let app = router(state.clone());
    let get = |path: &str| {
        let app = app.clone();
        let path = path.to_owned();
        async move {
            let resp = app
                .oneshot(Request::get(path).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap()
        }
    };
    let cases = [
        ("custom_pods_1k", "/apis/custom.metrics.k8s.io/v1beta2/namespaces/load/pods/*/http_requests"),
        (
            "custom_pods_1k_ksm_selector",
            "/apis/custom.metrics.k8s.io/v1beta2/namespaces/load/pods/*/http_requests?labelSelector=app%3Dweb",
        ),
        ("pod_metrics_5k_containers", "/apis/metrics.k8s.io/v1beta1/namespaces/load/pods"),
        ("node_metrics_100", "/apis/metrics.k8s.io/v1beta1/nodes"),
    ];
    rt.block_on(async {
        state.refresh().await.unwrap();
        for (name, path) in cases {
            let body = get(path).await;
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            eprintln!(
                "{name}: {} items, {} bytes of JSON",
                v["items"].as_array().map_or(0, Vec::len),
                body.len()
            );
        }
    });
    eprintln!(
        "adapter memory beyond the TSDB: {} KiB RSS (state, registry snapshot of {} custom + {} external metrics, one pass of every request)",
        rss_kib().saturating_sub(before),
        state.snapshot().custom.len(),
        state.snapshot().external.len()
    );
    let mut g = c.benchmark_group("adapter");
    g.sample_size(20);
    for (name, path) in cases {
        g.bench_function(name, |b| b.iter(|| rt.block_on(get(path))));
    }
    g.bench_function("discovery_v1beta2", |b| {
        b.iter(|| rt.block_on(get("/apis/custom.metrics.k8s.io/v1beta2")))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
