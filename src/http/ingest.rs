//! `POST /insert/arrow?table=t`: bulk ingest of an Arrow IPC stream.

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::json;

use super::{body, paths};
use crate::error::{Error, Result};
use crate::format::X_ZEPTO_FORMAT;
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route(paths::INSERT_ARROW, post(insert_arrow))
}

#[derive(Debug, Deserialize)]
struct IngestParams {
    table: Option<String>,
    /// The reference's alternative spelling.
    table_name: Option<String>,
}

async fn insert_arrow(
    State(state): State<AppState>,
    query: Result<Query<IngestParams>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let Query(params) =
        query.map_err(|e| Error::BadRequest(format!("Bad URL parameters: {}", e.body_text())))?;
    let table = params.table.or(params.table_name).ok_or_else(|| {
        Error::BadRequest("Missing ?table= parameter: name the table to insert into".into())
    })?;
    let bytes = body::read(&headers, body, state.config.max_request_bytes).await?;
    // Arrow in memory is about the size of its IPC stream.
    state.tiers.reserve(bytes.len()).await?;
    let tiers = std::sync::Arc::clone(&state.tiers);
    // Decoding and casting is CPU work proportional to the body: keep it off the I/O threads.
    let inserted = tokio::task::spawn_blocking(move || {
        crate::ingest::ingest_arrow_stream(&tiers, &table, bytes)
    })
    .await
    .map_err(|e| Error::Internal(format!("ingest task failed: {e}")))??;
    Ok((
        [(X_ZEPTO_FORMAT, "arrow-stream")],
        axum::Json(json!({ "inserted": inserted })),
    )
        .into_response())
}
