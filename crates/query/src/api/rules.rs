//! `/api/v1/rules` and `/api/v1/alerts`.

use argus_model::{Labels, Matcher};
use axum::extract::State;
use serde::Serialize;

use super::envelope::{invalid_param, success, ApiResult};
use super::params::{go_quote, parse_matchers, Params};
use super::state::ApiState;
use super::types::{Alert, Rule, RuleGroup};

#[derive(Serialize)]
struct RuleDiscovery {
    groups: Vec<RuleGroup>,
}

#[derive(Serialize)]
struct AlertDiscovery {
    alerts: Vec<Alert>,
}

/// Go's `strconv.ParseBool`.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

fn labels_match(l: &Labels, sets: &[Vec<Matcher>]) -> bool {
    sets.is_empty()
        || sets
            .iter()
            .any(|ms| ms.iter().all(|m| m.matches(l.get_or_empty(&m.name))))
}

/// `GET /api/v1/rules?type=alert|record&rule_name[]=…&rule_group[]=…&file[]=…&match[]=…
/// &exclude_alerts=true`. Groups left without rules by the filters are omitted.
pub async fn rules(State(st): State<ApiState>, p: Params) -> ApiResult {
    let typ = p.get("type").to_ascii_lowercase();
    if !matches!(typ.as_str(), "" | "alert" | "record") {
        return Err(
            invalid_param("type", format!("not supported value {}", go_quote(&typ))).into(),
        );
    }
    let return_alerts = typ.is_empty() || typ == "alert";
    let return_recording = typ.is_empty() || typ == "record";
    let exclude = p.get("exclude_alerts").to_ascii_lowercase();
    let exclude_alerts = if exclude.is_empty() {
        false
    } else {
        parse_bool(&exclude).ok_or_else(|| {
            invalid_param(
                "exclude_alerts",
                format!(
                    "error converting exclude_alerts: strconv.ParseBool: parsing {}: invalid syntax",
                    go_quote(&exclude)
                ),
            )
        })?
    };
    let names = p.all("rule_name[]");
    let groups_filter = p.all("rule_group[]");
    let files = p.all("file[]");
    let sets = parse_matchers(&p.all("match[]")).map_err(|e| invalid_param("match[]", e))?;

    let mut groups = Vec::new();
    for mut g in st.rules.rule_groups() {
        if !groups_filter.is_empty() && !groups_filter.contains(&g.name.as_str()) {
            continue;
        }
        if !files.is_empty() && !files.contains(&g.file.as_str()) {
            continue;
        }
        g.rules.retain_mut(|r| {
            if !names.is_empty() && !names.contains(&r.name()) {
                return false;
            }
            if !labels_match(r.labels(), &sets) {
                return false;
            }
            match r {
                Rule::Alerting(a) => {
                    if exclude_alerts {
                        a.alerts = None;
                    } else if a.alerts.is_none() {
                        a.alerts = Some(Vec::new());
                    }
                    return_alerts
                }
                Rule::Recording(_) => return_recording,
            }
        });
        if !g.rules.is_empty() {
            groups.push(g);
        }
    }
    success(&RuleDiscovery { groups })
}

/// `GET /api/v1/alerts`: active alerts of every alerting rule.
pub async fn alerts(State(st): State<ApiState>) -> ApiResult {
    success(&AlertDiscovery {
        alerts: st.rules.alerts(),
    })
}
