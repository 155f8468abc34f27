//! SQL over HTTP: `POST /` (statement in the body) and `GET /?query=` (reads only).

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use super::response::{SqlError, ok_json};
use super::{body, paths};
use crate::error::Error;
use crate::format::{self, ARROW_STREAM_MEDIA_TYPE, ResultFormat, X_ZEPTO_FORMAT};
use crate::sql::Access;
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route(paths::ROOT, get(get_sql).post(post_sql))
}

/// URL parameters of the SQL endpoints.
#[derive(Debug, Default, Deserialize)]
struct SqlParams {
    /// The statement (`GET`), or the statement when the `POST` body is empty.
    query: Option<String>,
    /// `Arrow` / `ArrowStream` select Arrow output.
    default_format: Option<String>,
    /// `arrow` selects Arrow output.
    format: Option<String>,
}

fn params(query: Result<Query<SqlParams>, QueryRejection>) -> Result<SqlParams, Error> {
    query
        .map(|Query(p)| p)
        .map_err(|e| Error::BadRequest(format!("Bad URL parameters: {}", e.body_text())))
}

async fn post_sql(
    State(state): State<AppState>,
    query: Result<Query<SqlParams>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let params = match params(query) {
        Ok(p) => p,
        Err(e) => return SqlError(e).into_response(),
    };
    let bytes = match body::read(&headers, body, state.config.max_request_bytes).await {
        Ok(b) => b,
        Err(e) => return SqlError(e).into_response(),
    };
    let sql = match std::str::from_utf8(&bytes) {
        Ok(s) if !s.trim().is_empty() => s.to_string(),
        Ok(_) => params.query.clone().unwrap_or_default(),
        Err(_) => {
            return SqlError(Error::BadRequest("Request body is not UTF-8 text".into()))
                .into_response();
        }
    };
    let format = ResultFormat::negotiate(
        &headers,
        params.default_format.as_deref(),
        params.format.as_deref(),
    );
    run(&state, &sql, Access::ReadWrite, format, started).await
}

async fn get_sql(
    State(state): State<AppState>,
    query: Result<Query<SqlParams>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let params = match params(query) {
        Ok(p) => p,
        Err(e) => return SqlError(e).into_response(),
    };
    let Some(sql) = params.query.as_deref().filter(|q| !q.trim().is_empty()) else {
        return ok_json(json!({ "status": "ok", "engine": "Strata" }));
    };
    let format = ResultFormat::negotiate(
        &headers,
        params.default_format.as_deref(),
        params.format.as_deref(),
    );
    run(&state, sql, Access::ReadOnly, format, started).await
}

async fn run(
    state: &AppState,
    sql: &str,
    access: Access,
    format: ResultFormat,
    started: Instant,
) -> Response {
    let max_rows = match format {
        ResultFormat::ZeptoJson => Some(state.config.max_result_rows).filter(|&n| n > 0),
        ResultFormat::ArrowStream => None,
    };
    let output = match state.queries.run(sql, access, max_rows).await {
        Ok(o) => o,
        Err(e) => return SqlError(e).into_response(),
    };
    let elapsed_us = started.elapsed().as_secs_f64() * 1e6;
    let encoded = match format {
        ResultFormat::ZeptoJson => format::json::encode(&output, elapsed_us)
            .map(|b| ([(CONTENT_TYPE, "application/json")], b).into_response()),
        ResultFormat::ArrowStream => format::arrow_ipc::encode(&output).map(|b| {
            (
                [
                    (CONTENT_TYPE, ARROW_STREAM_MEDIA_TYPE),
                    (X_ZEPTO_FORMAT, "arrow-stream"),
                ],
                b,
            )
                .into_response()
        }),
    };
    encoded.unwrap_or_else(|e| SqlError(e).into_response())
}
