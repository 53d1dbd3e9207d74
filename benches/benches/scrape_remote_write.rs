//! Remote-write receive throughput (samples/s): snappy decode + protobuf walk + label
//! building into a no-op appender ("decode"), and the whole receive path into
//! `argus_tsdb::Db` with its WAL ("tsdb"). Requests are shaped like Prometheus' (2,000
//! samples, one per series, labels of a real node_exporter body over 4 instances); each
//! iteration sends the next scrape round, so every sample is new.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;
use std::time::{Duration, Instant};

use argus_model::{AppendError, Appendable, Appender, Labels, SeriesRef, StorageError};
use argus_scrape::parse::{series_labels, Entry, Format, Parser};
use argus_scrape::remote_write::handle;
use argus_scrape::remote_write::proto::{Label, Sample, TimeSeries, WriteRequest};
use axum::http::HeaderMap;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const SERIES: usize = 2000;

fn label_sets() -> Vec<Vec<Label>> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/scrape/testdata/fixtures/node_exporter.prom");
    let body = std::fs::read(p).unwrap();
    let mut base = Vec::new();
    let mut parser = Parser::new(Format::PrometheusText, &body).unwrap();
    while let Some(e) = parser.next_entry().unwrap() {
        if let Entry::Sample(s) = e {
            base.push(series_labels(s.series));
        }
    }
    let mut out = Vec::new();
    'outer: for host in 0.. {
        for l in &base {
            let mut v: Vec<Label> = l
                .iter()
                .map(|x| Label {
                    name: x.name.to_owned(),
                    value: x.value.to_owned(),
                })
                .collect();
            v.push(Label {
                name: "instance".into(),
                value: format!("node-{host}.cluster.local:9100"),
            });
            v.push(Label {
                name: "job".into(),
                value: "node-exporter".into(),
            });
            v.sort_by(|a, b| a.name.cmp(&b.name));
            out.push(v);
            if out.len() == SERIES {
                break 'outer;
            }
        }
    }
    out
}

fn request(sets: &[Vec<Label>], round: i64) -> Vec<u8> {
    let ts = 1_700_000_000_000 + round * 15_000;
    WriteRequest {
        timeseries: sets
            .iter()
            .enumerate()
            .map(|(i, l)| TimeSeries {
                labels: l.clone(),
                samples: vec![Sample {
                    value: (round as f64) * 1.5 + i as f64,
                    timestamp: ts,
                }],
                exemplars: vec![],
            })
            .collect(),
        metadata: vec![],
    }
    .encode_snappy()
}

struct Null;
struct NullApp;
impl Appender for NullApp {
    fn append(
        &mut self,
        _: Option<SeriesRef>,
        l: &Labels,
        _: i64,
        _: f64,
    ) -> Result<SeriesRef, AppendError> {
        Ok(SeriesRef(l.len() as u64))
    }
    fn commit(self: Box<Self>) -> Result<(), StorageError> {
        Ok(())
    }
    fn rollback(self: Box<Self>) -> Result<(), StorageError> {
        Ok(())
    }
}
impl Appendable for Null {
    fn appender(&self) -> Box<dyn Appender + '_> {
        Box::new(NullApp)
    }
}

fn headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("Content-Type", "application/x-protobuf".parse().unwrap());
    h.insert("Content-Encoding", "snappy".parse().unwrap());
    h
}

fn run(c: &mut Criterion, name: &str, target: &dyn Appendable, sets: &[Vec<Label>]) {
    let h = headers();
    let mut round = 0i64;
    let mut g = c.benchmark_group("scrape_remote_write");
    g.measurement_time(Duration::from_secs(5)).sample_size(20);
    g.throughput(Throughput::Elements(SERIES as u64));
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                round += 1;
                let body = request(sets, round);
                let t = Instant::now();
                let stats = handle(target, &h, &body).unwrap();
                total += t.elapsed();
                assert_eq!(stats.samples_written, SERIES as u64);
            }
            total
        })
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    let sets = label_sets();
    let body = request(&sets, 0);
    println!("request: {SERIES} series, {} bytes snappy", body.len());
    run(c, "decode", &Null, &sets);
    let dir = tempfile::tempdir().unwrap();
    let db = argus_tsdb::Db::open(
        dir.path(),
        argus_tsdb::Options::default(),
        &prometheus::Registry::new(),
    )
    .unwrap();
    run(c, "tsdb", &db, &sets);
}

criterion_group!(benches, bench);
criterion_main!(benches);
