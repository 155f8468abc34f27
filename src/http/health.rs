//! Liveness and readiness: `/ping`, `/health`, `/ready`.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::paths;
use super::response::ok_json;
use crate::http::state::AppState;
use strata_tiers::Tiers;

/// The routes of this module.
pub fn router(state: &AppState) -> Router {
    Router::new()
        .route(paths::PING, get(ping))
        .route(paths::HEALTH, get(health))
        .route(paths::READY, get(ready))
        .with_state(Arc::clone(&state.tiers))
}

async fn ping() -> Response {
    ([(CONTENT_TYPE, "text/plain; charset=UTF-8")], "Ok.\n").into_response()
}

/// Liveness. A failing flush makes the server `degraded` (still 200: it serves every query and
/// keeps every row in memory and the WAL), with the reason, until a flush succeeds.
async fn health(State(tiers): State<Arc<Tiers>>) -> Response {
    match tiers.stats().flush_error() {
        None => ok_json(json!({ "status": "healthy" })),
        Some(reason) => ok_json(json!({ "status": "degraded", "reason": reason })),
    }
}

async fn ready() -> Response {
    ok_json(json!({ "status": "ready" }))
}
