//! `GET/POST /silences`, `GET/DELETE /silence/{id}`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::alerts::{match_filter, parse_filters};
use super::models::{GettableSilence, MatcherModel, PostableSilence, SilenceStatusModel};
use super::{empty, error, json, query_pairs, validation_error};
use crate::manager::AlertManager;
use crate::matchers::{MatchType, Matcher};
use crate::silences::{Silence, SilenceError, SilenceState};
use crate::timefmt;

fn model(s: &Silence, now: chrono::DateTime<chrono::Utc>) -> GettableSilence {
    GettableSilence {
        id: s.id.clone(),
        status: SilenceStatusModel {
            state: s.state(now).as_str().into(),
        },
        updated_at: timefmt::api(s.updated_at),
        comment: s.comment.clone(),
        created_by: s.created_by.clone(),
        ends_at: timefmt::api(s.ends_at),
        matchers: s
            .matchers
            .iter()
            .map(|m| MatcherModel {
                is_equal: m.ty.is_equal(),
                is_regex: m.ty.is_regex(),
                name: m.name.clone(),
                value: m.value.clone(),
            })
            .collect(),
        starts_at: timefmt::api(s.starts_at),
    }
}

/// Alertmanager's `sortSilences`: active (soonest end first), pending (soonest start
/// first), expired (most recent end first).
fn sort(v: &mut [Silence], now: chrono::DateTime<chrono::Utc>) {
    let rank = |s: &Silence| match s.state(now) {
        SilenceState::Active => 0,
        SilenceState::Pending => 1,
        SilenceState::Expired => 2,
    };
    v.sort_by(|a, b| {
        rank(a).cmp(&rank(b)).then_with(|| match a.state(now) {
            SilenceState::Active => a.ends_at.cmp(&b.ends_at),
            SilenceState::Pending => a.starts_at.cmp(&b.starts_at),
            SilenceState::Expired => b.ends_at.cmp(&a.ends_at),
        })
    });
}

pub(crate) async fn get_silences(
    State(am): State<Arc<AlertManager>>,
    RawQuery(q): RawQuery,
) -> Response {
    let q = query_pairs(q.as_deref());
    let filters = match parse_filters(&q) {
        Ok(f) => f,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let now = am.now();
    let mut v: Vec<Silence> = am
        .silences()
        .into_iter()
        .filter(|s| {
            match_filter(&filters, &|n| {
                s.matchers
                    .iter()
                    .find(|m| m.name == n)
                    .map(|m| m.value.clone())
            })
        })
        .collect();
    sort(&mut v, now);
    let out: Vec<GettableSilence> = v.iter().map(|s| model(s, now)).collect();
    json(StatusCode::OK, &out)
}

pub(crate) async fn get_silence(
    State(am): State<Arc<AlertManager>>,
    Path(id): Path<String>,
) -> Response {
    match am.silence(&id) {
        Some(s) => json(StatusCode::OK, &model(&s, am.now())),
        None => empty(StatusCode::NOT_FOUND),
    }
}

pub(crate) async fn delete_silence(
    State(am): State<Arc<AlertManager>>,
    Path(id): Path<String>,
) -> Response {
    match am.expire_silence(&id) {
        Ok(()) => empty(StatusCode::OK),
        Err(SilenceError::NotFound) => empty(StatusCode::NOT_FOUND),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

pub(crate) async fn post_silences(State(am): State<Arc<AlertManager>>, body: Bytes) -> Response {
    let p: PostableSilence = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => {
            return validation_error(format!(
                "parsing silence body from \"\" failed, because {e}"
            ))
        }
    };
    let starts_at = match timefmt::parse(&p.starts_at) {
        Ok(t) => t,
        Err(e) => return validation_error(e),
    };
    let ends_at = match timefmt::parse(&p.ends_at) {
        Ok(t) => t,
        Err(e) => return validation_error(e),
    };
    let mut matchers = Vec::with_capacity(p.matchers.len());
    for m in p.matchers {
        match Matcher::new(
            MatchType::from_flags(m.is_equal, m.is_regex),
            m.name,
            m.value,
        ) {
            Ok(m) => matchers.push(m),
            Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
        }
    }
    if starts_at >= ends_at {
        return error(
            StatusCode::BAD_REQUEST,
            "Failed to create silence: start time must be before end time",
        );
    }
    if ends_at < am.now() {
        return error(
            StatusCode::BAD_REQUEST,
            "Failed to create silence: end time can't be in the past",
        );
    }
    let sil = Silence {
        id: p.id.unwrap_or_default(),
        matchers,
        starts_at,
        ends_at,
        updated_at: am.now(),
        created_by: p.created_by,
        comment: p.comment,
    };
    match am.set_silence(sil) {
        Ok(id) => json(StatusCode::OK, &serde_json::json!({ "silenceID": id })),
        Err(SilenceError::NotFound) => error(StatusCode::NOT_FOUND, "silence not found"),
        Err(e) => error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}
