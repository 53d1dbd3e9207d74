//! Appending into the head with the WAL on (default fsync policy: every 1 s in the
//! background): one commit per scrape round of 10k node_exporter-like series, with series
//! references cached as a scrape loop does.
#![allow(clippy::unwrap_used)]

mod tsdb_common;

use argus_model::{Appendable, SeriesRef};
use argus_tsdb::{Db, Options};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tsdb_common::{node_exporter, Rng};

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        dir.path(),
        Options {
            auto_compaction: false,
            ..Options::default()
        },
        &prometheus::Registry::new(),
    )
    .unwrap();
    let mut rng = Rng(11);
    let mut series = node_exporter(50, &mut rng);
    let n = series.len();
    let mut refs: Vec<Option<SeriesRef>> = vec![None; n];
    let mut round = 0i64;
    let mut g = c.benchmark_group("tsdb_append");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(30);
    g.bench_function(format!("scrape_round_{n}_series"), |b| {
        b.iter(|| {
            round += 1;
            let t = 1_700_000_000_000 + round * 15_000;
            let mut app = db.appender();
            for (i, s) in series.iter_mut().enumerate() {
                let v = s.step(&mut rng, 15.0);
                refs[i] = Some(app.append(refs[i], &s.labels, t, v).unwrap());
            }
            app.commit().unwrap();
        })
    });
    g.finish();
    db.close().unwrap();
}

criterion_group!(benches, bench);
criterion_main!(benches);
