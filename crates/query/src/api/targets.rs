//! `/api/v1/targets`, `/api/v1/scrape_pools` and `/api/v1/alertmanagers`.

use axum::extract::State;
use serde::Serialize;

use super::envelope::{success, ApiResult};
use super::params::Params;
use super::state::ApiState;
use super::types::TargetDiscovery;

/// `GET /api/v1/targets?state=active|dropped|any&scrapePool=…`.
pub async fn targets(State(st): State<ApiState>, p: Params) -> ApiResult {
    let state = p.get("state").to_ascii_lowercase();
    let show_active = matches!(state.as_str(), "" | "any" | "active");
    let show_dropped = matches!(state.as_str(), "" | "any" | "dropped");
    let pool = p.get("scrapePool");
    let snap = st.targets.targets();
    let mut res = TargetDiscovery::default();
    if show_active {
        res.active_targets = snap
            .active
            .into_iter()
            .filter(|t| pool.is_empty() || t.scrape_pool == pool)
            .collect();
        // Prometheus lists pools in name order, each pool's targets in its own order.
        res.active_targets
            .sort_by(|a, b| a.scrape_pool.cmp(&b.scrape_pool));
    }
    if show_dropped {
        res.dropped_targets = snap
            .dropped
            .into_iter()
            .filter(|t| pool.is_empty() || t.scrape_pool == pool)
            .collect();
        res.dropped_targets
            .sort_by(|a, b| a.scrape_pool.cmp(&b.scrape_pool));
        res.dropped_target_counts = snap
            .dropped_counts
            .into_iter()
            .filter(|(k, _)| pool.is_empty() || k == pool)
            .collect();
    }
    success(&res)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ScrapePools {
    scrape_pools: Vec<String>,
}

/// `GET /api/v1/scrape_pools`.
pub async fn scrape_pools(State(st): State<ApiState>) -> ApiResult {
    let mut scrape_pools = st.targets.scrape_pools();
    scrape_pools.sort();
    success(&ScrapePools { scrape_pools })
}

/// `GET /api/v1/alertmanagers`.
pub async fn alertmanagers(State(st): State<ApiState>) -> ApiResult {
    success(&st.alertmanagers.alertmanagers())
}
