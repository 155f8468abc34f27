//! Operator endpoints: `POST /admin/flush`.

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde_json::{Value, json};

use super::paths;
use crate::error::Result;
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route(paths::ADMIN_FLUSH, post(flush))
}

/// Moves every table's hot rows to the HDB now; answers once they are committed.
async fn flush(State(state): State<AppState>) -> Result<axum::Json<Value>> {
    let rows = state.tiers.flush_all().await?;
    Ok(axum::Json(json!({
        "flushed_rows": rows,
        "storage_mode": if state.tiers.is_tiered() { "tiered" } else { "pure" },
    })))
}
