//! Alert manager hot paths: routing an alert through a routing tree, and receiving
//! alerts then flushing their aggregation groups through the notification pipeline
//! (mute stages, dedup, outbox enqueue and the state writes), in alerts per second.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;

use argus_alertmanager::route::RouteTree;
use argus_alertmanager::{AlertManager, Config, ManualClock, PostableAlert};
use argus_model::Labels;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

const TREE: &str = include_str!("../../crates/alertmanager/testdata/routing/tree.yml");

fn label_sets(n: usize) -> Vec<Vec<(String, String)>> {
    let teams = ["db", "storage", "web", "webops", "api"];
    let sev = ["critical", "warning", "info"];
    let env = ["prod", "staging", "dev"];
    let svc = ["api-gw", "auth-x", "files", "database"];
    (0..n)
        .map(|i| {
            vec![
                ("alertname".to_owned(), format!("Alert{}", i % 50)),
                ("env".to_owned(), env[i % 3].to_owned()),
                ("instance".to_owned(), format!("host-{i}:9100")),
                ("job".to_owned(), "node".to_owned()),
                ("service".to_owned(), svc[i % 4].to_owned()),
                ("severity".to_owned(), sev[i % 3].to_owned()),
                ("team".to_owned(), teams[i % 5].to_owned()),
            ]
        })
        .collect()
}

fn bench_routing(c: &mut Criterion) {
    let cfg = Config::parse(TREE).unwrap();
    let tree = RouteTree::new(cfg.route.as_ref().unwrap()).unwrap();
    let sets: Vec<Labels> = label_sets(1000)
        .iter()
        .map(|s| Labels::from_pairs(s))
        .collect();
    let mut g = c.benchmark_group("alertmanager_routing");
    g.throughput(Throughput::Elements(sets.len() as u64));
    g.bench_function("match_1000_alerts", |b| {
        b.iter(|| {
            let mut n = 0;
            for l in &sets {
                n += tree.match_labels(l).len();
            }
            n
        })
    });
    g.finish();
}

fn alerts(n: usize) -> Vec<PostableAlert> {
    label_sets(n)
        .into_iter()
        .map(|s| PostableAlert {
            labels: s.into_iter().collect(),
            annotations: [("summary".to_owned(), "bench".to_owned())].into(),
            starts_at: None,
            ends_at: None,
            generator_url: "http://prometheus/graph".into(),
        })
        .collect()
}

fn bench_dispatch(c: &mut Criterion) {
    // Receivers with webhooks so the pipeline builds notifications; nothing is sent
    // (deliveries are not run), which isolates routing + grouping + pipeline + outbox.
    let cfg_text = TREE.replace(
        "- name: default\n",
        "- name: default\n  webhook_configs: [{url: 'http://127.0.0.1:9/'}]\n",
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let mut g = c.benchmark_group("alertmanager_dispatch");
    g.sample_size(10);
    for n in [1_000usize, 10_000] {
        let batch = alerts(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("ingest_{n}_alerts"), |b| {
            b.iter_batched(
                || {
                    let dir = tempfile::tempdir().unwrap();
                    let clock = ManualClock::new(chrono::Utc::now());
                    let am = AlertManager::new(
                        Config::parse(&cfg_text).unwrap(),
                        dir.path(),
                        "http://argus",
                        &prometheus::Registry::new(),
                        Arc::new(clock),
                    )
                    .unwrap();
                    (dir, am, batch.clone())
                },
                |(dir, am, batch)| {
                    am.put_alerts(batch).unwrap();
                    (dir, am)
                },
                BatchSize::PerIteration,
            )
        });
        g.bench_function(format!("ingest_and_flush_{n}_alerts"), |b| {
            b.iter_batched(
                || {
                    let dir = tempfile::tempdir().unwrap();
                    let clock = ManualClock::new(chrono::Utc::now());
                    let am = AlertManager::new(
                        Config::parse(&cfg_text).unwrap(),
                        dir.path(),
                        "http://argus",
                        &prometheus::Registry::new(),
                        Arc::new(clock.clone()),
                    )
                    .unwrap();
                    (dir, am, clock, batch.clone())
                },
                |(dir, am, clock, batch)| {
                    am.put_alerts(batch).unwrap();
                    clock.advance(std::time::Duration::from_secs(30));
                    let enqueued = am.flush_due();
                    assert!(enqueued > 0);
                    (dir, am)
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench_routing, bench_dispatch);
criterion_main!(benches);
