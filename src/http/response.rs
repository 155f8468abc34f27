//! Plain answers shared by several routes.

use axum::Json;
use axum::http::header::{CACHE_CONTROL, PRAGMA};
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

/// 200 with `body` as JSON that nothing between the client and us may cache (identities,
/// sessions).
pub fn private_json(body: impl Serialize) -> Response {
    (
        [(CACHE_CONTROL, "no-store, private"), (PRAGMA, "no-cache")],
        Json(body),
    )
        .into_response()
}
