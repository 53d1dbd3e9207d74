//! Model-based tests: random appends, queries, head persistence, block compaction and
//! restarts, checked against a reference model after every step.
//!
//! - In-order mode: the reference is `argus_model::memstore::MemStorage`; append results
//!   (accepted / rejected and why) and every query must agree.
//! - Out-of-order mode: a window of a few hours; the reference is a plain sorted map.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use argus_model::memstore::MemStorage;
use argus_model::storage::collect_series;
use argus_model::{
    stale_nan, AppendError, Appendable, Labels, MatchOp, Matcher, Queryable, Sample,
};
use argus_tsdb::{Db, FsyncPolicy, Options, HOUR_MS};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

fn pool() -> Vec<Labels> {
    let mut v = Vec::new();
    for job in ["api", "db", "web"] {
        for inst in 0..4 {
            for name in ["up", "requests_total"] {
                let mut pairs = vec![
                    ("__name__", name.to_string()),
                    ("job", job.to_string()),
                    ("instance", format!("10.0.0.{inst}:9100")),
                ];
                if inst % 2 == 0 {
                    pairs.push(("zone", "a".to_string()));
                }
                v.push(Labels::from_pairs(&pairs));
            }
        }
    }
    v
}

fn value(rng: &mut Rng) -> f64 {
    match rng.below(10) {
        0 => stale_nan(),
        1 => f64::NAN,
        2 => f64::INFINITY,
        3 => 42.0,
        4 => -0.5,
        _ => (rng.below(1_000_000) as f64) / 8.0,
    }
}

fn random_matchers(rng: &mut Rng) -> Vec<Matcher> {
    let mut ms = Vec::new();
    match rng.below(6) {
        0 => ms.push(Matcher::equal("__name__", "up")),
        1 => ms.push(Matcher::new(MatchOp::Regex, "job", "api|web").unwrap()),
        2 => {
            ms.push(Matcher::equal("__name__", "requests_total"));
            ms.push(Matcher::not_equal("job", "db"));
        }
        3 => {
            ms.push(Matcher::new(MatchOp::Regex, "instance", "10\\.0\\.0\\.[12].*").unwrap());
            ms.push(Matcher::equal("zone", ""));
        }
        4 => {
            ms.push(Matcher::new(MatchOp::NotRegex, "job", "a.*").unwrap());
            ms.push(Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap());
        }
        _ => ms.push(Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap()),
    }
    ms
}

fn bits(v: &[(Labels, Vec<Sample>)]) -> Vec<(String, Vec<(i64, u64)>)> {
    v.iter()
        .map(|(l, s)| {
            (
                l.to_string(),
                s.iter().map(|x| (x.t, x.v.to_bits())).collect(),
            )
        })
        .collect()
}

fn opts(ooo: i64) -> Options {
    Options {
        auto_compaction: false,
        fsync: FsyncPolicy::Segment,
        min_block_ms: HOUR_MS,
        out_of_order_window_ms: ooo,
        wal_segment_bytes: 256 << 10,
        ..Options::default()
    }
}

fn same_rejection(a: &AppendError, b: &AppendError) -> bool {
    matches!(
        (a, b),
        (AppendError::OutOfOrder, AppendError::OutOfOrder)
            // Prometheus reports a sample older than persisted data as out of bounds even when
            // the series also has newer samples; the model only knows "out of order".
            | (AppendError::OutOfBounds, AppendError::OutOfOrder)
            | (AppendError::OutOfBounds, AppendError::DuplicateSample)
            | (AppendError::DuplicateSample, AppendError::DuplicateSample)
            | (AppendError::InvalidLabels { .. }, AppendError::InvalidLabels { .. })
    )
}

fn run_in_order(seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Db::open(dir.path(), opts(0), &prometheus::Registry::new()).unwrap();
    let model = MemStorage::new();
    let mut rng = Rng(seed);
    let pool = pool();
    let mut last: BTreeMap<usize, i64> = BTreeMap::new();
    let mut now = 1_700_000_000_000i64;
    for step in 0..400 {
        now += 10_000 + rng.below(50_000) as i64;
        let mut a = db.appender();
        let mut b = model.appender();
        for _ in 0..rng.below(12) {
            let i = rng.below(pool.len() as u64) as usize;
            let l = &pool[i];
            // Mostly in order; sometimes a repeat or an older timestamp of the same series.
            let t = match (last.get(&i), rng.below(10)) {
                // Repeats only of recent samples: a repeat far behind the head is out of
                // bounds in Prometheus even with the same value, which the model accepts.
                (Some(&lt), 0) if lt > now - 1_800_000 => lt,
                (Some(&lt), 1) => lt - 1 - rng.below(30_000) as i64,
                _ => now + rng.below(5_000) as i64,
            };
            let v = value(&mut rng);
            let ra = a.append(None, l, t, v);
            let rb = b.append(None, l, t, v);
            match (&ra, &rb) {
                (Ok(_), Ok(_)) => {
                    let e = last.entry(i).or_insert(t);
                    *e = (*e).max(t);
                }
                (Err(x), Err(y)) => assert!(same_rejection(x, y), "step {step}: {x:?} vs {y:?}"),
                _ => panic!("step {step}: db {ra:?} vs model {rb:?} for {l} @ {t}"),
            }
        }
        a.commit().unwrap();
        b.commit().unwrap();
        match rng.below(40) {
            0 => db.compact().unwrap(),
            1 => {
                db.close().unwrap();
                drop(db);
                db = Db::open(dir.path(), opts(0), &prometheus::Registry::new()).unwrap();
            }
            _ => {}
        }
        if rng.chance(30) {
            let span = rng.below(6 * HOUR_MS as u64) as i64;
            let mint = now - span - rng.below(HOUR_MS as u64) as i64;
            let maxt = mint + span;
            let ms = random_matchers(&mut rng);
            let got = collect_series(
                db.querier(mint, maxt)
                    .unwrap()
                    .select(true, None, &ms)
                    .as_mut(),
            )
            .unwrap();
            let want = collect_series(
                model
                    .querier(mint, maxt)
                    .unwrap()
                    .select(true, None, &ms)
                    .as_mut(),
            )
            .unwrap();
            assert_eq!(
                bits(&got),
                bits(&want),
                "step {step} seed {seed} [{mint},{maxt}] {ms:?}"
            );
        }
    }
    // Everything, after a final compaction and a restart.
    db.compact().unwrap();
    db.close().unwrap();
    let db = Db::open(dir.path(), opts(0), &prometheus::Registry::new()).unwrap();
    assert!(!db.blocks().is_empty(), "the run persisted blocks");
    let all = [Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap()];
    let got = collect_series(
        db.querier(i64::MIN, i64::MAX)
            .unwrap()
            .select(true, None, &all)
            .as_mut(),
    )
    .unwrap();
    let want = collect_series(
        model
            .querier(i64::MIN, i64::MAX)
            .unwrap()
            .select(true, None, &all)
            .as_mut(),
    )
    .unwrap();
    assert_eq!(bits(&got), bits(&want));
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let mq = model.querier(i64::MIN, i64::MAX).unwrap();
    let ms = [Matcher::equal("__name__", "up")];
    assert_eq!(
        q.label_values("instance", &Default::default(), &ms)
            .unwrap()
            .0,
        mq.label_values("instance", &Default::default(), &ms)
            .unwrap()
            .0
    );
    assert_eq!(
        q.label_names(&Default::default(), &ms).unwrap().0,
        mq.label_names(&Default::default(), &ms).unwrap().0
    );
}

#[test]
fn in_order_matches_memstorage() {
    for seed in [1, 0xdead_beef, 77_777] {
        run_in_order(seed);
    }
}

#[test]
fn out_of_order_matches_reference() {
    let window = 3 * HOUR_MS;
    let dir = tempfile::tempdir().unwrap();
    let mut db = Db::open(dir.path(), opts(window), &prometheus::Registry::new()).unwrap();
    let mut model: BTreeMap<Labels, BTreeMap<i64, u64>> = BTreeMap::new();
    let mut rng = Rng(0x1234_5678);
    let pool = pool();
    let mut head_max = i64::MIN;
    let base = 1_700_000_000_000i64;
    for step in 0..300 {
        let mut a = db.appender();
        let mut accepted = Vec::new();
        for _ in 0..rng.below(16) {
            let i = rng.below(pool.len() as u64) as usize;
            // Unique timestamps per series (offset by the series index), in random order
            // within [max − window, max + 10 min], with time drifting forward.
            let drift = step as i64 * 120_000;
            let k = (drift - window + rng.below((window + 600_000) as u64) as i64) / 1000;
            let t = base + k * 1000 + i as i64;
            let v = value(&mut rng);
            match a.append(None, &pool[i], t, v) {
                Ok(_) => accepted.push((i, t, v)),
                Err(AppendError::TooOld) => {
                    assert!(
                        t < head_max - window,
                        "step {step}: too old but inside the window"
                    );
                }
                Err(AppendError::DuplicateSample) => {
                    assert!(model.get(&pool[i]).is_some_and(|m| m.contains_key(&t)));
                }
                Err(e) => panic!("step {step}: unexpected {e:?}"),
            }
        }
        a.commit().unwrap();
        for (i, t, v) in accepted {
            model
                .entry(pool[i].clone())
                .or_default()
                .entry(t)
                .or_insert(v.to_bits());
            head_max = head_max.max(t);
        }
        match rng.below(30) {
            0 => db.compact().unwrap(),
            1 => db.flush_head().unwrap(),
            2 => {
                db.close().unwrap();
                drop(db);
                db = Db::open(dir.path(), opts(window), &prometheus::Registry::new()).unwrap();
            }
            _ => {}
        }
        if rng.chance(25) || step == 299 {
            let ms = random_matchers(&mut rng);
            let got = collect_series(
                db.querier(i64::MIN, i64::MAX)
                    .unwrap()
                    .select(true, None, &ms)
                    .as_mut(),
            )
            .unwrap();
            let want: Vec<(String, Vec<(i64, u64)>)> = model
                .iter()
                .filter(|(l, _)| ms.iter().all(|m| m.matches(l.get_or_empty(&m.name))))
                .map(|(l, s)| (l.to_string(), s.iter().map(|(t, v)| (*t, *v)).collect()))
                .collect();
            assert_eq!(bits(&got), want, "step {step} {ms:?}");
        }
    }
    db.compact().unwrap();
    let blocks = db.blocks();
    assert!(!blocks.is_empty());
    for w in blocks.windows(2) {
        assert!(
            w[0].meta().max_time <= w[1].meta().min_time,
            "compaction left overlapping blocks"
        );
    }
}
