//! PromQL evaluation of typical dashboard queries over a generated data set held in
//! `MemStorage`: 10 000 counter series (100 jobs x 100 instances) and classic histograms
//! (1 000 series x 11 buckets), scraped every 15 s for one hour. Instant queries at the end
//! of the hour and range queries over the hour at a 60 s step.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use argus_model::memstore::MemStorage;
use argus_model::{Appendable, Labels};
use argus_query::{Engine, EngineOptions, QueryOptions};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const SCRAPE_MS: i64 = 15_000;
const HOUR_MS: i64 = 3_600_000;
const BUCKETS: &[&str] = &[
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf",
];

fn dataset() -> MemStorage {
    let s = MemStorage::new();
    let points = HOUR_MS / SCRAPE_MS + 1;
    let mut app = s.appender();
    for job in 0..100 {
        for inst in 0..100 {
            let l = Labels::from_pairs(&[
                ("__name__", "http_requests_total"),
                ("job", &format!("job-{job}")),
                ("instance", &format!("10.0.{job}.{inst}:9090")),
                ("code", if inst % 10 == 0 { "500" } else { "200" }),
            ]);
            let rate = 1.0 + (job * 100 + inst) as f64 % 7.0;
            for i in 0..points {
                app.append(None, &l, i * SCRAPE_MS, i as f64 * rate * 15.0)
                    .expect("append");
            }
        }
    }
    for svc in 0..100 {
        for pod in 0..10 {
            for (bi, le) in BUCKETS.iter().enumerate() {
                let l = Labels::from_pairs(&[
                    ("__name__", "request_duration_seconds_bucket"),
                    ("service", &format!("svc-{svc}")),
                    ("pod", &format!("pod-{pod}")),
                    ("le", le),
                ]);
                let per_scrape = (bi as f64 + 1.0) * 3.0;
                for i in 0..points {
                    app.append(None, &l, i * SCRAPE_MS, i as f64 * per_scrape)
                        .expect("append");
                }
            }
        }
    }
    app.commit().expect("commit");
    s
}

const QUERIES: &[(&str, &str)] = &[
    ("rate_10k", "rate(http_requests_total[5m])"),
    ("sum_by_job_rate", "sum by (job) (rate(http_requests_total[5m]))"),
    (
        "error_ratio",
        r#"sum by (job) (rate(http_requests_total{code="500"}[5m])) / sum by (job) (rate(http_requests_total[5m]))"#,
    ),
    (
        "histogram_quantile",
        "histogram_quantile(0.99, sum by (le, service) (rate(request_duration_seconds_bucket[5m])))",
    ),
    ("topk_instances", "topk(10, rate(http_requests_total[5m]))"),
];

fn eval(c: &mut Criterion) {
    let storage = dataset();
    let engine = Engine::new(EngineOptions::default());
    let opts = QueryOptions::default();
    let mut g = c.benchmark_group("promql_eval");
    g.sample_size(10);
    for (name, q) in QUERIES {
        g.throughput(Throughput::Elements(1));
        g.bench_function(format!("instant/{name}"), |b| {
            b.iter(|| {
                engine
                    .instant_query(&storage, q, HOUR_MS, &opts)
                    .expect("query")
            })
        });
        g.bench_function(format!("range_1h_60s/{name}"), |b| {
            b.iter(|| {
                engine
                    .range_query(&storage, q, 0, HOUR_MS, 60_000, &opts)
                    .expect("query")
            })
        });
    }
    g.finish();
}

criterion_group!(benches, eval);
criterion_main!(benches);
