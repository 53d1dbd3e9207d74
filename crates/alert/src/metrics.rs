//! Self-metrics with Prometheus' names (`rules/group.go`, `rules/manager.go`,
//! `template/template.go`). Prometheus' summaries are histograms here (the `prometheus`
//! crate has no summary type); every other metric has Prometheus' type and labels.

use prometheus::{
    Gauge, GaugeVec, Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts, Registry,
};

fn bug<T>(_: prometheus::Error) -> T {
    unreachable!("BUG: static metric options are valid")
}

fn register<C: prometheus::core::Collector + Clone + 'static>(reg: &Registry, c: C) -> C {
    if let Err(e) = reg.register(Box::new(c.clone())) {
        // A second manager on the same registry (tests) shares nothing but the names.
        tracing::debug!(err = %e, "Metric already registered.");
    }
    c
}

fn counter_vec(reg: &Registry, name: &str, help: &str) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), &["rule_group"]).unwrap_or_else(bug);
    register(reg, c)
}

fn gauge_vec(reg: &Registry, name: &str, help: &str) -> GaugeVec {
    let g = GaugeVec::new(Opts::new(name, help), &["rule_group"]).unwrap_or_else(bug);
    register(reg, g)
}

fn histogram(reg: &Registry, name: &str, help: &str) -> Histogram {
    let h = Histogram::with_opts(HistogramOpts::new(name, help)).unwrap_or_else(bug);
    register(reg, h)
}

/// Rule manager and group metrics; `rule_group` is `FILE;GROUP`.
#[derive(Clone)]
pub struct RuleMetrics {
    pub(crate) eval_duration: Histogram,
    pub(crate) group_duration: Histogram,
    pub(crate) iterations_missed: IntCounterVec,
    pub(crate) iterations_total: IntCounterVec,
    pub(crate) evals_total: IntCounterVec,
    pub(crate) eval_failures: IntCounterVec,
    pub(crate) group_interval: GaugeVec,
    pub(crate) last_eval_ts: GaugeVec,
    pub(crate) last_duration: GaugeVec,
    pub(crate) last_restore_duration: GaugeVec,
    pub(crate) last_rule_duration_sum: GaugeVec,
    pub(crate) rules: GaugeVec,
    pub(crate) samples: GaugeVec,
}

impl RuleMetrics {
    /// Creates and registers the metrics.
    pub fn new(reg: &Registry) -> Self {
        RuleMetrics {
            eval_duration: histogram(reg, "argus_rule_evaluation_duration_seconds", "The duration for a rule to execute."),
            group_duration: histogram(reg, "argus_rule_group_duration_seconds", "The duration of rule group evaluations."),
            iterations_missed: counter_vec(
                reg,
                "argus_rule_group_iterations_missed_total",
                "The total number of rule group evaluations missed due to slow rule group evaluation.",
            ),
            iterations_total: counter_vec(
                reg,
                "argus_rule_group_iterations_total",
                "The total number of scheduled rule group evaluations, whether executed or missed.",
            ),
            evals_total: counter_vec(reg, "argus_rule_evaluations_total", "The total number of rule evaluations."),
            eval_failures: counter_vec(
                reg,
                "argus_rule_evaluation_failures_total",
                "The total number of rule evaluation failures.",
            ),
            group_interval: gauge_vec(reg, "argus_rule_group_interval_seconds", "The interval of a rule group."),
            last_eval_ts: gauge_vec(
                reg,
                "argus_rule_group_last_evaluation_timestamp_seconds",
                "The timestamp of the last rule group evaluation in seconds.",
            ),
            last_duration: gauge_vec(
                reg,
                "argus_rule_group_last_duration_seconds",
                "The duration of the last rule group evaluation.",
            ),
            last_restore_duration: gauge_vec(
                reg,
                "argus_rule_group_last_restore_duration_seconds",
                "The duration of the last alert rules alerts restoration using the `ALERTS_FOR_STATE` series.",
            ),
            last_rule_duration_sum: gauge_vec(
                reg,
                "argus_rule_group_last_rule_duration_sum_seconds",
                "The sum of time in seconds it took to evaluate each rule in the group regardless of concurrency.",
            ),
            rules: gauge_vec(reg, "argus_rule_group_rules", "The number of rules."),
            samples: gauge_vec(
                reg,
                "argus_rule_group_last_evaluation_samples",
                "The number of samples returned during the last rule group evaluation.",
            ),
        }
    }

    /// Drops the series of a group that no longer exists.
    pub(crate) fn remove_group(&self, key: &str) {
        for v in [
            &self.iterations_missed,
            &self.iterations_total,
            &self.evals_total,
            &self.eval_failures,
        ] {
            let _ = v.remove_label_values(&[key]);
        }
        for v in [
            &self.group_interval,
            &self.last_eval_ts,
            &self.last_duration,
            &self.last_restore_duration,
            &self.last_rule_duration_sum,
            &self.rules,
            &self.samples,
        ] {
            let _ = v.remove_label_values(&[key]);
        }
    }
}

/// Template expansion counters.
#[derive(Clone)]
pub struct TemplateMetrics {
    pub(crate) expansions: IntCounter,
    pub(crate) failures: IntCounter,
}

impl TemplateMetrics {
    /// Creates and registers the counters.
    pub fn new(reg: &Registry) -> Self {
        let c = |name: &str, help: &str| {
            let c = IntCounter::new(name, help).unwrap_or_else(bug);
            register(reg, c)
        };
        TemplateMetrics {
            expansions: c(
                "argus_template_text_expansions_total",
                "The total number of template text expansions.",
            ),
            failures: c(
                "argus_template_text_expansion_failures_total",
                "The total number of template text expansion failures.",
            ),
        }
    }
}

/// Notifier metrics (`notifier/notifier.go`).
#[derive(Clone)]
pub struct NotifierMetrics {
    pub(crate) latency: prometheus::HistogramVec,
    pub(crate) errors: IntCounterVec,
    pub(crate) sent: IntCounterVec,
    pub(crate) dropped: IntCounter,
    pub(crate) queue_length: Gauge,
    pub(crate) queue_capacity: Gauge,
    pub(crate) discovered: Gauge,
}

impl NotifierMetrics {
    /// Creates and registers the metrics.
    pub fn new(reg: &Registry) -> Self {
        let am = &["alertmanager"];
        let latency = prometheus::HistogramVec::new(
            HistogramOpts::new(
                "argus_notifications_latency_seconds",
                "Latency quantiles for sending alert notifications.",
            ),
            am,
        )
        .unwrap_or_else(bug);
        let errors = IntCounterVec::new(
            Opts::new(
                "argus_notifications_errors_total",
                "Total number of sent alerts affected by errors.",
            ),
            am,
        )
        .unwrap_or_else(bug);
        let sent = IntCounterVec::new(
            Opts::new(
                "argus_notifications_sent_total",
                "Total number of alerts sent.",
            ),
            am,
        )
        .unwrap_or_else(bug);
        let dropped = IntCounter::new(
            "argus_notifications_dropped_total",
            "Total number of alerts dropped due to errors when sending to Alertmanager.",
        )
        .unwrap_or_else(bug);
        let queue_length = Gauge::new(
            "argus_notifications_queue_length",
            "The number of alert notifications in the queue.",
        )
        .unwrap_or_else(bug);
        let queue_capacity = Gauge::new(
            "argus_notifications_queue_capacity",
            "The capacity of the alert notifications queue.",
        )
        .unwrap_or_else(bug);
        let discovered = Gauge::new(
            "argus_notifications_alertmanagers_discovered",
            "The number of alertmanagers discovered and active.",
        )
        .unwrap_or_else(bug);
        NotifierMetrics {
            latency: register(reg, latency),
            errors: register(reg, errors),
            sent: register(reg, sent),
            dropped: register(reg, dropped),
            queue_length: register(reg, queue_length),
            queue_capacity: register(reg, queue_capacity),
            discovered: register(reg, discovered),
        }
    }
}
