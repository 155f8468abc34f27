//! Operator endpoints: `GET /admin/cluster`, `POST /admin/flush`.

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::paths;
use crate::error::Result;
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::ADMIN_FLUSH, post(flush))
        .route(paths::ADMIN_CLUSTER, get(cluster))
}

/// The reference's cluster overview (one standalone node), with every figure of `/stats`,
/// tier figures included.
async fn cluster(State(state): State<AppState>) -> Result<axum::Json<Value>> {
    let stats = crate::metrics::stats(&state.tiers, &state.queries);
    let mut body =
        serde_json::to_value(&stats).map_err(|e| crate::error::Error::Internal(e.to_string()))?;
    if let Some(map) = body.as_object_mut() {
        map.insert("mode".into(), json!("standalone"));
        map.insert("node_count".into(), json!(1));
        map.insert("partitions_evicted".into(), json!(0));
    }
    Ok(axum::Json(body))
}

/// Moves every table's hot rows to the HDB now; answers once they are committed.
async fn flush(State(state): State<AppState>) -> Result<axum::Json<Value>> {
    let rows = state.tiers.flush_all().await?;
    Ok(axum::Json(json!({
        "flushed_rows": rows,
        "storage_mode": if state.tiers.is_tiered() { "tiered" } else { "pure" },
    })))
}
