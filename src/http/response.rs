//! Turning errors into responses: status from [`Error::status`], a JSON body, `Allow` on 405.

use axum::Json;
use axum::http::header::{ALLOW, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use crate::error::Error;

/// An error response with `body` as its JSON.
pub fn error_response(error: &Error, body: impl Serialize) -> Response {
    let status = error.status();
    if status.is_server_error() {
        tracing::error!(%status, "{error}");
    } else {
        tracing::debug!(%status, "{error}");
    }
    let mut response = (status, Json(body)).into_response();
    if let Error::MethodNotAllowed { allow, .. } = error {
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static(allow));
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        // Back-pressure and storage outages pass: tell clients when to try again.
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

impl IntoResponse for Error {
    /// `{"error": "<message>"}`: the shape of every endpoint except SQL.
    fn into_response(self) -> Response {
        error_response(&self, json!({ "error": self.to_string() }))
    }
}

/// An error from `POST /` or `GET /?query=`, in the ZeptoDB SQL result shape:
/// `{"columns":[],"data":[],"rows":0,"execution_time_us":0,"error":"…"}`.
#[derive(Debug)]
pub struct SqlError(pub Error);

/// The SQL error body, fields in the reference's order.
#[derive(Serialize)]
struct SqlErrorBody {
    columns: [(); 0],
    data: [(); 0],
    rows: u8,
    execution_time_us: u8,
    error: String,
}

impl IntoResponse for SqlError {
    fn into_response(self) -> Response {
        let body = SqlErrorBody {
            columns: [],
            data: [],
            rows: 0,
            execution_time_us: 0,
            error: self.0.to_string(),
        };
        error_response(&self.0, body)
    }
}

/// The answer for an unknown path.
pub async fn not_found() -> Error {
    Error::NotFound("No such endpoint; see docs/api.md for the list".into())
}

/// 200 with a JSON body.
pub fn ok_json(body: Value) -> Response {
    (StatusCode::OK, Json(body)).into_response()
}
