//! PromQL parser throughput: typical dashboard and alerting queries, parsed and
//! type-checked (and printed back, as `/api/v1/format_query` does).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const QUERIES: &[&str] = &[
    "up",
    r#"sum by (job) (rate(http_requests_total{job="api", code=~"5.."}[5m]))"#,
    r#"histogram_quantile(0.99, sum by (le, service) (rate(request_duration_seconds_bucket{namespace="prod"}[5m])))"#,
    r#"100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])))"#,
    r#"sum(container_memory_working_set_bytes{namespace!="", container!="POD"}) by (namespace) / on (namespace) group_left sum(kube_resourcequota{type="hard", resource="memory"}) by (namespace)"#,
    r#"predict_linear(node_filesystem_avail_bytes{fstype!~"tmpfs|overlay"}[6h], 4 * 3600) < 0 and on (instance, device) node_filesystem_avail_bytes offset 1h > 0"#,
    r#"max_over_time(rate(process_cpu_seconds_total[1m])[1h:1m] @ end()) > bool 0.9"#,
    r#"label_replace(topk by (cluster) (5, sum by (cluster, pod) (irate(container_cpu_usage_seconds_total[2m]))), "short", "$1", "pod", "(.*)-[a-z0-9]+")"#,
];

fn parse(c: &mut Criterion) {
    let bytes: usize = QUERIES.iter().map(|q| q.len()).sum();
    let mut g = c.benchmark_group("promql_parse");
    g.throughput(Throughput::Elements(QUERIES.len() as u64));
    g.bench_function("dashboard_queries", |b| {
        b.iter(|| {
            for q in QUERIES {
                let e = argus_query::parse(std::hint::black_box(q)).expect("valid query");
                std::hint::black_box(e);
            }
        })
    });
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("dashboard_queries_bytes", |b| {
        b.iter(|| {
            for q in QUERIES {
                std::hint::black_box(argus_query::parse(q).expect("valid query"));
            }
        })
    });
    let exprs: Vec<argus_query::Expr> = QUERIES
        .iter()
        .map(|q| argus_query::parse(q).expect("valid query"))
        .collect();
    g.throughput(Throughput::Elements(QUERIES.len() as u64));
    g.bench_function("format_query", |b| {
        b.iter(|| {
            for e in &exprs {
                std::hint::black_box(e.pretty());
            }
        })
    });
    g.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
