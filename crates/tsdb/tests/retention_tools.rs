//! Retention removes exactly the expired blocks (by time and by size), a block held by a
//! querier is deleted only when the querier is dropped, and the operator tools (analyze,
//! dump) report a real data directory correctly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeSet;

use argus_model::storage::collect_series;
use argus_model::{Appendable, Labels, MatchOp, Matcher, Queryable};
use argus_tsdb::{Db, FsyncPolicy, Options, HOUR_MS};

fn opts(retention_ms: i64, retention_bytes: u64) -> Options {
    Options {
        auto_compaction: false,
        fsync: FsyncPolicy::Segment,
        min_block_ms: HOUR_MS,
        retention_ms,
        retention_bytes,
        // No merges: each test looks at the 1 h blocks themselves.
        max_block_ms: Some(HOUR_MS),
        ..Options::default()
    }
}

/// 10 hours of 5 series at 60 s, then every complete hour persisted as a block.
fn fill(db: &Db) {
    for step in 0..600i64 {
        let mut app = db.appender();
        for i in 0..5 {
            let l = Labels::from_pairs(&[
                ("__name__", "node_cpu_seconds_total".to_string()),
                ("cpu", i.to_string()),
                ("mode", if i % 2 == 0 { "idle" } else { "user" }.to_string()),
            ]);
            app.append(None, &l, step * 60_000, (step * (i + 1)) as f64 * 0.25)
                .unwrap();
        }
        app.commit().unwrap();
    }
    db.flush_head().unwrap();
}

fn block_set(db: &Db) -> BTreeSet<(i64, i64)> {
    db.blocks()
        .iter()
        .map(|b| (b.meta().min_time, b.meta().max_time))
        .collect()
}

#[test]
fn time_retention_removes_exactly_expired_blocks() {
    let d = tempfile::tempdir().unwrap();
    // Retention disabled while filling, so nothing is dropped early.
    let db = Db::open(d.path(), opts(0, 0), &prometheus::Registry::new()).unwrap();
    fill(&db);
    let before = block_set(&db);
    assert_eq!(before.len(), 10, "{before:?}");
    db.close().unwrap();
    drop(db);

    let db = Db::open(d.path(), opts(4 * HOUR_MS, 0), &prometheus::Registry::new()).unwrap();
    let newest_max = before.iter().map(|b| b.1).max().unwrap();
    let expect: BTreeSet<(i64, i64)> = before
        .iter()
        .copied()
        .filter(|b| newest_max - b.1 < 4 * HOUR_MS)
        .collect();
    // A querier opened before retention keeps the expired blocks' files alive.
    let q = db.querier(0, HOUR_MS).unwrap();
    let old_dirs: Vec<_> = db
        .blocks()
        .iter()
        .filter(|b| newest_max - b.meta().max_time >= 4 * HOUR_MS)
        .map(|b| b.dir().to_path_buf())
        .collect();
    assert_eq!(old_dirs.len(), before.len() - expect.len());
    assert_eq!(expect.len(), 5, "{expect:?}");
    db.compact().unwrap();
    assert_eq!(block_set(&db), expect);
    assert!(old_dirs[0].exists(), "still held by the querier");
    let held =
        collect_series(q.select(true, None, &[Matcher::equal("cpu", "1")]).as_mut()).unwrap();
    assert_eq!(
        held[0].1.len(),
        61,
        "[0, 1h] inclusive: the first hour plus t=1h"
    );
    drop(held);
    drop(q);
    assert!(
        old_dirs.iter().all(|p| !p.exists()),
        "deleted once released"
    );
    let after = db.querier(0, i64::MAX).unwrap();
    let got = collect_series(
        after
            .select(true, None, &[Matcher::equal("cpu", "1")])
            .as_mut(),
    )
    .unwrap();
    assert_eq!(got[0].1.first().unwrap().t, expect.first().unwrap().0);
}

#[test]
fn size_retention_keeps_the_newest_that_fit() {
    let d = tempfile::tempdir().unwrap();
    let db = Db::open(d.path(), opts(0, 0), &prometheus::Registry::new()).unwrap();
    fill(&db);
    let sizes: Vec<u64> = db.blocks().iter().map(|b| b.size()).collect();
    let wal = db.size_bytes() - sizes.iter().sum::<u64>();
    db.close().unwrap();
    drop(db);
    // Room for the WAL and exactly the three newest blocks.
    let limit = wal + sizes[7] + sizes[8] + sizes[9];
    let db = Db::open(d.path(), opts(0, limit), &prometheus::Registry::new()).unwrap();
    db.compact().unwrap();
    let left: Vec<i64> = db.blocks().iter().map(|b| b.meta().min_time).collect();
    assert_eq!(left, vec![7 * HOUR_MS, 8 * HOUR_MS, 9 * HOUR_MS]);
}

#[test]
fn analyze_and_dump_a_real_directory() {
    let d = tempfile::tempdir().unwrap();
    let db = Db::open(d.path(), opts(0, 0), &prometheus::Registry::new()).unwrap();
    fill(&db);
    // Plus unpersisted head data, which dump must include (read from the WAL).
    let mut app = db.appender();
    let l = Labels::from_pairs(&[("__name__", "up"), ("job", "x")]);
    app.append(None, &l, 11 * HOUR_MS, 1.0).unwrap();
    app.commit().unwrap();

    // Both tools work while the database is open (they only read).
    let r = argus_tsdb::analyze::analyze(d.path(), 3).unwrap();
    assert_eq!(r.blocks.len(), 10);
    assert_eq!(r.samples(), 3000);
    assert!(r.broken.is_empty());
    let b = &r.blocks[0];
    assert_eq!((b.series, b.samples, b.chunks), (5, 300, 5));
    assert!(b.chunk_bytes_per_sample() > 0.1 && b.chunk_bytes_per_sample() < 4.0);
    assert_eq!(b.top_metrics[0].name, "node_cpu_seconds_total");
    assert_eq!(b.top_label_names[0].name, "cpu");
    let text = r.to_string();
    assert!(text.contains("bytes/sample"), "{text}");

    let mut out = Vec::new();
    let sel = vec![
        vec![Matcher::equal("cpu", "3")],
        vec![Matcher::new(MatchOp::Regex, "__name__", "up|nope").unwrap()],
    ];
    let n = argus_tsdb::dump::dump(d.path(), &sel, 0, 10 * HOUR_MS, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        n, 600,
        "cpu=3 has 600 samples in range; up is after max-time"
    );
    let first = text.lines().next().unwrap();
    assert_eq!(
        first,
        r#"{__name__="node_cpu_seconds_total", cpu="3", mode="user"} 0 0"#
    );
    assert!(text.lines().nth(1).unwrap().ends_with(" 1 60000"));
    let mut out = Vec::new();
    let n = argus_tsdb::dump::dump(
        d.path(),
        &[vec![Matcher::equal("job", "x")]],
        0,
        i64::MAX,
        &mut out,
    )
    .unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "{__name__=\"up\", job=\"x\"} 1 39600000\n"
    );
    db.close().unwrap();
}
