//! JSON encoding of query results as the HTTP API sends them: a 10k-series matrix (the
//! shape of a range query over a large dashboard panel) and a 10k-sample instant vector,
//! through the hand-written Prometheus-compatible codec. Throughput in points and bytes.
//! For scale, the same matrix through `serde_json` with derived-style serialization (ryu
//! floats, no Prometheus escaping) is measured too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::Duration;

use argus_model::{Labels, Sample};
use argus_query::api::json_codec::{begin_success, finish_success, write_query_data};
use argus_query::engine::{MatrixSeries, Value, VectorSample};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

fn series_labels(i: usize) -> Labels {
    Labels::from_pairs(&[
        ("__name__", "container_cpu_usage_seconds_total".to_owned()),
        ("namespace", format!("ns-{}", i % 50)),
        ("pod", format!("app-{}-7d9f8b6c4-{:05}", i % 300, i)),
        ("container", format!("c{}", i % 3)),
        ("instance", format!("10.0.{}.{}:10250", i / 250, i % 250)),
        ("job", "kubelet".to_owned()),
    ])
}

/// `series` series of `points` points each, every 15 s, with realistic counter values.
fn matrix(series: usize, points: usize) -> Value {
    let t0 = 1_700_000_000_000i64;
    Value::Matrix(
        (0..series)
            .map(|i| MatrixSeries {
                labels: series_labels(i),
                samples: (0..points)
                    .map(|p| Sample::new(t0 + p as i64 * 15_000, (i * 1000 + p) as f64 * 0.137))
                    .collect(),
            })
            .collect(),
    )
}

fn encode(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    begin_success(&mut out);
    write_query_data(&mut out, v, None);
    finish_success(&mut out, &[], &[]);
    out
}

/// A straightforward serde model of the same document, for comparison.
struct SerdeMatrix<'a>(&'a [MatrixSeries]);
struct SerdeSeries<'a>(&'a MatrixSeries);
struct SerdePoint(Sample);

impl Serialize for SerdeMatrix<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for x in self.0 {
            seq.serialize_element(&SerdeSeries(x))?;
        }
        seq.end()
    }
}

impl Serialize for SerdeSeries<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("metric", &self.0.labels)?;
        let pts: Vec<SerdePoint> = self.0.samples.iter().map(|p| SerdePoint(*p)).collect();
        m.serialize_entry("values", &pts)?;
        m.end()
    }
}

impl Serialize for SerdePoint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(2))?;
        seq.serialize_element(&(self.0.t as f64 / 1000.0))?;
        seq.serialize_element(&self.0.v.to_string())?;
        seq.end()
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("api_json");
    g.measurement_time(Duration::from_secs(8)).sample_size(20);
    for points in [11usize, 121] {
        let m = matrix(10_000, points);
        let bytes = encode(&m).len();
        g.throughput(Throughput::Elements((10_000 * points) as u64));
        g.bench_with_input(
            BenchmarkId::new(
                "matrix_10k_series_points",
                format!("{points} ({} MB)", bytes >> 20),
            ),
            &m,
            |b, m| b.iter(|| encode(m)),
        );
        if let Value::Matrix(series) = &m {
            g.bench_with_input(
                BenchmarkId::new("serde_json_matrix_10k_series_points", points),
                series,
                |b, s| b.iter(|| serde_json::to_vec(&SerdeMatrix(s)).unwrap()),
            );
        }
    }
    let v = Value::Vector(
        (0..10_000)
            .map(|i| VectorSample {
                labels: series_labels(i),
                t: 1_700_000_000_123,
                v: i as f64 * 0.5,
            })
            .collect(),
    );
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("vector_10k_samples", |b| b.iter(|| encode(&v)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
