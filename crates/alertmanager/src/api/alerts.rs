//! `GET/POST /alerts` and `GET /alerts/groups`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use regex::Regex;

use super::models::{
    AlertGroupModel, AlertStatusModel, GettableAlert, PostableAlertModel, ReceiverModel,
};
use super::{bool_param, empty, error, json, query_pairs, validation_error};
use crate::manager::AlertManager;
use crate::manager::{AlertView, PostableAlert};
use crate::matchers::{parse_matchers, MatchType, Matcher};
use crate::timefmt;

/// Alertmanager's `matchFilterLabels`: an empty-value matcher is satisfied by the label's
/// absence (`=`, `=~`) or presence (`!=`, `!~`).
pub(crate) fn match_filter(matchers: &[Matcher], get: &dyn Fn(&str) -> Option<String>) -> bool {
    matchers.iter().all(|m| {
        let v = get(&m.name);
        match m.ty {
            MatchType::NotEqual | MatchType::NotRegexp => {
                (m.value.is_empty() && v.is_some()) || m.matches(v.as_deref().unwrap_or(""))
            }
            MatchType::Equal | MatchType::Regexp => {
                (m.value.is_empty() && v.is_none()) || m.matches(v.as_deref().unwrap_or(""))
            }
        }
    })
}

pub(crate) fn parse_filters(q: &[(String, String)]) -> Result<Vec<Matcher>, String> {
    let mut out = Vec::new();
    for (_, v) in q.iter().filter(|(k, _)| k == "filter") {
        out.extend(parse_matchers(v).map_err(|e| e.to_string())?);
    }
    Ok(out)
}

fn receiver_filter(q: &[(String, String)]) -> Result<Option<Regex>, String> {
    match q.iter().rev().find(|(k, _)| k == "receiver") {
        None => Ok(None),
        Some((_, r)) if r.is_empty() => Ok(None),
        Some((_, r)) => Regex::new(&format!("^(?:{r})$"))
            .map(Some)
            .map_err(|e| format!("failed to parse receiver param: {e}")),
    }
}

fn model(v: &AlertView) -> GettableAlert {
    GettableAlert {
        annotations: v.alert.annotations.clone(),
        ends_at: timefmt::api(v.alert.ends_at),
        fingerprint: v.fingerprint.to_string(),
        receivers: v
            .receivers
            .iter()
            .map(|n| ReceiverModel { name: n.clone() })
            .collect(),
        starts_at: timefmt::api(v.alert.starts_at),
        status: AlertStatusModel {
            inhibited_by: v.inhibited_by.clone(),
            silenced_by: v.silenced_by.clone(),
            state: v.state().into(),
        },
        updated_at: timefmt::api(v.alert.updated_at),
        generator_url: v.alert.generator_url.clone(),
        labels: v
            .alert
            .labels
            .iter()
            .map(|l| (l.name.to_owned(), l.value.to_owned()))
            .collect(),
    }
}

struct Filter {
    active: bool,
    silenced: bool,
    inhibited: bool,
    matchers: Vec<Matcher>,
    receiver: Option<Regex>,
}

impl Filter {
    fn parse(q: &[(String, String)]) -> Result<Filter, String> {
        Ok(Filter {
            active: bool_param(q, "active", true)?,
            silenced: bool_param(q, "silenced", true)?,
            inhibited: bool_param(q, "inhibited", true)?,
            matchers: parse_filters(q)?,
            receiver: receiver_filter(q)?,
        })
    }

    fn keep(&self, v: &AlertView) -> bool {
        if !self.active && v.state() == "active" {
            return false;
        }
        if !self.silenced && !v.silenced_by.is_empty() {
            return false;
        }
        if !self.inhibited && !v.inhibited_by.is_empty() {
            return false;
        }
        match_filter(&self.matchers, &|n| {
            v.alert.labels.get(n).map(str::to_owned)
        })
    }
}

pub(crate) async fn get_alerts(
    State(am): State<Arc<AlertManager>>,
    RawQuery(q): RawQuery,
) -> Response {
    let q = query_pairs(q.as_deref());
    let f = match Filter::parse(&q) {
        Ok(f) => f,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    if let Err(e) = bool_param(&q, "unprocessed", true) {
        return error(StatusCode::BAD_REQUEST, e);
    }
    let out: Vec<GettableAlert> = am
        .alerts()
        .iter()
        .filter(|v| f.keep(v))
        .filter(|v| {
            f.receiver
                .as_ref()
                .is_none_or(|re| v.receivers.iter().any(|r| re.is_match(r)))
        })
        .map(model)
        .collect();
    json(StatusCode::OK, &out)
}

pub(crate) async fn get_groups(
    State(am): State<Arc<AlertManager>>,
    RawQuery(q): RawQuery,
) -> Response {
    let q = query_pairs(q.as_deref());
    let f = match Filter::parse(&q) {
        Ok(f) => f,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let out: Vec<AlertGroupModel> = am
        .alert_groups()
        .into_iter()
        .filter(|g| {
            f.receiver
                .as_ref()
                .is_none_or(|re| re.is_match(&g.receiver))
        })
        .filter_map(|g| {
            let alerts: Vec<GettableAlert> =
                g.alerts.iter().filter(|v| f.keep(v)).map(model).collect();
            (!alerts.is_empty()).then(|| AlertGroupModel {
                alerts,
                labels: g
                    .labels
                    .iter()
                    .map(|l| (l.name.to_owned(), l.value.to_owned()))
                    .collect(),
                receiver: ReceiverModel { name: g.receiver },
            })
        })
        .collect();
    json(StatusCode::OK, &out)
}

fn opt_time(s: Option<&str>) -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
    match s {
        None | Some("") | Some(timefmt::GO_ZERO_TIME) => Ok(None),
        Some(s) => timefmt::parse(s).map(|t| (t.timestamp() > -62_135_596_800).then_some(t)),
    }
}

pub(crate) async fn post_alerts(State(am): State<Arc<AlertManager>>, body: Bytes) -> Response {
    let models: Vec<PostableAlertModel> = match serde_json::from_slice(&body) {
        Ok(m) => m,
        Err(e) => {
            return validation_error(format!("parsing alerts body from \"\" failed, because {e}"))
        }
    };
    let mut alerts = Vec::with_capacity(models.len());
    for m in models {
        let starts_at = match opt_time(m.starts_at.as_deref()) {
            Ok(t) => t,
            Err(e) => return validation_error(e),
        };
        let ends_at = match opt_time(m.ends_at.as_deref()) {
            Ok(t) => t,
            Err(e) => return validation_error(e),
        };
        alerts.push(PostableAlert {
            labels: m.labels,
            annotations: m.annotations.unwrap_or_else(BTreeMap::new),
            starts_at,
            ends_at,
            generator_url: m.generator_url.unwrap_or_default(),
        });
    }
    match am.put_alerts(alerts) {
        Ok(()) => empty(StatusCode::OK),
        Err(errs) => error(StatusCode::BAD_REQUEST, errs.join("; ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_semantics() {
        let labels: BTreeMap<&str, &str> = [("a", "1"), ("b", "x")].into();
        let get = |n: &str| labels.get(n).map(|s| s.to_string());
        let f = |s: &str| match_filter(&parse_matchers(s).unwrap(), &get);
        assert!(f(r#"a="1""#));
        assert!(!f(r#"a="2""#));
        assert!(f(r#"c="""#));
        assert!(!f(r#"a="""#));
        assert!(f(r#"a!="""#));
        assert!(f(r#"b=~"x|y""#));
        assert!(!f(r#"b!~"x""#));
    }
}
