//! One target's scrape loop: wait for the target's offset, then every interval fetch,
//! parse and append (on a blocking thread, since storage commits write the WAL), and
//! write the report series `up`, `scrape_duration_seconds`, `scrape_samples_scraped`,
//! `scrape_samples_post_metric_relabeling` and `scrape_series_added`.
//!
//! Failure handling follows Prometheus' `scrapeAndReport`: a failed fetch, a parse error
//! or a broken limit rolls the scrape's samples back, writes stale markers for everything
//! the last successful scrape wrote, and reports `up 0` with the error as `lastError`.
//! When the loop is stopped because its target went away, it waits until the next
//! scrape would have been due and then writes stale markers for all its series (not on
//! shutdown, and not when a reload replaces the loop).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use argus_model::{stale_nan, Appendable, Labels, LabelsBuilder, METRIC_NAME};
use parking_lot::RwLock;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::debug;

use crate::metrics::ScrapeMetrics;
use crate::scrape_cache::{AppendStats, ScrapeCache, ScrapeFailure, ScrapeSettings, REPORT_NAMES};
use crate::scraper::HttpScraper;
use crate::target::{scrape_offset, Health, Target};

/// What loops of one pool share.
pub(crate) struct LoopCtx {
    pub appendable: Arc<dyn Appendable>,
    pub scraper: Arc<HttpScraper>,
    pub metrics: ScrapeMetrics,
    /// Set when the pool exceeds `target_limit`: every scrape reports it instead.
    pub forced_error: Arc<RwLock<Option<String>>>,
    pub offset_seed: u64,
    pub shutdown: CancellationToken,
    pub job: String,
}

/// A running loop.
pub(crate) struct LoopHandle {
    pub target: Arc<Target>,
    /// The scrape config the loop runs with.
    pub cfg: Arc<crate::config::ScrapeConfig>,
    pub stop: CancellationToken,
    /// Cleared when a reload replaces the loop (the new loop continues its series).
    pub end_of_run_staleness: Arc<AtomicBool>,
    pub join: JoinHandle<ScrapeCache>,
}

impl LoopHandle {
    /// Stops the loop; with `staleness`, its series get stale markers after one interval.
    pub fn stop(&self, staleness: bool) {
        self.end_of_run_staleness.store(staleness, Ordering::SeqCst);
        self.stop.cancel();
    }
}

/// Starts a loop for `target`. `prev` is the join handle of the loop it replaces (on
/// reload), whose cache it continues; `reuse_series` keeps that cache's series map too.
pub(crate) fn spawn_loop(
    ctx: Arc<LoopCtx>,
    target: Arc<Target>,
    settings: ScrapeSettings,
    prev: Option<(JoinHandle<ScrapeCache>, bool)>,
) -> LoopHandle {
    let stop = CancellationToken::new();
    let staleness = Arc::new(AtomicBool::new(true));
    let cfg = settings.cfg.clone();
    let join = tokio::spawn(run(
        ctx,
        target.clone(),
        settings,
        prev,
        stop.clone(),
        staleness.clone(),
    ));
    LoopHandle {
        target,
        cfg,
        stop,
        end_of_run_staleness: staleness,
        join,
    }
}

fn report_labels(target: &Target) -> Vec<Labels> {
    let public = target.public_labels();
    REPORT_NAMES
        .iter()
        .map(|name| {
            let mut b = LabelsBuilder::from(&public);
            b.set(METRIC_NAME, name);
            b.build()
        })
        .collect()
}

fn now_ms(t: SystemTime) -> i64 {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

async fn run(
    ctx: Arc<LoopCtx>,
    target: Arc<Target>,
    settings: ScrapeSettings,
    prev: Option<(JoinHandle<ScrapeCache>, bool)>,
    stop: CancellationToken,
    staleness: Arc<AtomicBool>,
) -> ScrapeCache {
    let mut cache = match prev {
        Some((join, reuse)) => match join.await {
            Ok(mut c) if !reuse => c.carry_staleness(),
            Ok(c) => c,
            Err(_) => ScrapeCache::new(),
        },
        None => ScrapeCache::new(),
    };
    let report = Arc::new(report_labels(&target));
    let interval = target.interval;
    let offset = scrape_offset(target.hash, ctx.offset_seed, interval);
    tokio::select! {
        _ = stop.cancelled() => return cache,
        _ = ctx.shutdown.cancelled() => return cache,
        _ = tokio::time::sleep(offset) => {}
    }
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_ts = None;
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = ctx.shutdown.cancelled() => return cache,
            _ = ticker.tick() => {}
        }
        let start = SystemTime::now();
        let ts = now_ms(start);
        cache = scrape_once(&ctx, &target, &settings, cache, &report, start).await;
        last_ts = Some(ts);
    }
    if !staleness.load(Ordering::SeqCst) {
        return cache;
    }
    // Wait until the next scrape would have been due: if the target reappears (in this
    // or another pool), its fresh samples are there before the markers.
    tokio::select! {
        _ = ctx.shutdown.cancelled() => return cache,
        _ = ticker.tick() => {}
    }
    if !staleness.load(Ordering::SeqCst) {
        return cache;
    }
    let interval_ms = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
    let stale_ts = last_ts.map_or_else(
        || now_ms(SystemTime::now()),
        |t| t.saturating_add(interval_ms),
    );
    let mut series = cache.take_all_series();
    series.extend(report.iter().cloned());
    let appendable = ctx.appendable.clone();
    let res = tokio::task::spawn_blocking(move || {
        let mut app = appendable.appender();
        for l in &series {
            let _ = app.append(None, l, stale_ts, stale_nan());
        }
        app.commit()
    })
    .await;
    if let Ok(Err(e)) = res {
        debug!(target = %target.url, error = %e, "Writing end-of-run stale markers failed.");
    }
    cache
}

async fn scrape_once(
    ctx: &Arc<LoopCtx>,
    target: &Arc<Target>,
    settings: &ScrapeSettings,
    cache: ScrapeCache,
    report: &Arc<Vec<Labels>>,
    start: SystemTime,
) -> ScrapeCache {
    let began = Instant::now();
    let ts = now_ms(start);
    let forced = ctx.forced_error.read().clone();
    let fetched = match forced {
        Some(e) => Err((e, false)),
        None => ctx
            .scraper
            .fetch(&target.url, target.timeout)
            .await
            .map_err(|e| (e.msg, e.body_limit)),
    };
    if let Err((_, true)) = &fetched {
        ctx.metrics.exceeded_body_size_limit.inc();
    }
    let appendable = ctx.appendable.clone();
    let settings = settings.clone();
    let report = report.clone();
    let job = tokio::task::spawn_blocking(move || {
        let mut cache = cache;
        let outcome = append_scrape(
            &*appendable,
            &mut cache,
            fetched,
            ts,
            &settings,
            &report,
            began,
        );
        (cache, outcome)
    });
    let (mut cache, outcome) = match job.await {
        Ok(v) => v,
        Err(e) => {
            // The blocking task panicked or was cancelled: start over with an empty cache
            // rather than lose the loop.
            debug!(target = %target.url, error = %e, "Scrape task failed.");
            (
                ScrapeCache::new(),
                Outcome::failed(format!("internal error: {e}"), AppendStats::default()),
            )
        }
    };
    let m = &ctx.metrics;
    m.sample_out_of_order.inc_by(outcome.stats.out_of_order);
    m.sample_duplicate.inc_by(outcome.stats.duplicate);
    m.sample_out_of_bounds.inc_by(outcome.stats.out_of_bounds);
    match &outcome.failure {
        Some(ScrapeFailure::SampleLimit(_)) => m.exceeded_sample_limit.inc(),
        Some(ScrapeFailure::LabelLimit(_)) => m.exceeded_label_limits.inc(),
        _ => {}
    }
    let result = if outcome.error.is_empty() {
        "success"
    } else {
        "failure"
    };
    m.scrapes
        .with_label_values(&[ctx.job.as_str(), result])
        .inc();
    if !outcome.error.is_empty() {
        debug!(target = %target.url, error = %outcome.error, "Scrape failed.");
    }
    {
        let mut st = target.status.lock();
        st.health = if outcome.error.is_empty() {
            Health::Up
        } else {
            Health::Down
        };
        st.last_error = outcome.error;
        st.last_scrape = Some(start);
        st.last_scrape_duration = outcome.duration;
    }
    if cache.metadata_changed {
        cache.metadata_changed = false;
        *target.metadata.lock() = Arc::new(cache.metadata.clone());
    }
    cache
}

struct Outcome {
    error: String,
    failure: Option<ScrapeFailure>,
    stats: AppendStats,
    duration: Duration,
}

impl Outcome {
    fn failed(error: String, stats: AppendStats) -> Self {
        Outcome {
            error,
            failure: None,
            stats,
            duration: Duration::ZERO,
        }
    }
}

/// The blocking part of a scrape: append the body (or the failure), then the report
/// series, in one commit.
fn append_scrape(
    appendable: &dyn Appendable,
    cache: &mut ScrapeCache,
    fetched: Result<crate::scraper::Fetched, (String, bool)>,
    ts: i64,
    settings: &ScrapeSettings,
    report: &[Labels],
    began: Instant,
) -> Outcome {
    let mut app = appendable.appender();
    let result = match fetched {
        Ok(f) => cache
            .append_body(&mut *app, f.format, &f.body, ts, settings)
            .map_err(|(failure, stats)| (failure.to_string(), Some(failure), stats)),
        Err((msg, _)) => Err((msg, None, AppendStats::default())),
    };
    let (error, failure, stats) = match result {
        Ok(stats) => (String::new(), None, stats),
        Err((msg, failure, stats)) => {
            if let Err(e) = app.rollback() {
                debug!(error = %e, "Rollback of a failed scrape failed.");
            }
            app = appendable.appender();
            if let Err(e) = cache.append_failed_scrape(&mut *app, ts) {
                debug!(error = %e, "Writing stale markers after a failed scrape failed.");
            }
            (msg, failure, stats)
        }
    };
    let duration = began.elapsed();
    let up = if error.is_empty() { 1.0 } else { 0.0 };
    let values = [
        up,
        duration.as_secs_f64(),
        stats.scraped as f64,
        stats.post_relabel as f64,
        stats.added as f64,
    ];
    for ((labels, value), r) in report.iter().zip(values).zip(cache.report_refs.iter_mut()) {
        if let Ok(nr) = app.append(*r, labels, ts, value) {
            *r = Some(nr);
        }
    }
    let error = match app.commit() {
        Ok(()) => error,
        Err(e) if error.is_empty() => format!("storage: {e}"),
        Err(_) => error,
    };
    Outcome {
        error,
        failure,
        stats,
        duration,
    }
}

/// Appends one scrape body to `appendable` as a loop would, without HTTP: for tools,
/// tests and benchmarks.
#[cfg(test)]
pub(crate) fn append_for_test(
    appendable: &dyn Appendable,
    cache: &mut ScrapeCache,
    body: Result<(crate::parse::Format, Vec<u8>), String>,
    ts: i64,
    settings: &ScrapeSettings,
    target: &Target,
) -> (String, AppendStats) {
    let report = report_labels(target);
    let fetched = body
        .map(|(format, body)| crate::scraper::Fetched { body, format })
        .map_err(|e| (e, false));
    let o = append_scrape(
        appendable,
        cache,
        fetched,
        ts,
        settings,
        &report,
        Instant::now(),
    );
    (o.error, o.stats)
}
