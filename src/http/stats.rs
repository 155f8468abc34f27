//! `/stats` (JSON figures) and `/metrics` (Prometheus text).

use std::sync::Arc;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use strata_tiers::Tiers;

use super::error::ApiResult;
use super::paths;
use crate::http::state::AppState;
use crate::memory::AgentMemory;
use crate::metrics::{self, Metrics, Stats};
use crate::sql::QueryService;

#[derive(Debug, Clone)]
struct StatsState {
    tiers: Arc<Tiers>,
    queries: Arc<QueryService>,
    memory: Arc<AgentMemory>,
    metrics: Arc<Metrics>,
}

/// The routes of this module.
pub fn router(state: &AppState) -> Router {
    Router::new()
        .route(paths::STATS, get(stats))
        .route(paths::METRICS, get(prometheus))
        .with_state(StatsState {
            tiers: Arc::clone(&state.tiers),
            queries: Arc::clone(&state.queries),
            memory: Arc::clone(&state.memory),
            metrics: Arc::clone(&state.metrics),
        })
}

async fn stats(State(state): State<StatsState>) -> Json<Stats> {
    Json(metrics::stats(&state.tiers, &state.queries))
}

async fn prometheus(State(state): State<StatsState>) -> ApiResult<Response> {
    let text = state
        .metrics
        .render(&state.tiers, &state.queries, &state.memory)?;
    Ok((
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
        .into_response())
}
