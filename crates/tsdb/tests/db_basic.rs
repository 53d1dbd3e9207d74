//! End-to-end behaviour of `Db`: append rules, isolation, replay, persistence, deletes,
//! snapshots, status.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use argus_model::storage::collect_series;
use argus_model::{
    labels, stale_nan, AppendError, Appendable, Labels, MatchOp, Matcher, Queryable, Sample,
    TsdbAdmin,
};
use argus_tsdb::{Db, FsyncPolicy, Options, HOUR_MS};

fn opts() -> Options {
    Options {
        auto_compaction: false,
        fsync: FsyncPolicy::Segment,
        ..Options::default()
    }
}

fn open(dir: &std::path::Path, o: Options) -> Db {
    Db::open(dir, o, &prometheus::Registry::new()).unwrap()
}

fn query(db: &Db, mint: i64, maxt: i64, ms: &[Matcher]) -> Vec<(Labels, Vec<Sample>)> {
    let q = db.querier(mint, maxt).unwrap();
    collect_series(q.select(true, None, ms).as_mut()).unwrap()
}

fn up(job: &str) -> Labels {
    labels!("__name__" => "up", "job" => job)
}

#[test]
fn append_rules_match_prometheus() {
    let d = tempfile::tempdir().unwrap();
    let db = open(d.path(), opts());
    let mut app = db.appender();
    let r = app.append(None, &up("a"), 1000, 1.0).unwrap();
    app.append(Some(r), &up("a"), 2000, 2.0).unwrap();
    assert!(matches!(
        app.append(Some(r), &up("a"), 1500, 1.0),
        Err(AppendError::OutOfOrder)
    ));
    assert!(matches!(
        app.append(Some(r), &up("a"), 2000, 3.0),
        Err(AppendError::DuplicateSample)
    ));
    app.append(Some(r), &up("a"), 2000, 2.0).unwrap();
    assert!(matches!(
        app.append(None, &Labels::empty(), 1, 1.0),
        Err(AppendError::InvalidLabels { .. })
    ));
    app.commit().unwrap();
    // More than half a chunk range behind the head: out of bounds.
    let mut app = db.appender();
    app.append(None, &up("b"), 3 * HOUR_MS, 1.0).unwrap();
    app.commit().unwrap();
    let mut app = db.appender();
    assert!(matches!(
        app.append(None, &up("c"), 1000, 1.0),
        Err(AppendError::OutOfBounds)
    ));
    app.rollback().unwrap();
    let got = query(&db, 0, 10 * HOUR_MS, &[Matcher::equal("job", "a")]);
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].1,
        vec![Sample::new(1000, 1.0), Sample::new(2000, 2.0)]
    );
    db.close().unwrap();
    let mut app = db.appender();
    assert!(app.append(None, &up("a"), 5000, 1.0).is_err());
}

#[test]
fn isolation_hides_later_commits() {
    let d = tempfile::tempdir().unwrap();
    let db = open(d.path(), opts());
    let mut app = db.appender();
    app.append(None, &up("a"), 1, 1.0).unwrap();
    app.commit().unwrap();
    let q = db.querier(0, 100).unwrap();
    let mut app = db.appender();
    app.append(None, &up("a"), 2, 2.0).unwrap();
    app.append(None, &up("new"), 2, 2.0).unwrap();
    app.commit().unwrap();
    let old = collect_series(
        q.select(true, None, &[Matcher::equal("__name__", "up")])
            .as_mut(),
    )
    .unwrap();
    assert_eq!(
        old.len(),
        1,
        "the new series is invisible to the old querier"
    );
    assert_eq!(old[0].1.len(), 1);
    let new = query(&db, 0, 100, &[Matcher::equal("__name__", "up")]);
    assert_eq!(new.len(), 2);
    assert_eq!(new[0].1.len(), 2);
}

#[test]
fn replay_restores_everything_including_stale_markers_and_deletes() {
    let d = tempfile::tempdir().unwrap();
    {
        let db = open(d.path(), opts());
        let mut app = db.appender();
        for i in 0..500 {
            app.append(None, &up("a"), i * 15_000, i as f64).unwrap();
        }
        app.append(None, &up("a"), 500 * 15_000, stale_nan())
            .unwrap();
        app.append(None, &up("b"), 0, f64::NAN).unwrap();
        app.commit().unwrap();
        db.delete(15_000, 30_000, &[Matcher::equal("job", "a")])
            .unwrap();
        db.close().unwrap();
    }
    let db = open(d.path(), opts());
    let got = query(&db, 0, i64::MAX, &[Matcher::equal("__name__", "up")]);
    assert_eq!(got.len(), 2);
    let a = &got[0].1;
    assert_eq!(a.len(), 499);
    assert_eq!(a[0], Sample::new(0, 0.0));
    assert_eq!(a[1].t, 45_000);
    assert_eq!(a.last().unwrap().v.to_bits(), stale_nan().to_bits());
    assert!(got[1].1[0].v.is_nan() && got[1].1[0].v.to_bits() != stale_nan().to_bits());
}

#[test]
fn results_identical_after_persistence_and_compaction() {
    let d = tempfile::tempdir().unwrap();
    let db = open(d.path(), opts());
    // 10 hours of 4 series at 30 s.
    for step in 0..1200 {
        let t = step * 30_000;
        let mut app = db.appender();
        for j in 0..4 {
            let l = Labels::from_pairs(&[("__name__", "m".to_string()), ("i", j.to_string())]);
            app.append(None, &l, t, (step * j) as f64).unwrap();
        }
        app.commit().unwrap();
    }
    let ms = [Matcher::new(MatchOp::Regex, "i", "1|3").unwrap()];
    let before = query(&db, 0, i64::MAX, &ms);
    assert_eq!(before.len(), 2);
    assert_eq!(before[0].1.len(), 1200);
    db.compact().unwrap();
    assert!(!db.blocks().is_empty(), "head persisted");
    assert_eq!(query(&db, 0, i64::MAX, &ms), before);
    db.flush_head().unwrap();
    db.compact().unwrap();
    assert_eq!(query(&db, 0, i64::MAX, &ms), before);
    assert_eq!(query(&db, 3_600_000, 7_200_000, &ms)[0].1.len(), 121);
    // Reopen: blocks + checkpointed WAL.
    db.close().unwrap();
    let db = open(d.path(), opts());
    assert_eq!(query(&db, 0, i64::MAX, &ms), before);
    let q = db.querier(0, i64::MAX).unwrap();
    let (names, _) = q.label_names(&Default::default(), &[]).unwrap();
    assert_eq!(names, vec!["__name__", "i"]);
    let (vals, _) = q.label_values("i", &Default::default(), &ms).unwrap();
    assert_eq!(vals, vec!["1", "3"]);
    // Delete in blocks and clean.
    db.delete(0, 1_000_000, &[Matcher::equal("i", "1")])
        .unwrap();
    let after = query(&db, 0, i64::MAX, &ms);
    assert_eq!(after[0].1.len(), 1200 - 34);
    db.clean_tombstones().unwrap();
    assert_eq!(query(&db, 0, i64::MAX, &ms), after);
    // Snapshot opens as a database with the same data.
    let snap_root = tempfile::tempdir().unwrap();
    let name = TsdbAdmin::snapshot(&db, snap_root.path(), false).unwrap();
    let snap = Db::open_read_only(snap_root.path().join(&name)).unwrap();
    assert_eq!(query(&snap, 0, i64::MAX, &ms), after);
    // Status covers the head, like Prometheus'.
    let mut app = db.appender();
    app.append(None, &up("x"), 40_000_000, 1.0).unwrap();
    app.commit().unwrap();
    let st = TsdbAdmin::status(&db, 10).unwrap();
    assert_eq!(st.head_stats.num_series, 1);
    assert_eq!(st.series_count_by_metric_name[0].name, "up");
}

#[test]
fn out_of_order_window_accepts_and_merges() {
    let d = tempfile::tempdir().unwrap();
    let o = Options {
        out_of_order_window_ms: HOUR_MS,
        ..opts()
    };
    let db = open(d.path(), o.clone());
    let mut app = db.appender();
    app.append(None, &up("a"), 2 * HOUR_MS, 2.0).unwrap();
    app.commit().unwrap();
    let mut app = db.appender();
    app.append(None, &up("a"), 2 * HOUR_MS - 60_000, 1.0)
        .unwrap();
    app.append(None, &up("b"), 2 * HOUR_MS - 120_000, 1.0)
        .unwrap();
    assert!(matches!(
        app.append(None, &up("a"), 0, 1.0),
        Err(AppendError::TooOld)
    ));
    assert!(matches!(
        app.append(None, &up("a"), 2 * HOUR_MS - 60_000, 9.0),
        Err(AppendError::DuplicateSample)
    ));
    app.commit().unwrap();
    let got = query(&db, 0, i64::MAX, &[Matcher::equal("job", "a")]);
    assert_eq!(
        got[0].1,
        vec![
            Sample::new(2 * HOUR_MS - 60_000, 1.0),
            Sample::new(2 * HOUR_MS, 2.0)
        ]
    );
    db.flush_head().unwrap();
    // Now older than the persisted head but inside the window: lands in an overlapping block.
    let mut app = db.appender();
    app.append(None, &up("a"), 2 * HOUR_MS - 30_000, 1.5)
        .unwrap();
    app.commit().unwrap();
    db.close().unwrap();
    let db = open(d.path(), o);
    db.compact().unwrap();
    let got = query(&db, 0, i64::MAX, &[Matcher::equal("job", "a")]);
    assert_eq!(got[0].1.len(), 3);
    assert_eq!(got[0].1[1], Sample::new(2 * HOUR_MS - 30_000, 1.5));
    let blocks = db.blocks();
    for w in blocks.windows(2) {
        assert!(
            w[0].meta().max_time <= w[1].meta().min_time,
            "overlapping blocks were merged"
        );
    }
}

/// Label names and values under matchers come from the index, as in Prometheus: a head series
/// counts whenever the head overlaps the range, even without samples inside it; a range that
/// misses the head (or is inverted) finds nothing, with no error.
#[test]
fn label_lookups_use_index_granularity() {
    let d = tempfile::tempdir().unwrap();
    let db = open(d.path(), opts());
    let mut app = db.appender();
    app.append(None, &up("early"), 1_000, 1.0).unwrap();
    app.append(None, &up("late"), 100_000, 1.0).unwrap();
    app.commit().unwrap();
    let name = [Matcher::equal("__name__", "up")];
    let values = |mint, maxt, ms: &[Matcher]| {
        let q = db.querier(mint, maxt).unwrap();
        q.label_values("job", &Default::default(), ms).unwrap().0
    };
    // [50s, 60s] holds no sample of either, but lies inside the head's range.
    assert_eq!(values(50_000, 60_000, &name), vec!["early", "late"]);
    assert_eq!(values(50_000, 60_000, &[]), vec!["early", "late"]);
    assert!(values(200_000, 300_000, &name).is_empty());
    assert!(values(200_000, 300_000, &[]).is_empty());
    let inverted = db.querier(60_000, 50_000).unwrap();
    assert!(collect_series(inverted.select(true, None, &name).as_mut())
        .unwrap()
        .is_empty());
    // Series selection stays per series.
    assert_eq!(query(&db, 50_000, 60_000, &name).len(), 0);
}
