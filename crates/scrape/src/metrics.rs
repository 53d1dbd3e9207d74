//! Self-metrics of scraping, with Prometheus' names.

use prometheus::{IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry};
use tracing::debug;

/// Counters and gauges of the scrape manager.
#[derive(Clone)]
pub(crate) struct ScrapeMetrics {
    pub pools_total: IntCounter,
    pub pool_reloads: IntCounter,
    pub pool_reloads_failed: IntCounter,
    pub pool_targets: IntGaugeVec,
    pub exceeded_sample_limit: IntCounter,
    pub exceeded_body_size_limit: IntCounter,
    pub exceeded_target_limit: IntCounter,
    pub exceeded_label_limits: IntCounter,
    pub sample_out_of_order: IntCounter,
    pub sample_duplicate: IntCounter,
    pub sample_out_of_bounds: IntCounter,
    pub scrapes: IntCounterVec,
}

fn counter(reg: &Registry, name: &str, help: &str) -> IntCounter {
    let c = IntCounter::new(name, help).unwrap_or_else(|_| unreachable!("BUG: static metric name"));
    if let Err(e) = reg.register(Box::new(c.clone())) {
        // A second manager on the same registry (tests): keep counting, unexported.
        debug!(metric = name, error = %e, "Metric not registered.");
    }
    c
}

impl ScrapeMetrics {
    pub fn new(reg: &Registry) -> Self {
        let pool_targets = IntGaugeVec::new(
            Opts::new(
                "argus_target_scrape_pool_targets",
                "Current number of targets in this scrape pool.",
            ),
            &["scrape_job"],
        )
        .unwrap_or_else(|_| unreachable!("BUG: static metric name"));
        let _ = reg.register(Box::new(pool_targets.clone()));
        let scrapes = IntCounterVec::new(
            Opts::new(
                "argus_target_scrapes_total",
                "Scrapes performed, by scrape job and result (success, failure).",
            ),
            &["scrape_job", "result"],
        )
        .unwrap_or_else(|_| unreachable!("BUG: static metric name"));
        let _ = reg.register(Box::new(scrapes.clone()));
        ScrapeMetrics {
            pools_total: counter(reg, "argus_target_scrape_pools_total", "Total number of scrape pool creation attempts."),
            pool_reloads: counter(reg, "argus_target_scrape_pool_reloads_total", "Total number of scrape pool reloads."),
            pool_reloads_failed: counter(reg, "argus_target_scrape_pool_reloads_failed_total", "Total number of failed scrape pool reloads."),
            pool_targets,
            exceeded_sample_limit: counter(reg, "argus_target_scrapes_exceeded_sample_limit_total", "Total number of scrapes that hit the sample limit and were rejected."),
            exceeded_body_size_limit: counter(reg, "argus_target_scrapes_exceeded_body_size_limit_total", "Total number of scrapes that hit the body size limit."),
            exceeded_target_limit: counter(reg, "argus_target_scrape_pool_exceeded_target_limit_total", "Total number of times scrape pools hit the target limit."),
            exceeded_label_limits: counter(reg, "argus_target_scrape_pool_exceeded_label_limits_total", "Total number of times scrape pools hit the label limits."),
            sample_out_of_order: counter(reg, "argus_target_scrapes_sample_out_of_order_total", "Total number of samples rejected due to not being out of the expected order."),
            sample_duplicate: counter(reg, "argus_target_scrapes_sample_duplicate_timestamp_total", "Total number of samples rejected due to duplicate timestamps but different values."),
            sample_out_of_bounds: counter(reg, "argus_target_scrapes_sample_out_of_bounds_total", "Total number of samples rejected due to timestamp falling outside of the time bounds."),
            scrapes,
        }
    }
}
