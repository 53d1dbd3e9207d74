//! Bytes per sample on disk for a node_exporter-like corpus (~10k series, 15 s, 2 h), head
//! persisted into a block exactly as compaction does; the timed part is that persistence.
//! Prints chunk and total bytes per sample (compare: Prometheus typically ~1.3 chunk
//! bytes/sample on such data; see docs/tsdb.md for the numbers).
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod tsdb_common;

use argus_model::Appendable;
use argus_tsdb::{Db, FsyncPolicy, Options};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tsdb_common::{node_exporter, scrape_time, Rng};

fn fill(dir: &std::path::Path, jitter_ms: u64) -> (Db, u64) {
    let db = Db::open(
        dir,
        Options {
            auto_compaction: false,
            fsync: FsyncPolicy::Segment,
            ..Options::default()
        },
        &prometheus::Registry::new(),
    )
    .unwrap();
    let mut rng = Rng(3);
    let mut series = node_exporter(50, &mut rng);
    let mut n = 0u64;
    for r in 0..480 {
        let t = scrape_time(1_700_006_400_000, r, jitter_ms, &mut rng);
        let mut app = db.appender();
        for s in series.iter_mut() {
            let v = s.step(&mut rng, 15.0);
            app.append(None, &s.labels, t, v).unwrap();
            n += 1;
        }
        app.commit().unwrap();
    }
    (db, n)
}

fn bench(c: &mut Criterion) {
    for jitter in [0u64, 3] {
        let dir = tempfile::tempdir().unwrap();
        let (db, n) = fill(dir.path(), jitter);
        db.flush_head().unwrap();
        let r = argus_tsdb::analyze::analyze(dir.path(), 1).unwrap();
        let b = &r.blocks[0];
        eprintln!(
            "node_exporter corpus, jitter {jitter} ms: {} series, {} samples: chunks {:.3} bytes/sample, block total {:.3} bytes/sample (index {} B, chunks {} B)",
            b.series, b.samples, b.chunk_bytes_per_sample(), b.bytes_per_sample(), b.index_bytes, b.chunk_bytes
        );
        assert_eq!(b.samples, n);
        db.close().unwrap();
    }
    let mut g = c.benchmark_group("tsdb_size");
    g.sample_size(10);
    g.throughput(Throughput::Elements(480 * 50 * 200));
    g.bench_function("persist_head_2h_10k_series", |b| {
        b.iter_with_setup(
            || {
                let dir = tempfile::tempdir().unwrap();
                let (db, _) = fill(dir.path(), 0);
                (dir, db)
            },
            |(dir, db)| {
                db.flush_head().unwrap();
                db.close().unwrap();
                drop(dir);
            },
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
