//! Select latency: a 3-matcher select over a block of 1M series (labels only, as the series
//! API and the first step of every query do), and select + iterate of a dashboard-sized
//! result over 2 h of node_exporter-like data in blocks and head.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod tsdb_common;

use std::sync::Arc;

use argus_model::storage::{VecSeries, VecSeriesSet};
use argus_model::{
    Appendable, Labels, MatchOp, Matcher, Queryable, Sample, SelectHints, Series, SeriesSet,
};
use argus_tsdb::block::writer::{write_block, NewBlock};
use argus_tsdb::{Db, Options};
use criterion::{criterion_group, criterion_main, Criterion};
use tsdb_common::{node_exporter, scrape_time, Rng};

const MILLION: usize = 1_000_000;

/// A data directory with one block of 1M series (100 metrics × 10 jobs × 1000 instances),
/// one sample each.
fn million_series_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut series: Vec<Box<dyn Series>> = Vec::with_capacity(MILLION);
    let samples: Arc<[Sample]> = Arc::from(vec![Sample::new(1000, 1.0)]);
    let mut all = Vec::with_capacity(MILLION);
    for m in 0..100 {
        for j in 0..10 {
            for i in 0..1000 {
                all.push(Labels::from_pairs(&[
                    ("__name__", format!("metric_{m:03}")),
                    ("instance", format!("host-{i:04}:9100")),
                    ("job", format!("job_{j}")),
                ]));
            }
        }
    }
    all.sort();
    for l in all {
        series.push(Box::new(VecSeries {
            labels: l,
            samples: samples.clone(),
        }));
    }
    let mut set = VecSeriesSet::new(series, Vec::new());
    let nb = NewBlock {
        mint: 0,
        maxt: 7_200_000,
        level: 1,
        sources: vec![],
        parents: vec![],
        tight_mint: false,
    };
    write_block(dir.path(), &nb, &mut set).unwrap();
    dir
}

fn count(set: &mut dyn SeriesSet) -> usize {
    let mut n = 0;
    while let Some(s) = set.next() {
        s.unwrap();
        n += 1;
    }
    n
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("tsdb_query");
    g.sample_size(20);

    let dir = million_series_dir();
    let db = Db::open(
        dir.path(),
        Options {
            auto_compaction: false,
            ..Options::default()
        },
        &prometheus::Registry::new(),
    )
    .unwrap();
    let ms = vec![
        Matcher::equal("__name__", "metric_042"),
        Matcher::new(MatchOp::Regex, "job", "job_3|job_7").unwrap(),
        Matcher::new(MatchOp::Regex, "instance", "host-01.*").unwrap(),
    ];
    let hints = SelectHints {
        func: Some("series".into()),
        ..Default::default()
    };
    let n = count(
        db.querier(0, 7_200_000)
            .unwrap()
            .select(true, Some(&hints), &ms)
            .as_mut(),
    );
    eprintln!("3-matcher select over {MILLION} series: {n} series");
    g.bench_function("select_3_matchers_1m_series", |b| {
        b.iter(|| {
            count(
                db.querier(0, 7_200_000)
                    .unwrap()
                    .select(true, Some(&hints), &ms)
                    .as_mut(),
            )
        })
    });
    db.close().unwrap();
    drop(db);
    drop(dir);

    // 2 h of 100 hosts (~20k series): 1.5 h in blocks, the rest in the head.
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        dir.path(),
        Options {
            auto_compaction: false,
            min_block_ms: 1_800_000,
            ..Options::default()
        },
        &prometheus::Registry::new(),
    )
    .unwrap();
    let mut rng = Rng(5);
    let mut series = node_exporter(100, &mut rng);
    for r in 0..480 {
        let t = scrape_time(0, r, 0, &mut rng);
        let mut app = db.appender();
        for s in series.iter_mut() {
            let v = s.step(&mut rng, 15.0);
            app.append(None, &s.labels, t, v).unwrap();
        }
        app.commit().unwrap();
    }
    db.compact().unwrap();
    let ms = vec![
        Matcher::equal("__name__", "node_cpu_seconds_total"),
        Matcher::equal("mode", "idle"),
        Matcher::new(MatchOp::Regex, "instance", "host-00[0-4].*").unwrap(),
    ];
    let q = db.querier(0, 7_200_000).unwrap();
    let mut set = q.select(true, None, &ms);
    let mut samples = 0;
    while let Some(s) = set.next() {
        let mut it = s.unwrap().iterator();
        while it.next() {
            samples += 1;
        }
    }
    eprintln!(
        "dashboard select: {samples} samples, {} blocks",
        db.blocks().len()
    );
    g.bench_function("select_iterate_20_series_2h", |b| {
        b.iter(|| {
            let q = db.querier(0, 7_200_000).unwrap();
            let mut set = q.select(true, None, &ms);
            let mut acc = 0.0;
            while let Some(s) = set.next() {
                let mut it = s.unwrap().iterator();
                while it.next() {
                    acc += it.at().v;
                }
            }
            acc
        })
    });
    g.finish();
    db.close().unwrap();
}

criterion_group!(benches, bench);
criterion_main!(benches);
