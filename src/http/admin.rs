//! Operator endpoints: `GET /admin/cluster`, `POST /admin/flush`.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use strata_tiers::Tiers;

use super::error::ApiResult;
use super::paths;
use crate::http::state::AppState;
use crate::metrics::Stats;
use crate::sql::QueryService;

#[derive(Debug, Clone)]
struct AdminState {
    tiers: Arc<Tiers>,
    queries: Arc<QueryService>,
}

/// The routes of this module.
pub fn router(state: &AppState) -> Router {
    Router::new()
        .route(paths::ADMIN_FLUSH, post(flush))
        .route(paths::ADMIN_CLUSTER, get(cluster))
        .with_state(AdminState {
            tiers: Arc::clone(&state.tiers),
            queries: Arc::clone(&state.queries),
        })
}

/// The reference's cluster overview (one standalone node), with every figure of `/stats`.
#[derive(Serialize)]
struct Cluster {
    #[serde(flatten)]
    stats: Stats,
    mode: &'static str,
    node_count: u32,
    partitions_evicted: u64,
}

async fn cluster(State(state): State<AdminState>) -> Json<Cluster> {
    Json(Cluster {
        stats: crate::metrics::stats(&state.tiers, &state.queries),
        mode: "standalone",
        node_count: 1,
        partitions_evicted: 0,
    })
}

#[derive(Serialize)]
struct Flushed {
    flushed_rows: u64,
    storage_mode: &'static str,
}

/// Moves every table's hot rows to the HDB now; answers once they are committed.
async fn flush(State(state): State<AdminState>) -> ApiResult<Json<Flushed>> {
    let flushed_rows = state.tiers.flush_all().await?;
    Ok(Json(Flushed {
        flushed_rows,
        storage_mode: if state.tiers.is_tiered() {
            "tiered"
        } else {
            "pure"
        },
    }))
}
