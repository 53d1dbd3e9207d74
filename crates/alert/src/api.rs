//! Data for `/api/v1/rules` and `/api/v1/alerts` (the query crate's `RulesProvider`) and
//! `/api/v1/alertmanagers` (`AlertmanagersProvider`).

use std::sync::Arc;

use argus_model::{Labels, LabelsBuilder};
use argus_query::api::providers::{AlertmanagersProvider, RulesProvider};
use argus_query::api::types::{
    format_alert_value, Alert as ApiAlert, AlertingRule as ApiAlertingRule, AlertingType,
    AlertmanagerDiscovery, AlertmanagerTarget, ApiTime, RecordingRule as ApiRecordingRule,
    RecordingType, Rule as ApiRule, RuleGroup as ApiRuleGroup, RuleHealth,
};

use crate::notifier::Notifier;
use crate::rules::alerting::{Alert, AlertState};
use crate::rules::manager::RuleManager;
use crate::rules::{Health, Rule, RuleStatus};

fn health(h: Health) -> RuleHealth {
    match h {
        Health::Unknown => RuleHealth::Unknown,
        Health::Good => RuleHealth::Ok,
        Health::Bad => RuleHealth::Err,
    }
}

fn map_labels(m: &std::collections::BTreeMap<String, String>) -> Labels {
    let mut b = LabelsBuilder::new();
    for (k, v) in m {
        b.set(k, v);
    }
    b.build()
}

fn api_time(ms: Option<i64>) -> ApiTime {
    ApiTime(ms)
}

/// An alert as `/api/v1/alerts` shows it.
pub fn api_alert(a: &Alert) -> ApiAlert {
    ApiAlert {
        labels: a.labels.clone(),
        annotations: a.annotations.clone(),
        state: a.state.as_str().to_string(),
        active_at: Some(ApiTime::from_ms(a.active_at_ms)),
        keep_firing_since: a.keep_firing_since_ms.map(ApiTime::from_ms),
        value: format_alert_value(a.value),
    }
}

fn status_fields(s: &RuleStatus) -> (RuleHealth, String, f64, ApiTime) {
    (
        health(s.health),
        s.last_error.clone(),
        s.evaluation_time.as_secs_f64(),
        api_time(s.last_evaluation_ms),
    )
}

/// One rule as `/api/v1/rules` shows it.
pub fn api_rule(rule: &Rule) -> ApiRule {
    let (health, last_error, evaluation_time, last_evaluation) = status_fields(rule.status());
    match rule {
        Rule::Recording(r) => ApiRule::Recording(ApiRecordingRule {
            name: r.name.clone(),
            query: r.query.clone(),
            labels: map_labels(&r.labels),
            health,
            last_error,
            evaluation_time,
            last_evaluation,
            rule_type: RecordingType,
        }),
        Rule::Alerting(r) => {
            let alerts: Vec<ApiAlert> = r
                .active
                .values()
                .filter(|a| a.state != AlertState::Inactive)
                .map(api_alert)
                .collect();
            ApiRule::Alerting(ApiAlertingRule {
                state: r.state().as_str().to_string(),
                name: r.name.clone(),
                query: r.query.clone(),
                duration: r.hold_ms as f64 / 1000.0,
                keep_firing_for: r.keep_firing_for_ms as f64 / 1000.0,
                labels: map_labels(&r.labels),
                annotations: map_labels(&r.annotations),
                alerts: Some(alerts),
                health,
                last_error,
                evaluation_time,
                last_evaluation,
                rule_type: AlertingType,
            })
        }
    }
}

impl RulesProvider for RuleManager {
    fn rule_groups(&self) -> Vec<ApiRuleGroup> {
        self.groups()
            .iter()
            .map(|g| {
                let (last, took) = g.last_evaluation();
                ApiRuleGroup {
                    name: g.name.clone(),
                    file: g.file.clone(),
                    rules: g.rules().iter().map(|r| api_rule(&r.lock())).collect(),
                    interval: g.interval_ms as f64 / 1000.0,
                    limit: g.limit,
                    evaluation_time: took,
                    last_evaluation: api_time(last),
                }
            })
            .collect()
    }
}

/// `/api/v1/alertmanagers` from the notifier's configuration.
pub struct NotifierAlertmanagers(pub Arc<Notifier>);

impl AlertmanagersProvider for NotifierAlertmanagers {
    fn alertmanagers(&self) -> AlertmanagerDiscovery {
        AlertmanagerDiscovery {
            active_alertmanagers: self
                .0
                .alertmanager_urls()
                .into_iter()
                .map(|url| AlertmanagerTarget { url })
                .collect(),
            dropped_alertmanagers: Vec::new(),
        }
    }
}
