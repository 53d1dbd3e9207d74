//! Head snapshot on close: the next open loads it instead of replaying the WAL, and gets
//! exactly the head a WAL replay would give; a damaged or stale snapshot is ignored and the
//! WAL replayed, with nothing lost.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;

use argus_model::storage::collect_series;
use argus_model::{labels, Appendable, Labels, MatchOp, Matcher, Queryable, Sample};
use argus_tsdb::head::snapshot::FILE_NAME;
use argus_tsdb::{Db, FsyncPolicy, Options, HOUR_MS};

fn opts() -> Options {
    Options {
        auto_compaction: false,
        fsync: FsyncPolicy::Segment,
        out_of_order_window_ms: HOUR_MS,
        ..Options::default()
    }
}

/// A run that neither loads nor writes snapshots: it leaves an existing file in place.
fn without_snapshot() -> Options {
    Options {
        head_snapshot: false,
        ..opts()
    }
}

fn open(dir: &Path, o: Options) -> Db {
    Db::open(dir, o, &prometheus::Registry::new()).unwrap()
}

fn all(db: &Db) -> Vec<(Labels, Vec<Sample>)> {
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    collect_series(
        q.select(
            true,
            None,
            &[Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap()],
        )
        .as_mut(),
    )
    .unwrap()
}

fn series(i: usize) -> Labels {
    Labels::from_pairs(&[
        ("__name__", "snap_test".to_string()),
        ("i", i.to_string()),
        ("job", "x".to_string()),
    ])
}

/// Appends `steps` scrapes of `n` series from `t0`, plus an out-of-order sample and a
/// deletion, so chunks (closed and open), the out-of-order buffer and tombstones are all
/// in the head.
fn fill(db: &Db, n: usize, t0: i64, steps: i64) {
    for k in 0..steps {
        let mut app = db.appender();
        for i in 0..n {
            let t = t0 + k * 15_000;
            app.append(None, &series(i), t, (t / 1000) as f64 + i as f64 * 0.5)
                .unwrap();
        }
        app.commit().unwrap();
    }
    let mut app = db.appender();
    app.append(None, &series(0), t0 + (steps - 10) * 15_000 + 7_500, -1.0)
        .unwrap();
    app.commit().unwrap();
    db.delete(t0, t0 + 60_000, &[Matcher::equal("i", "1")])
        .unwrap();
}

fn same(a: &[(Labels, Vec<Sample>)], b: &[(Labels, Vec<Sample>)]) {
    assert_eq!(a.len(), b.len());
    for ((la, sa), (lb, sb)) in a.iter().zip(b) {
        assert_eq!(la, lb);
        assert_eq!(sa.len(), sb.len(), "{la}");
        for (x, y) in sa.iter().zip(sb) {
            assert_eq!((x.t, x.v.to_bits()), (y.t, y.v.to_bits()), "{la}");
        }
    }
}

#[test]
fn round_trip_loads_the_snapshot_instead_of_the_wal() {
    let d = tempfile::tempdir().unwrap();
    let db = open(d.path(), opts());
    fill(&db, 50, 1_000_000, 300);
    let before = all(&db);
    db.close().unwrap();
    assert!(d.path().join(FILE_NAME).exists());

    let db = open(d.path(), opts());
    let st = db.replay_stats();
    let snap = st.snapshot.expect("snapshot used");
    assert_eq!(snap.series, 50);
    assert_eq!(st.samples, 0, "nothing replayed from the WAL");
    assert!(!d.path().join(FILE_NAME).exists(), "consumed at open");
    same(&before, &all(&db));
    // The loaded head keeps working: appends continue the open chunks, refs stay unique.
    let mut app = db.appender();
    app.append(None, &series(3), 1_000_000 + 300 * 15_000, 1.0)
        .unwrap();
    app.append(
        None,
        &labels!("__name__" => "new"),
        1_000_000 + 300 * 15_000,
        1.0,
    )
    .unwrap();
    app.commit().unwrap();
    let after = all(&db);
    db.close().unwrap();
    let db = open(d.path(), opts());
    same(&after, &all(&db));
    db.close().unwrap();
}

#[test]
fn damaged_snapshot_falls_back_to_the_wal() {
    for damage in ["flip", "truncate", "empty"] {
        let d = tempfile::tempdir().unwrap();
        let db = open(d.path(), opts());
        fill(&db, 20, 1_000_000, 200);
        let before = all(&db);
        db.close().unwrap();
        let p = d.path().join(FILE_NAME);
        let mut b = std::fs::read(&p).unwrap();
        match damage {
            "flip" => {
                let mid = b.len() / 2;
                b[mid] ^= 0x40;
            }
            "truncate" => b.truncate(b.len() - 7),
            _ => b.clear(),
        }
        std::fs::write(&p, &b).unwrap();
        let db = open(d.path(), opts());
        assert!(db.replay_stats().snapshot.is_none(), "{damage}");
        assert!(db.replay_stats().samples > 0, "{damage}");
        same(&before, &all(&db));
        db.close().unwrap();
    }
}

#[test]
fn wal_written_after_the_snapshot_is_replayed_on_top() {
    let d = tempfile::tempdir().unwrap();
    let db = open(d.path(), opts());
    fill(&db, 10, 1_000_000, 100);
    db.close().unwrap();
    // A run that neither loads nor writes snapshots leaves the file and appends WAL
    // segments after it; then it stops without close (as a crash would).
    let db = open(d.path(), without_snapshot());
    let mut app = db.appender();
    for i in 0..12 {
        app.append(None, &series(i), 1_000_000 + 100 * 15_000, 7.0)
            .unwrap();
    }
    app.commit().unwrap();
    let want = all(&db);
    drop(db);
    let db = open(d.path(), opts());
    let st = db.replay_stats();
    assert!(st.snapshot.is_some());
    assert_eq!(st.samples, 12);
    same(&want, &all(&db));
    db.close().unwrap();
}

#[test]
fn stale_snapshot_is_ignored() {
    let d = tempfile::tempdir().unwrap();
    let db = open(d.path(), opts());
    fill(&db, 10, 0, 100);
    db.close().unwrap();
    // Persisting the head to a block moves the boundary and checkpoints the WAL: the
    // snapshot no longer describes the head.
    let db = open(d.path(), without_snapshot());
    let mut app = db.appender();
    app.append(None, &series(0), 3 * HOUR_MS, 1.0).unwrap();
    app.commit().unwrap();
    db.flush_head().unwrap();
    let want = all(&db);
    db.close().unwrap();
    let db = open(d.path(), opts());
    assert!(db.replay_stats().snapshot.is_none());
    same(&want, &all(&db));
    db.close().unwrap();
}

#[test]
fn crash_after_a_snapshot_start_recovers_from_the_wal() {
    let d = tempfile::tempdir().unwrap();
    let db = open(d.path(), opts());
    fill(&db, 10, 1_000_000, 100);
    db.close().unwrap();
    let db = open(d.path(), opts());
    assert!(db.replay_stats().snapshot.is_some());
    let mut app = db.appender();
    app.append(None, &series(2), 1_000_000 + 100 * 15_000, 3.0)
        .unwrap();
    app.commit().unwrap();
    let want = all(&db);
    // No close: no new snapshot, as after kill -9.
    drop(db);
    let db = open(d.path(), opts());
    assert!(db.replay_stats().snapshot.is_none());
    same(&want, &all(&db));
    db.close().unwrap();
}
