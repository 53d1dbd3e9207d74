//! Self-metrics under Alertmanager's names, so existing dashboards and alerts on an
//! Alertmanager keep working against Argus.

use prometheus::{
    Gauge, GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry,
};

/// The integrations Alertmanager pre-initialises its per-integration series for.
pub const INTEGRATIONS: [&str; 2] = ["email", "webhook"];

/// All alert manager metrics.
#[derive(Clone)]
pub struct Metrics {
    /// `alertmanager_alerts{state}`.
    pub alerts: GaugeVec,
    /// `alertmanager_alerts_received_total{status}`.
    pub alerts_received: IntCounterVec,
    /// `alertmanager_alerts_invalid_total`.
    pub alerts_invalid: IntCounter,
    /// `alertmanager_notifications_total{integration}`.
    pub notifications: IntCounterVec,
    /// `alertmanager_notifications_failed_total{integration,reason}`.
    pub notifications_failed: IntCounterVec,
    /// `alertmanager_notification_requests_total{integration}`.
    pub notification_requests: IntCounterVec,
    /// `alertmanager_notification_requests_failed_total{integration}`.
    pub notification_requests_failed: IntCounterVec,
    /// `alertmanager_notification_latency_seconds{integration}`.
    pub notification_latency: HistogramVec,
    /// `alertmanager_notifications_suppressed_total{reason}`.
    pub notifications_suppressed: IntCounterVec,
    /// `alertmanager_silences{state}`.
    pub silences: GaugeVec,
    /// `alertmanager_dispatcher_aggregation_groups`.
    pub aggregation_groups: IntGauge,
    /// `alertmanager_nflog_entries` (Argus; Alertmanager exposes snapshot sizes instead).
    pub nflog_entries: IntGauge,
    /// `alertmanager_config_last_reload_successful`.
    pub config_last_reload_successful: IntGauge,
    /// `alertmanager_config_last_reload_success_timestamp_seconds`.
    pub config_last_reload_success_timestamp: Gauge,
    /// `alertmanager_config_hash`.
    pub config_hash: Gauge,
    /// `argus_alertmanager_outbox_pending`: notifications waiting for delivery.
    pub outbox_pending: IntGauge,
    /// `argus_alertmanager_state_write_failures_total`.
    pub state_write_failures: IntCounter,
    /// `argus_alertmanager_notifications_delivered_by_peer_total`.
    pub notifications_deduplicated_by_peer: IntCounter,
}

fn reg<C: prometheus::core::Collector + Clone + 'static>(
    r: &Registry,
    c: C,
) -> Result<C, prometheus::Error> {
    r.register(Box::new(c.clone()))?;
    Ok(c)
}

impl Metrics {
    /// Creates and registers the metrics.
    pub fn new(r: &Registry) -> Result<Metrics, prometheus::Error> {
        let integration = &["integration"];
        let m = Metrics {
            alerts: reg(
                r,
                GaugeVec::new(
                    Opts::new("alertmanager_alerts", "How many alerts by state."),
                    &["state"],
                )?,
            )?,
            alerts_received: reg(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "alertmanager_alerts_received_total",
                        "The total number of received alerts.",
                    ),
                    &["status"],
                )?,
            )?,
            alerts_invalid: reg(
                r,
                IntCounter::new(
                    "alertmanager_alerts_invalid_total",
                    "The total number of received alerts that were invalid.",
                )?,
            )?,
            notifications: reg(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "alertmanager_notifications_total",
                        "The total number of attempted notifications.",
                    ),
                    integration,
                )?,
            )?,
            notifications_failed: reg(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "alertmanager_notifications_failed_total",
                        "The total number of failed notifications.",
                    ),
                    &["integration", "reason"],
                )?,
            )?,
            notification_requests: reg(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "alertmanager_notification_requests_total",
                        "The total number of attempted notification requests.",
                    ),
                    integration,
                )?,
            )?,
            notification_requests_failed: reg(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "alertmanager_notification_requests_failed_total",
                        "The total number of failed notification requests.",
                    ),
                    integration,
                )?,
            )?,
            notification_latency: reg(
                r,
                HistogramVec::new(
                    HistogramOpts::new(
                        "alertmanager_notification_latency_seconds",
                        "The latency of notifications in seconds.",
                    )
                    .buckets(vec![1.0, 5.0, 10.0, 15.0, 20.0]),
                    integration,
                )?,
            )?,
            notifications_suppressed: reg(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "alertmanager_notifications_suppressed_total",
                        "The total number of notifications suppressed for being silenced, inhibited, outside of active time intervals or within muted time intervals.",
                    ),
                    &["reason"],
                )?,
            )?,
            silences: reg(
                r,
                GaugeVec::new(
                    Opts::new("alertmanager_silences", "How many silences by state."),
                    &["state"],
                )?,
            )?,
            aggregation_groups: reg(
                r,
                IntGauge::new(
                    "alertmanager_dispatcher_aggregation_groups",
                    "Number of active aggregation groups",
                )?,
            )?,
            nflog_entries: reg(
                r,
                IntGauge::new(
                    "alertmanager_nflog_entries",
                    "Number of entries in the notification log.",
                )?,
            )?,
            config_last_reload_successful: reg(
                r,
                IntGauge::new(
                    "alertmanager_config_last_reload_successful",
                    "Whether the last configuration reload attempt was successful.",
                )?,
            )?,
            config_last_reload_success_timestamp: reg(
                r,
                Gauge::new(
                    "alertmanager_config_last_reload_success_timestamp_seconds",
                    "Timestamp of the last successful configuration reload.",
                )?,
            )?,
            config_hash: reg(
                r,
                Gauge::new(
                    "alertmanager_config_hash",
                    "Hash of the currently loaded alertmanager configuration.",
                )?,
            )?,
            notifications_deduplicated_by_peer: reg(
                r,
                IntCounter::new(
                    "argus_alertmanager_notifications_delivered_by_peer_total",
                    "Notifications dropped before sending because a peer's notification log showed them delivered.",
                )?,
            )?,
            outbox_pending: reg(
                r,
                IntGauge::new(
                    "argus_alertmanager_outbox_pending",
                    "Notifications persisted and waiting for delivery.",
                )?,
            )?,
            state_write_failures: reg(
                r,
                IntCounter::new(
                    "argus_alertmanager_state_write_failures_total",
                    "Failed writes of alert manager state files.",
                )?,
            )?,
        };
        for i in INTEGRATIONS {
            m.notifications.with_label_values(&[i]);
            m.notification_requests.with_label_values(&[i]);
            m.notification_requests_failed.with_label_values(&[i]);
            m.notification_latency.with_label_values(&[i]);
            for reason in [
                "other",
                "clientError",
                "serverError",
                "contextDeadlineExceeded",
            ] {
                m.notifications_failed.with_label_values(&[i, reason]);
            }
        }
        for s in ["active", "suppressed", "unprocessed"] {
            m.alerts.with_label_values(&[s]);
        }
        for s in ["active", "pending", "expired"] {
            m.silences.with_label_values(&[s]);
        }
        Ok(m)
    }
}
