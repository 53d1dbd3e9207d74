//! Healing this replica's gaps from a peer over remote read.
//!
//! At start-up, before the server reports ready and before scraping starts, every pool's
//! `up` history over `--cluster.backfill.max-window` is checked (`gaps`); the holes (the
//! restart's own one included) are read from a peer and appended. The samples are newer
//! than anything in the head, so they go in as ordinary in-order appends, whatever the
//! out-of-order window. While running, the check repeats every
//! `--cluster.backfill.check-interval` over the time since the previous check; holes found
//! then (a stalled scrape loop, the seconds between the start-up fetch and the first
//! scrape) are older than the head's newest samples and go in through the out-of-order
//! window, which a cluster enables (1 h unless configured).
//!
//! Nothing is written twice: samples the replica has for the series at that timestamp are
//! skipped, and a copied peer `up` sample closes the hole for later checks.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use argus_model::{now_ms, Appendable as _, Labels, MatchOp, Matcher, Queryable as _};
use prometheus::{Gauge, Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts, Registry};

use super::gaps::{holes, PoolHoles, TargetHoles};
use super::read_client::{self, eq};
use super::{ms, Cluster};
use crate::app::App;

/// Longest window of one remote-read request.
const FETCH_CHUNK_MS: i64 = 10 * 60_000;
/// Samples per commit.
const BATCH: usize = 50_000;

/// `argus_cluster_backfill_*`.
#[derive(Clone)]
pub struct BackfillMetrics {
    runs: IntCounterVec,
    holes: IntCounter,
    series: IntCounter,
    samples: IntCounter,
    skipped: IntCounterVec,
    fetch_failures: IntCounter,
    duration: Histogram,
    last_success: Gauge,
}

impl BackfillMetrics {
    pub fn new(r: &Registry) -> anyhow::Result<BackfillMetrics> {
        let m = BackfillMetrics {
            runs: IntCounterVec::new(
                Opts::new(
                    "argus_cluster_backfill_runs_total",
                    "Gap checks by trigger (startup, periodic) and result (ok, failed, timeout).",
                ),
                &["trigger", "result"],
            )?,
            holes: IntCounter::new(
                "argus_cluster_backfill_gaps_total",
                "Holes found in this replica's own scrape history (per target).",
            )?,
            series: IntCounter::new(
                "argus_cluster_backfill_series_total",
                "Series that received backfilled samples.",
            )?,
            samples: IntCounter::new(
                "argus_cluster_backfill_samples_total",
                "Samples copied from peers into local storage.",
            )?,
            skipped: IntCounterVec::new(
                Opts::new(
                    "argus_cluster_backfill_samples_skipped_total",
                    "Peer samples not copied, by reason (present, outside_gap, no_target, rejected).",
                ),
                &["reason"],
            )?,
            fetch_failures: IntCounter::new(
                "argus_cluster_backfill_fetch_failures_total",
                "Remote-read requests to peers that failed.",
            )?,
            duration: Histogram::with_opts(
                HistogramOpts::new(
                    "argus_cluster_backfill_duration_seconds",
                    "Duration of gap checks that found gaps, fetch and write included.",
                )
                .buckets(vec![0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0]),
            )?,
            last_success: Gauge::new(
                "argus_cluster_backfill_last_success_timestamp_seconds",
                "When a gap check last completed without errors.",
            )?,
        };
        r.register(Box::new(m.runs.clone()))?;
        r.register(Box::new(m.holes.clone()))?;
        r.register(Box::new(m.series.clone()))?;
        r.register(Box::new(m.samples.clone()))?;
        r.register(Box::new(m.skipped.clone()))?;
        r.register(Box::new(m.fetch_failures.clone()))?;
        r.register(Box::new(m.duration.clone()))?;
        r.register(Box::new(m.last_success.clone()))?;
        Ok(m)
    }
}

/// What one pool's check did.
#[derive(Debug, Default, Clone)]
struct PoolOutcome {
    holes: usize,
    series: usize,
    samples: usize,
    fetched: usize,
    peer: String,
}

/// Pool names and scrape intervals of the current configuration.
fn pools(app: &App) -> Vec<(String, i64)> {
    app.cluster
        .as_ref()
        .map(|c| c.pools.read().clone())
        .unwrap_or_default()
}

/// The start-up backfill: retried while peers are unreachable, bounded by the timeout.
/// Returns the time up to which every pool was checked (the periodic check's start).
pub async fn startup(cluster: Arc<Cluster>, app: Arc<App>) -> HashMap<String, i64> {
    let started = Instant::now();
    let timeout = ms(cluster.args.backfill_timeout);
    let mut done: HashMap<String, i64> = HashMap::new();
    if cluster.peers.others().is_empty() {
        return done;
    }
    let max_window = cluster.args.backfill_max_window.as_millis().max(0);
    let mut totals = PoolOutcome::default();
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let now = now_ms();
        let mut failed = 0;
        for (pool, interval) in pools(&app) {
            if done.contains_key(&pool) {
                continue;
            }
            match check_pool(&cluster, &app, &pool, interval, now - max_window, now, true).await {
                Ok(o) => {
                    totals.holes += o.holes;
                    totals.series += o.series;
                    totals.samples += o.samples;
                    done.insert(pool, now);
                }
                Err(e) => {
                    failed += 1;
                    if attempts == 1 {
                        tracing::warn!(pool = %pool, error = format!("{e:#}"), "Start-up backfill of pool failed; retrying until the timeout.");
                    }
                }
            }
        }
        if failed == 0 {
            cluster
                .backfill_metrics
                .runs
                .with_label_values(&["startup", "ok"])
                .inc();
            cluster
                .backfill_metrics
                .last_success
                .set(now_ms() as f64 / 1000.0);
            tracing::info!(
                pools = done.len(),
                gaps = totals.holes,
                series = totals.series,
                samples = totals.samples,
                attempts,
                duration_ms = started.elapsed().as_millis() as u64,
                "Start-up backfill finished."
            );
            return done;
        }
        if started.elapsed() + Duration::from_secs(1) >= timeout {
            cluster
                .backfill_metrics
                .runs
                .with_label_values(&["startup", "timeout"])
                .inc();
            tracing::warn!(
                failed_pools = failed,
                timeout = %cluster.args.backfill_timeout,
                "Start-up backfill gave up: peers unreachable. Becoming ready with the gaps; the periodic check retries."
            );
            return done;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = app.shutdown.cancelled() => return done,
        }
    }
}

/// The periodic check, from where the start-up check ended.
pub async fn periodic(cluster: Arc<Cluster>, app: Arc<App>, mut checked: HashMap<String, i64>) {
    let every = ms(cluster.args.backfill_check_interval).max(Duration::from_millis(500));
    let max_window = cluster.args.backfill_max_window.as_millis().max(0);
    // Pools whose last check failed: warn once per outage, not every interval.
    let mut failing: HashSet<String> = HashSet::new();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = app.shutdown.cancelled() => return,
        }
        if cluster.peers.others().is_empty() {
            continue;
        }
        let now = now_ms();
        let mut ok = true;
        for (pool, interval) in pools(&app) {
            // A new pool is checked from now on; what came before it is not a gap.
            let from = *checked.entry(pool.clone()).or_insert(now);
            let start = (from - 3 * interval).max(now - max_window);
            match check_pool(&cluster, &app, &pool, interval, start, now, false).await {
                Ok(_) => {
                    if failing.remove(&pool) {
                        tracing::info!(pool = %pool, "Gap check works again.");
                    }
                    checked.insert(pool, now);
                }
                Err(e) => {
                    ok = false;
                    if failing.insert(pool.clone()) {
                        tracing::warn!(pool = %pool, error = format!("{e:#}"), "Gap check failed; retrying every check interval.");
                    }
                }
            }
        }
        let m = &cluster.backfill_metrics;
        m.runs
            .with_label_values(&["periodic", if ok { "ok" } else { "failed" }])
            .inc();
        if ok {
            m.last_success.set(now_ms() as f64 / 1000.0);
        }
    }
}

fn up_matchers(pool: &str) -> anyhow::Result<Vec<Matcher>> {
    Ok(vec![
        Matcher::new(MatchOp::Equal, "__name__", "up")?,
        Matcher::new(MatchOp::Equal, "job", pool)?,
    ])
}

/// Timestamps of every series matching `ms` in `[start, end]`, by labels.
fn local_timestamps(
    app: &App,
    start: i64,
    end: i64,
    ms: &[Matcher],
) -> anyhow::Result<HashMap<Labels, Vec<i64>>> {
    let q = app.db.querier(start, end)?;
    let mut set = q.select(false, None, ms);
    let mut out = HashMap::new();
    while let Some(s) = set.next() {
        let s = s?;
        let mut it = s.iterator();
        let mut ts = Vec::new();
        while it.next() {
            let t = it.at().t;
            if t >= start && t <= end {
                ts.push(t);
            }
        }
        out.insert(s.labels().clone(), ts);
    }
    Ok(out)
}

/// Finds the holes of one pool in `[start, end]` and fills them from the first peer that
/// answers.
async fn check_pool(
    cluster: &Arc<Cluster>,
    app: &Arc<App>,
    pool: &str,
    interval: i64,
    start: i64,
    end: i64,
    startup: bool,
) -> anyhow::Result<PoolOutcome> {
    let began = Instant::now();
    let ms = up_matchers(pool)?;
    let own = {
        let app = app.clone();
        tokio::task::spawn_blocking(move || local_timestamps(&app, start - 2 * interval, end, &ms))
            .await??
    };
    let active: Vec<Labels> = app
        .scrape
        .active_targets()
        .into_iter()
        .filter(|t| t.scrape_pool == pool)
        .map(|t| {
            let pairs: Vec<(&String, &String)> = t.labels.iter().collect();
            Labels::from_pairs(&pairs)
        })
        .collect();
    let mut targets: BTreeMap<Labels, Vec<i64>> = own
        .into_iter()
        .map(|(l, ts)| (l.without_metric_name(), ts))
        .collect();
    let active_set: HashSet<&Labels> = active.iter().collect();
    for a in &active {
        targets.entry(a.clone()).or_default();
    }
    if startup && targets.is_empty() {
        // A fresh replica (new disk, new pool) knows no targets before its first scrape:
        // take them from the peer's `up`, so it starts with the peer's history.
        for l in peer_targets(cluster, pool, start, end).await? {
            targets.entry(l).or_default();
        }
    }
    let per_target: Vec<TargetHoles> = targets
        .into_iter()
        .map(|(labels, mut ts)| {
            ts.sort_unstable();
            let mut h = holes(&ts, start, end, interval);
            // While running, a target still missing at the end is one this replica no
            // longer scrapes, not a gap to keep filling from a peer.
            if !startup && !active_set.contains(&labels) {
                if let Some(last) = h.last() {
                    if last.hi > end {
                        h.pop();
                    }
                }
            }
            TargetHoles { labels, holes: h }
        })
        .collect();
    let pool_holes = PoolHoles::new(per_target);
    if pool_holes.is_empty() {
        return Ok(PoolOutcome::default());
    }
    let Some((lo, hi)) = pool_holes.span() else {
        return Ok(PoolOutcome::default());
    };
    let mut errors = Vec::new();
    for (addr, base) in cluster.peers.by_preference(cluster.pushpull() * 3) {
        match fill_from(cluster, app, pool, &pool_holes, lo, hi, &base).await {
            Ok(mut o) => {
                o.holes = pool_holes.count();
                o.peer = addr;
                let m = &cluster.backfill_metrics;
                m.holes.inc_by(o.holes as u64);
                m.duration.observe(began.elapsed().as_secs_f64());
                // Holes the peer had nothing for (a target newer than the window) are
                // not news.
                if o.samples > 0 {
                    tracing::info!(
                        trigger = if startup { "startup" } else { "periodic" },
                        pool = %pool,
                        peer = %o.peer,
                        from = %rfc3339(lo),
                        to = %rfc3339(hi),
                        gaps = o.holes,
                        series_fetched = o.fetched,
                        series = o.series,
                        samples = o.samples,
                        duration_ms = began.elapsed().as_millis() as u64,
                        "Backfilled gaps from peer."
                    );
                } else {
                    tracing::debug!(
                        trigger = if startup { "startup" } else { "periodic" },
                        pool = %pool,
                        peer = %o.peer,
                        from = %rfc3339(lo),
                        to = %rfc3339(hi),
                        gaps = o.holes,
                        series_fetched = o.fetched,
                        series = o.series,
                        samples = o.samples,
                        duration_ms = began.elapsed().as_millis() as u64,
                        "Backfilled gaps from peer."
                    );
                }
                return Ok(o);
            }
            Err(e) => {
                cluster.backfill_metrics.fetch_failures.inc();
                errors.push(format!("{addr}: {e:#}"));
            }
        }
    }
    anyhow::bail!(
        "no peer could fill {} gap(s) in [{}, {}]: {}",
        pool_holes.count(),
        rfc3339(lo),
        rfc3339(hi),
        errors.join("; ")
    )
}

/// The peer's targets of `pool` in `[start, end]` (its `up` series, external labels off).
async fn peer_targets(
    cluster: &Arc<Cluster>,
    pool: &str,
    start: i64,
    end: i64,
) -> anyhow::Result<Vec<Labels>> {
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .build()?;
    let mut errors = Vec::new();
    for (addr, base) in cluster.peers.by_preference(cluster.pushpull() * 3) {
        let ms = vec![eq("__name__", "up"), eq("job", pool)];
        match read_client::read(&client, &base, start, end, ms, Duration::from_secs(30)).await {
            Ok(series) => {
                return Ok(series
                    .into_iter()
                    .map(|ts| strip_external(cluster, ts.labels).without_metric_name())
                    .collect())
            }
            Err(e) => {
                cluster.backfill_metrics.fetch_failures.inc();
                errors.push(format!("{addr}: {e:#}"));
            }
        }
    }
    anyhow::bail!("no peer listed its targets: {}", errors.join("; "))
}

/// A peer's series labels without the labels it added: its replica label, and external
/// labels this replica has with the same value.
fn strip_external(
    cluster: &Cluster,
    labels: Vec<argus_query::api::remote_read::proto::Label>,
) -> Labels {
    let replica_label = &cluster.args.replica_label;
    let own = cluster.external.read();
    let pairs: Vec<(String, String)> = labels
        .into_iter()
        .filter(|l| &l.name != replica_label && own.get(&l.name) != Some(&l.value))
        .map(|l| (l.name, l.value))
        .collect();
    Labels::from_pairs(&pairs)
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| ms.to_string())
}

/// Reads `[lo, hi]` of the pool from one peer, chunk by chunk in time order, and appends
/// the samples that fall in holes and are not present yet.
#[allow(clippy::too_many_arguments)]
async fn fill_from(
    cluster: &Arc<Cluster>,
    app: &Arc<App>,
    pool: &str,
    pool_holes: &PoolHoles,
    lo: i64,
    hi: i64,
    base: &str,
) -> anyhow::Result<PoolOutcome> {
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .build()?;
    let mut out = PoolOutcome::default();
    let mut touched: HashSet<Labels> = HashSet::new();
    let mut t0 = lo;
    while t0 <= hi {
        let t1 = (t0 + FETCH_CHUNK_MS - 1).min(hi);
        let series = read_client::read(
            &client,
            base,
            t0,
            t1,
            vec![eq("job", pool)],
            Duration::from_secs(120),
        )
        .await?;
        out.fetched = out.fetched.max(series.len());
        let batch: Vec<(Labels, Vec<(i64, f64)>)> = series
            .into_iter()
            .map(|ts| {
                let samples = ts.samples.iter().map(|s| (s.timestamp, s.value)).collect();
                (strip_external(cluster, ts.labels), samples)
            })
            .collect();
        let mut wanted = Vec::with_capacity(batch.len());
        let mut no_target = 0u64;
        let mut outside = 0u64;
        for (labels, samples) in batch {
            let Some(hs) = pool_holes.for_series(&labels) else {
                no_target += samples.len() as u64;
                continue;
            };
            let n = samples.len();
            let keep: Vec<(i64, f64)> = samples
                .into_iter()
                .filter(|(t, _)| hs.iter().any(|h| h.contains(*t)))
                .collect();
            outside += (n - keep.len()) as u64;
            if !keep.is_empty() {
                wanted.push((labels, keep));
            }
        }
        let m = &cluster.backfill_metrics;
        m.skipped
            .with_label_values(&["no_target"])
            .inc_by(no_target);
        m.skipped
            .with_label_values(&["outside_gap"])
            .inc_by(outside);
        if !wanted.is_empty() {
            let app2 = app.clone();
            let pool2 = pool.to_owned();
            let (written, present, rejected, series) =
                tokio::task::spawn_blocking(move || write(&app2, &pool2, t0, t1, wanted)).await??;
            m.samples.inc_by(written as u64);
            m.skipped
                .with_label_values(&["present"])
                .inc_by(present as u64);
            m.skipped
                .with_label_values(&["rejected"])
                .inc_by(rejected as u64);
            out.samples += written;
            touched.extend(series);
        }
        t0 = t1 + 1;
    }
    out.series = touched.len();
    cluster.backfill_metrics.series.inc_by(out.series as u64);
    Ok(out)
}

/// Appends the samples the replica does not have yet. Returns (written, already present,
/// rejected by storage, series written to).
fn write(
    app: &App,
    pool: &str,
    start: i64,
    end: i64,
    wanted: Vec<(Labels, Vec<(i64, f64)>)>,
) -> anyhow::Result<(usize, usize, usize, Vec<Labels>)> {
    let existing = local_timestamps(
        app,
        start,
        end,
        &[Matcher::new(MatchOp::Equal, "job", pool)?],
    )?;
    let (mut written, mut present, mut rejected) = (0, 0, 0);
    let mut series = Vec::new();
    let mut app_ = app.db.appender();
    let mut pending = 0usize;
    for (labels, samples) in wanted {
        let have: HashSet<i64> = existing
            .get(&labels)
            .map(|v| v.iter().copied().collect())
            .unwrap_or_default();
        let mut r = None;
        let mut any = false;
        for (t, v) in samples {
            if have.contains(&t) {
                present += 1;
                continue;
            }
            match app_.append(r, &labels, t, v) {
                Ok(sr) => {
                    r = Some(sr);
                    written += 1;
                    pending += 1;
                    any = true;
                }
                Err(e) if e.is_sample_rejection() => rejected += 1,
                Err(e) => return Err(e.into()),
            }
        }
        if any {
            series.push(labels);
        }
        if pending >= BATCH {
            app_.commit()?;
            app_ = app.db.appender();
            pending = 0;
        }
    }
    app_.commit()?;
    Ok((written, present, rejected, series))
}
