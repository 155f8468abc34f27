//! `/stats` (JSON figures) and `/metrics` (Prometheus text).

use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::paths;
use crate::error::Result;
use crate::metrics;
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::STATS, get(stats))
        .route(paths::METRICS, get(prometheus))
}

async fn stats(State(state): State<AppState>) -> Response {
    axum::Json(metrics::stats(&state.tiers, &state.queries)).into_response()
}

async fn prometheus(State(state): State<AppState>) -> Result<Response> {
    let text = state
        .metrics
        .render(&state.tiers, &state.queries, &state.memory)?;
    Ok((
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
        .into_response())
}
