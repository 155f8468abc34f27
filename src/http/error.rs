//! The ZeptoDB HTTP edge's errors: every failure a handler can answer with, and the one place
//! they become statuses ([`ApiError::status`]) and bodies.
//!
//! Domain errors arrive typed ([`crate::sql::Error`], [`crate::memory::Error`], …) and are
//! classified by [`ErrorKind`]; this module picks the status, the wording the HTTP API uses and
//! the headers (`Allow`, `Retry-After`). A 5xx answer says what failed in user terms with the
//! request id, never the internal detail: that goes to the log, written by
//! [`super::middleware::log_errors`] from the [`LoggedError`] each error response carries.

use axum::Json;
use axum::http::header::{ALLOW, CACHE_CONTROL, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::middleware::current_request_id;
use crate::error::ErrorKind;
use crate::sql::statement::Class;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A SQL statement failed.
    #[error(transparent)]
    Sql(#[from] crate::sql::Error),

    /// An Agent Memory operation failed.
    #[error(transparent)]
    Memory(#[from] crate::memory::Error),

    /// Authentication or authorization refused the request.
    #[error(transparent)]
    Auth(#[from] crate::auth::Error),

    /// An ingest failed.
    #[error(transparent)]
    Ingest(#[from] crate::ingest::Error),

    /// A tiers operation (flush, figures) failed.
    #[error(transparent)]
    Tiers(#[from] strata_tiers::Error),

    /// A result could not be encoded.
    #[error(transparent)]
    Encode(#[from] crate::format::Error),

    /// The metrics could not be rendered.
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),

    /// The request body is over `--max-request-bytes`.
    #[error("Request body exceeds {limit} bytes (--max-request-bytes)")]
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },

    /// The request itself is malformed (URL parameters, headers, body encoding).
    #[error("{0}")]
    BadRequest(String),

    /// No such endpoint or resource.
    #[error("{0}")]
    NotFound(String),

    /// A known path with a method it does not take.
    #[error("Method {method} is not allowed on {path} (allowed: {allow})")]
    MethodNotAllowed {
        /// The method sent.
        method: String,
        /// The path.
        path: String,
        /// The methods it takes.
        allow: String,
    },

    /// A blocking task died (a fault on our side).
    #[error("task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Result alias for handlers.
pub type ApiResult<T> = std::result::Result<T, ApiError>;

impl ApiError {
    /// Whose fault the failure is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ApiError::Sql(e) => e.kind(),
            ApiError::Memory(e) => e.kind(),
            ApiError::Auth(e) => e.kind(),
            ApiError::Ingest(e) => e.kind(),
            ApiError::Tiers(e) => crate::error::tiers_kind(e),
            ApiError::Encode(_) | ApiError::Metrics(_) | ApiError::Task(_) => ErrorKind::Internal,
            ApiError::BodyTooLarge { .. } => ErrorKind::TooLarge,
            ApiError::BadRequest(_) => ErrorKind::InvalidInput,
            ApiError::NotFound(_) => ErrorKind::NotFound,
            ApiError::MethodNotAllowed { .. } => ErrorKind::NotAllowed,
        }
    }

    /// The HTTP status: the only mapping from errors to statuses in the server.
    pub fn status(&self) -> StatusCode {
        match self.kind() {
            ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::NotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::Timeout => StatusCode::REQUEST_TIMEOUT,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Upstream => StatusCode::BAD_GATEWAY,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message the client sees. Client errors say exactly what was wrong; server errors say
    /// what failed and the request id to find the detail in the log.
    pub fn public_message(&self) -> String {
        match self {
            ApiError::Sql(crate::sql::Error::ReadOnlyRequest { class }) => read_only(*class),
            // The server's cap applies to JSON results only: Arrow is the way around it.
            ApiError::Sql(crate::sql::Error::ResultTooLarge {
                max,
                set_by: set_by @ "--max-result-rows",
            }) => format!(
                "Result has more than {max} rows ({set_by}); add a LIMIT or request Arrow (Accept: {})",
                crate::format::ARROW_STREAM_MEDIA_TYPE
            ),
            _ if self.is_back_pressure() => self.to_string(),
            // Authentication's messages name flags and checks, never internals.
            ApiError::Auth(e) if e.kind() == ErrorKind::Unavailable => e.to_string(),
            _ => match self.kind() {
                ErrorKind::Unavailable => format!(
                    "Storage is unavailable right now; retry later (request {})",
                    current_request_id()
                ),
                ErrorKind::Internal => format!(
                    "Internal error: the request could not be completed (request {}; the server log has the details)",
                    current_request_id()
                ),
                _ => self.to_string(),
            },
        }
    }

    /// How long a rate-limited client should wait.
    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            ApiError::Auth(crate::auth::Error::RateLimited { retry_after, .. })
            | ApiError::Sql(crate::sql::Error::Denied(crate::auth::Error::RateLimited {
                retry_after,
                ..
            })) => Some(*retry_after),
            _ => None,
        }
    }

    /// A full memory budget: the message tells the client what to do, so it is shown.
    fn is_back_pressure(&self) -> bool {
        let tiers = match self {
            ApiError::Sql(crate::sql::Error::Tiers(e))
            | ApiError::Ingest(crate::ingest::Error::Tiers(e))
            | ApiError::Tiers(e) => e,
            ApiError::Sql(crate::sql::Error::Engine(e)) => {
                return crate::error::engine_kind(e) == ErrorKind::Unavailable
                    && matches!(
                        e.find_root(),
                        datafusion::error::DataFusionError::External(inner)
                            if matches!(
                                inner.downcast_ref::<strata_tiers::Error>(),
                                Some(strata_tiers::Error::Backpressure(_))
                            )
                    );
            }
            _ => return false,
        };
        matches!(tiers, strata_tiers::Error::Backpressure(_))
    }

    /// A response with `body`, the status, and the headers the status calls for.
    fn respond(&self, body: impl Serialize) -> Response {
        let status = self.status();
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        match self {
            ApiError::Sql(crate::sql::Error::ReadOnlyRequest { .. }) => {
                headers.insert(ALLOW, HeaderValue::from_static("POST"));
            }
            ApiError::MethodNotAllowed { allow, .. } => {
                if let Ok(value) = HeaderValue::from_str(allow) {
                    headers.insert(ALLOW, value);
                }
            }
            _ => {}
        }
        if status == StatusCode::SERVICE_UNAVAILABLE && !matches!(self, ApiError::Auth(_)) {
            // Back-pressure and storage outages pass: tell clients when to try again.
            headers.insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if status == StatusCode::UNAUTHORIZED {
            // RFC 9110 §15.5.2: a 401 says how to authenticate.
            headers.insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"Strata\""),
            );
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        if let Some(wait) = self.retry_after() {
            // Whole seconds, rounded up: a client retrying then is admitted.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            headers.insert(RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        response.extensions_mut().insert(LoggedError {
            status,
            detail: detail(self),
        });
        response
    }
}

/// The read-only refusal of `GET /?query=`.
fn read_only(class: Class) -> String {
    format!("GET SQL is read-only; send {class} statements with POST /")
}

/// The error and its whole chain of causes, for the log.
fn detail(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// What the logging middleware writes for an error response.
#[derive(Debug, Clone)]
pub struct LoggedError {
    /// The status answered.
    pub status: StatusCode,
    /// The full error with its causes (never sent to the client).
    pub detail: String,
}

/// `{"error": "<message>"}`: the shape of every endpoint except SQL.
#[derive(Serialize)]
struct ErrorBody {
    error: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.respond(ErrorBody {
            error: self.public_message(),
        })
    }
}

/// An error from `POST /` or `GET /?query=`, in the ZeptoDB SQL result shape:
/// `{"columns":[],"data":[],"rows":0,"execution_time_us":0,"error":"…"}`.
#[derive(Debug)]
pub struct SqlError(pub ApiError);

/// The SQL error body, fields in the reference's order.
#[derive(Serialize)]
struct SqlErrorBody {
    columns: [(); 0],
    data: [(); 0],
    rows: u8,
    execution_time_us: u8,
    error: String,
}

impl From<ApiError> for SqlError {
    fn from(e: ApiError) -> Self {
        SqlError(e)
    }
}

impl From<crate::sql::Error> for SqlError {
    fn from(e: crate::sql::Error) -> Self {
        SqlError(e.into())
    }
}

impl From<crate::format::Error> for SqlError {
    fn from(e: crate::format::Error) -> Self {
        SqlError(e.into())
    }
}

impl IntoResponse for SqlError {
    fn into_response(self) -> Response {
        self.0.respond(SqlErrorBody {
            columns: [],
            data: [],
            rows: 0,
            execution_time_us: 0,
            error: self.0.public_message(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::Error as SqlErr;

    #[test]
    fn every_kind_has_its_status() {
        let cases: Vec<(ApiError, StatusCode)> = vec![
            (SqlErr::Empty.into(), StatusCode::BAD_REQUEST),
            (
                SqlErr::UnknownTable { name: "t".into() }.into(),
                StatusCode::BAD_REQUEST,
            ),
            (
                SqlErr::ReadOnlyRequest {
                    class: Class::Write,
                }
                .into(),
                StatusCode::METHOD_NOT_ALLOWED,
            ),
            (
                SqlErr::Timeout {
                    ms: 5,
                    set_by: "--query-timeout-ms",
                }
                .into(),
                StatusCode::REQUEST_TIMEOUT,
            ),
            (
                SqlErr::ResultTooLarge {
                    max: 1,
                    set_by: "--max-result-rows",
                }
                .into(),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            (
                ApiError::BodyTooLarge { limit: 1 },
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            (ApiError::NotFound("x".into()), StatusCode::NOT_FOUND),
            (
                strata_tiers::Error::Backpressure("full".into()).into(),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                crate::memory::Error::TenantConflict.into(),
                StatusCode::BAD_REQUEST,
            ),
            (
                SqlErr::Engine(datafusion::error::DataFusionError::Internal("bug".into())).into(),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
        ];
        for (error, status) in cases {
            assert_eq!(error.status(), status, "{error}");
        }
    }

    #[test]
    fn server_errors_hide_their_detail() {
        let bug: ApiError = SqlErr::Engine(datafusion::error::DataFusionError::Internal(
            "secret".into(),
        ))
        .into();
        let message = bug.public_message();
        assert!(!message.contains("secret"), "{message}");
        assert!(message.contains("request"), "{message}");
        let full: ApiError =
            strata_tiers::Error::Backpressure("raise --rdb-max-bytes".into()).into();
        assert_eq!(full.public_message(), "raise --rdb-max-bytes");
        let response = bug.into_response();
        let logged = response.extensions().get::<LoggedError>().unwrap();
        assert!(logged.detail.contains("secret"));
    }
}
