//! `POST /insert/arrow?table=t`: bulk ingest of an Arrow IPC stream.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use strata_tiers::Tiers;

use super::error::{ApiError, ApiResult};
use super::extract::{LimitedBody, Params};
use super::paths;
use super::sql::X_ZEPTO_FORMAT;
use crate::auth::Caller;
use crate::http::state::{AppState, HttpLimits};
use crate::ingest::ArrowStream;

#[derive(Debug, Clone)]
struct IngestState {
    tiers: Arc<Tiers>,
    limits: HttpLimits,
}

impl axum::extract::FromRef<IngestState> for HttpLimits {
    fn from_ref(state: &IngestState) -> Self {
        state.limits
    }
}

/// The routes of this module.
pub fn router(state: &AppState) -> Router {
    Router::new()
        .route(paths::INSERT_ARROW, post(insert_arrow))
        .with_state(IngestState {
            tiers: Arc::clone(&state.tiers),
            limits: state.limits,
        })
}

#[derive(Debug, Deserialize)]
struct IngestParams {
    table: Option<String>,
    /// The reference's alternative spelling.
    table_name: Option<String>,
}

#[derive(Serialize)]
struct Inserted {
    inserted: u64,
}

async fn insert_arrow(
    State(state): State<IngestState>,
    caller: Caller,
    Params(params): Params<IngestParams>,
    LimitedBody(bytes): LimitedBody,
) -> ApiResult<Response> {
    let table = params.table.or(params.table_name).ok_or_else(|| {
        ApiError::BadRequest("Missing ?table= parameter: name the table to insert into".into())
    })?;
    caller.check_tables([table.as_str()])?;
    caller.require_unscoped_write()?;
    let max_decoded = crate::ingest::max_decoded_bytes(state.limits.max_request_bytes);
    let stream = ArrowStream::new(bytes, max_decoded)?;
    state
        .tiers
        .reserve(usize::try_from(stream.decoded_bytes()).unwrap_or(usize::MAX))
        .await?;
    let tiers = Arc::clone(&state.tiers);
    // Decoding and casting is CPU work proportional to the body: keep it off the I/O threads.
    let written = tokio::task::spawn_blocking(move || {
        crate::ingest::ingest_arrow_stream(&tiers, &table, stream)
    })
    .await??;
    let inserted = written
        .durable()
        .await
        .map_err(crate::ingest::Error::from)?;
    Ok((
        [(X_ZEPTO_FORMAT, "arrow-stream")],
        Json(Inserted { inserted }),
    )
        .into_response())
}
