//! `GET /status`, `GET /receivers`, and Argus' `GET /notifications`.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::models::{
    ClusterStatusModel, ConfigModel, ReceiverModel, StatusModel, VersionInfoModel,
};
use super::{json, query_pairs};
use crate::manager::AlertManager;
use crate::timefmt;

/// The Alertmanager API version Argus implements; `amtool` refuses servers older than
/// 0.16, so the version reported is the API level, with Argus' own version as build
/// metadata.
pub const API_VERSION: &str = concat!("0.27.0+argus.", env!("CARGO_PKG_VERSION"));

pub(crate) async fn get_status(State(am): State<Arc<AlertManager>>) -> Response {
    let cfg = am.config();
    json(
        StatusCode::OK,
        &StatusModel {
            cluster: match am.cluster_status() {
                None => ClusterStatusModel {
                    name: None,
                    peers: Vec::new(),
                    status: "disabled".into(),
                },
                Some(c) => ClusterStatusModel {
                    name: Some(c.name),
                    peers: c
                        .peers
                        .into_iter()
                        .map(|p| serde_json::json!({"name": p.name, "address": p.address}))
                        .collect(),
                    status: c.status,
                },
            },
            config: ConfigModel {
                original: cfg.to_masked_yaml(),
            },
            uptime: timefmt::api(am.started()),
            version_info: VersionInfoModel {
                branch: "main".into(),
                build_date: String::new(),
                build_user: "argus".into(),
                go_version: "rust".into(),
                revision: env!("CARGO_PKG_VERSION").into(),
                version: API_VERSION.into(),
            },
        },
    )
}

pub(crate) async fn get_receivers(State(am): State<Arc<AlertManager>>) -> Response {
    let v: Vec<ReceiverModel> = am
        .receiver_names()
        .into_iter()
        .map(|name| ReceiverModel { name })
        .collect();
    json(StatusCode::OK, &v)
}

/// `GET /notifications?groupKey=...&receiver=...` (Argus extension): the notification
/// history, newest last.
pub(crate) async fn get_notifications(
    State(am): State<Arc<AlertManager>>,
    RawQuery(q): RawQuery,
) -> Response {
    let q = query_pairs(q.as_deref());
    let gk = q
        .iter()
        .find(|(k, _)| k == "groupKey")
        .map(|(_, v)| v.as_str());
    let recv = q
        .iter()
        .find(|(k, _)| k == "receiver")
        .map(|(_, v)| v.as_str());
    let v: Vec<_> = am
        .notification_history(gk)
        .into_iter()
        .filter(|r| recv.is_none_or(|x| r.receiver == x))
        .collect();
    json(StatusCode::OK, &v)
}
