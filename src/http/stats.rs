//! `/stats` (JSON figures), `/metrics` (Prometheus text) and `/admin/metrics/history` (recent
//! snapshots of the counters).

use std::sync::Arc;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use strata_tiers::Tiers;

use super::error::ApiResult;
use super::extract::Params;
use super::paths;
use crate::http::state::AppState;
use crate::memory::AgentMemory;
use crate::metrics::history::{History, MAX_ANSWER, Snapshot};
use crate::metrics::{self, Metrics, Stats};
use crate::sql::QueryService;

#[derive(Debug, Clone)]
struct StatsState {
    tiers: Arc<Tiers>,
    queries: Arc<QueryService>,
    memory: Arc<AgentMemory>,
    metrics: Arc<Metrics>,
    history: Arc<History>,
}

#[derive(Debug, Deserialize)]
struct HistoryParams {
    since: Option<i64>,
    limit: Option<usize>,
}

/// The routes of this module.
pub fn router(state: &AppState) -> Router {
    Router::new()
        .route(paths::STATS, get(stats))
        .route(paths::METRICS, get(prometheus))
        .route(paths::ADMIN_METRICS_HISTORY, get(history))
        .with_state(StatsState {
            history: Arc::clone(&state.history),
            tiers: Arc::clone(&state.tiers),
            queries: Arc::clone(&state.queries),
            memory: Arc::clone(&state.memory),
            metrics: Arc::clone(&state.metrics),
        })
}

async fn stats(State(state): State<StatsState>) -> Json<Stats> {
    Json(metrics::stats(&state.tiers, &state.queries))
}

/// `GET /admin/metrics/history?since=<epoch ms>&limit=<n>`: the latest snapshots (600 at most),
/// oldest first.
async fn history(
    State(state): State<StatsState>,
    Params(p): Params<HistoryParams>,
) -> Json<Vec<Snapshot>> {
    Json(
        state
            .history
            .since(p.since.unwrap_or(i64::MIN), p.limit.unwrap_or(MAX_ANSWER)),
    )
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
