//! Alertmanager API v2 (the OpenAPI spec `api/v2/openapi.yaml`), so that `amtool`,
//! Grafana and Prometheus talk to Argus as to an Alertmanager, plus Argus'
//! `GET /notifications` history.
//!
//! [`router`] returns routes relative to the API root; the server nests it at `/api/v2`.

mod alerts;
mod models;
mod silences;
mod status;

use std::sync::Arc;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::manager::AlertManager;

pub use models::*;

/// The API routes, to be nested at `/api/v2`.
pub fn router(am: Arc<AlertManager>) -> Router {
    Router::new()
        .route("/alerts", get(alerts::get_alerts).post(alerts::post_alerts))
        .route("/alerts/groups", get(alerts::get_groups))
        .route(
            "/silences",
            get(silences::get_silences).post(silences::post_silences),
        )
        .route(
            "/silence/{id}",
            get(silences::get_silence).delete(silences::delete_silence),
        )
        .route("/status", get(status::get_status))
        .route("/receivers", get(status::get_receivers))
        .route("/notifications", get(status::get_notifications))
        .with_state(am)
}

/// A JSON response.
pub(crate) fn json<T: serde::Serialize>(code: StatusCode, v: &T) -> Response {
    match serde_json::to_vec(v) {
        Ok(body) => (code, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// A success without a body (what the generated Alertmanager server sends for
/// `postAlerts` and `deleteSilence`).
pub(crate) fn empty(code: StatusCode) -> Response {
    code.into_response()
}

/// An error in the form the generated Alertmanager server sends for handler errors: the
/// message as a JSON string.
pub(crate) fn error(code: StatusCode, msg: impl Into<String>) -> Response {
    json(code, &msg.into())
}

/// An error in go-openapi's validation form (`{"code":..,"message":..}`).
pub(crate) fn validation_error(msg: impl Into<String>) -> Response {
    json(
        StatusCode::BAD_REQUEST,
        &serde_json::json!({"code": 400, "message": msg.into()}),
    )
}

fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(v) = hex {
                    out.push(v);
                    i += 2;
                } else {
                    out.push(c);
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Query parameters, keeping repeats (`filter=a&filter=b`).
pub(crate) fn query_pairs(q: Option<&str>) -> Vec<(String, String)> {
    q.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (pct_decode(k), pct_decode(v)),
            None => (pct_decode(p), String::new()),
        })
        .collect()
}

/// A boolean parameter with a default; `Err` names the bad value.
pub(crate) fn bool_param(
    q: &[(String, String)],
    name: &str,
    default: bool,
) -> Result<bool, String> {
    match q.iter().rev().find(|(k, _)| k == name) {
        None => Ok(default),
        Some((_, v)) => match v.as_str() {
            "true" | "1" | "True" | "TRUE" | "t" | "T" => Ok(true),
            "false" | "0" | "False" | "FALSE" | "f" | "F" => Ok(false),
            other => Err(format!(
                "{name} in query must be of type boolean: \"{other}\""
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing() {
        let q = query_pairs(Some(
            "filter=alertname%3D%22x%22&filter=a%3D~b+c&active=false",
        ));
        assert_eq!(q[0], ("filter".into(), "alertname=\"x\"".into()));
        assert_eq!(q[1].1, "a=~b c");
        assert_eq!(bool_param(&q, "active", true), Ok(false));
        assert_eq!(bool_param(&q, "silenced", true), Ok(true));
        assert!(bool_param(&[("x".into(), "maybe".into())], "x", true).is_err());
    }
}
