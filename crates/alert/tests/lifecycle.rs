//! Scheduling on aligned slots, `for`-state restore after a restart, reloads that keep
//! state, and the tokio run loop on paused time.

#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use argus_alert::rules::alerting::AlertState;
use argus_alert::rules::group::{eval_timestamp, group_hash};
use argus_alert::rules::Rule;
use argus_alert::Clock;
use argus_model::memstore::MemStorage;
use argus_model::Labels;
use common::{fill, Setup, MIN};

#[test]
fn groups_evaluate_on_their_hash_offset_slots() {
    // The slot grid is interval-aligned plus hash % interval.
    let (file, name) = ("rules.yml", "g");
    let offset = (group_hash(file, name) % 60_000_000_000) as i64 / 1_000_000;
    let now = 1_700_000_012_345;
    let ts = eval_timestamp(file, name, MIN, now);
    assert!(ts <= now && now - ts < MIN);
    assert_eq!(ts.rem_euclid(MIN), offset);
    // Different groups land on different offsets.
    assert_ne!(eval_timestamp(file, "other", MIN, now), ts);

    let s = Setup::new(
        "groups:\n- name: g\n  rules:\n  - record: r\n    expr: vector(1)\n",
        |_| {},
    );
    let g = s.mgr.groups()[0].clone();
    let start = 1_700_000_000_000;
    s.clock.set(start);
    assert_eq!(
        s.mgr.step(start),
        0,
        "the first evaluation waits for the next slot"
    );
    let first = g.next_eval_ts(start);
    assert_eq!(first, eval_timestamp(&g.file, "g", MIN, start) + MIN);
    s.clock.set(first + 10);
    assert_eq!(s.mgr.step(first + 10), 1);
    assert_eq!(
        s.series("r")[0].1[0].t,
        first,
        "evaluated at the slot, not at the wall time"
    );
    // Fall behind by 2.5 intervals: one evaluation at the newest slot, two counted missed.
    let late = first + 3 * MIN + 30_000;
    s.clock.set(late);
    assert_eq!(s.mgr.step(late), 1);
    assert_eq!(s.series("r")[0].1.last().unwrap().t, first + 3 * MIN);
    assert_eq!(s.metric("argus_rule_group_iterations_missed_total"), 2.0);
    assert_eq!(s.metric("argus_rule_group_iterations_total"), 4.0);
    assert_eq!(g.next_eval_ts(late), first + 4 * MIN);
}

const FOR_RULES: &str =
    "groups:\n- name: g\n  interval: 1m\n  rules:\n  - alert: A\n    expr: x > 0\n    for: FOR\n";

fn active_at(s: &Setup) -> Vec<(AlertState, i64)> {
    let g = &s.mgr.groups()[0];
    let r = g.rules()[0].lock();
    let Rule::Alerting(a) = &*r else { panic!() };
    a.active
        .values()
        .map(|x| (x.state, x.active_at_ms))
        .collect()
}

/// Runs a first life from `base` to `base + down_after`, then restarts at `restart`;
/// returns (second life setup, restore time).
fn restart(hold: &str, down_after: i64, restart: i64) -> (Setup, i64) {
    let base = 1_700_000_040_000;
    let storage = Arc::new(MemStorage::new());
    let x = Labels::from_pairs(&[("__name__", "x"), ("job", "a")]);
    fill(&storage, &x, base, base + 5 * 3_600_000, 1.0);
    let rules = FOR_RULES.replace("FOR", hold);
    let first = Setup::with_storage(&rules, storage.clone(), |_| {});
    let mut t = base;
    while t <= base + down_after {
        first.eval(t);
        t += MIN;
    }
    assert_eq!(active_at(&first)[0].1, base);
    drop(first);
    let second = Setup::with_storage(&rules, storage, |o| o.restore_for_state = true);
    let now = base + restart;
    second.clock.set(now);
    second.mgr.step(now);
    let g = second.mgr.groups()[0].clone();
    let slot = g.next_eval_ts(now);
    second.clock.set(slot);
    assert_eq!(second.mgr.step(slot), 1);
    assert!(
        second
            .series("ALERTS")
            .iter()
            .all(|(_, s)| s.iter().all(|x| x.t < slot)),
        "no ALERTS before restore"
    );
    second.clock.set(slot + MIN);
    assert_eq!(second.mgr.step(slot + MIN), 1);
    (second, slot + MIN)
}

#[test]
fn for_state_restored_after_restart() {
    let base = 1_700_000_040_000;
    // for 30m, 10m pending before going down: the downtime doesn't count as pending time.
    let (s, restored_at) = restart("30m", 10 * MIN, 15 * MIN);
    let down_at = base + 10 * MIN;
    assert_eq!(
        active_at(&s),
        vec![(AlertState::Pending, base + (restored_at - down_at))]
    );
    let fires_at = base + (restored_at - down_at) + 30 * MIN;
    let g = s.mgr.groups()[0].clone();
    let mut t = restored_at;
    while t < fires_at {
        s.clock.set(t + MIN);
        g.step(t + MIN);
        t += MIN;
    }
    assert_eq!(
        active_at(&s)[0].0,
        AlertState::Firing,
        "fires 30m of pending time after it first became active"
    );
}

#[test]
fn restore_respects_grace_period_and_outage_tolerance() {
    let base = 1_700_000_040_000;
    // for 15m with 10m already pending: 5m left is below the 10m grace period, so it fires a
    // grace period after the restore.
    let (s, restored_at) = restart("15m", 10 * MIN, 15 * MIN);
    assert_eq!(active_at(&s)[0].1, restored_at + 10 * MIN - 15 * MIN);
    // Was already firing when it went down: ActiveAt is kept, it fires right away.
    let (s, _) = restart("15m", 20 * MIN, 25 * MIN);
    assert_eq!(active_at(&s)[0].1, base);
    // Down longer than the 1h outage tolerance: nothing to restore.
    let (s, restored_at) = restart("30m", 10 * MIN, 2 * 3_600_000);
    assert!(
        active_at(&s)[0].1 > restored_at - 3 * MIN,
        "{:?}",
        active_at(&s)
    );
    // `for` shorter than the grace period: not restored at all.
    let (s, restored_at) = restart("5m", 3 * MIN, 10 * MIN);
    assert!(active_at(&s)[0].1 >= restored_at - MIN);
}

#[test]
fn reload_keeps_unchanged_groups_and_alert_state() {
    let v1 = "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: x > 0\n    for: 1h\n- name: b\n  rules:\n  - alert: B\n    expr: x > 0\n    for: 1h\n    annotations: {v: one}\n- name: c\n  rules:\n  - record: c\n    expr: x\n";
    let s = Setup::new(v1, |_| {});
    let x = Labels::from_pairs(&[("__name__", "x"), ("job", "a")]);
    fill(&s.storage, &x, 0, 30 * MIN, 1.0);
    s.eval(0);
    s.eval(MIN);
    let before = s.mgr.groups();
    // b changes an annotation, c is removed.
    let v2 = v1
        .replace("v: one", "v: two")
        .replace("- name: c\n  rules:\n  - record: c\n    expr: x\n", "");
    s.rewrite(&v2);
    s.clock.set(2 * MIN + 1);
    s.mgr.load(&[s.file()]).unwrap();
    let after = s.mgr.groups();
    assert_eq!(after.len(), 2);
    assert!(
        Arc::ptr_eq(&before[0], &after[0]),
        "unchanged group is kept as is"
    );
    assert!(
        !Arc::ptr_eq(&before[1], &after[1]),
        "changed group is rebuilt"
    );
    let r = after[1].rules()[0].lock();
    let Rule::Alerting(b) = &*r else { panic!() };
    assert_eq!(
        b.active.values().next().unwrap().active_at_ms,
        0,
        "alert state carried over"
    );
    drop(r);
    let c = s.series("c");
    assert!(
        argus_model::is_stale_nan(c[0].1.last().unwrap().v),
        "removed group's series go stale"
    );
    // A broken file keeps the old rule set.
    s.rewrite("groups:\n- name: a\n  rules:\n  - alert: A\n    expr: x >\n");
    let e = s.mgr.load(&[s.file()]).unwrap_err();
    assert!(e.to_string().contains("could not parse expression"), "{e}");
    assert_eq!(s.mgr.groups().len(), 2);
}

/// A clock on tokio's (paused) time, so the run loop can be driven without sleeping.
struct TokioClock {
    base_ms: i64,
    start: tokio::time::Instant,
}

impl Clock for TokioClock {
    fn now_ms(&self) -> i64 {
        self.base_ms + self.start.elapsed().as_millis() as i64
    }
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn run_loop_evaluates_on_schedule_without_sleeping() {
    let clock = Arc::new(TokioClock {
        base_ms: 1_700_000_000_000,
        start: tokio::time::Instant::now(),
    });
    let c2 = clock.clone();
    let s = Setup::new(
        "groups:\n- name: g\n  interval: 10s\n  rules:\n  - record: r\n    expr: vector(1)\n",
        move |o| {
            o.clock = c2;
        },
    );
    s.mgr.run().unwrap();
    assert!(s.mgr.is_running());
    let wall = std::time::Instant::now();
    // Let simulated time pass: one minute of 10s intervals.
    for _ in 0..70 {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        // Blocking evaluations finish on the blocking pool; give them a moment.
        tokio::task::yield_now().await;
    }
    s.mgr.stop();
    let samples = s.series("r");
    let n = samples.first().map_or(0, |x| x.1.len());
    assert!(
        (5..=7).contains(&n),
        "about six evaluations in a simulated minute, got {n}"
    );
    let ts: Vec<i64> = samples[0].1.iter().map(|x| x.t).collect();
    assert!(ts.windows(2).all(|w| w[1] - w[0] == 10_000), "{ts:?}");
    assert!(
        wall.elapsed() < std::time::Duration::from_secs(20),
        "no real sleeping"
    );
}
