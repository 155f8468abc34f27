//! Plain answers shared by several routes.

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::error::ApiError;

/// The answer for an unknown path.
pub async fn not_found() -> ApiError {
    ApiError::NotFound("No such endpoint; see docs/api.md for the list".into())
}

/// 200 with `body` as JSON.
pub fn ok_json(body: impl Serialize) -> Response {
    Json(body).into_response()
}
