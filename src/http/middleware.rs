//! Layers applied to every request: request ids (made, propagated, and in scope for error
//! bodies), request counting, a trace span named by the matched route, error logging in one
//! place, JSON 405s, and panics turned into 500s.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{ALLOW, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::request_id::{MakeRequestId, RequestId};

use super::error::{ApiError, LoggedError};
use crate::metrics::Metrics;

/// The request-id header.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

tokio::task_local! {
    /// The id of the request being served, for error bodies.
    static REQUEST_ID: String;
}

/// The id of the request being served (`-` outside a request).
pub fn current_request_id() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "-".into())
}

/// Request ids in the reference's style (`r0001a3`): a per-process sequence, cheap and sortable.
/// A client-sent `X-Request-Id` is kept instead (tower-http's `SetRequestId` only fills gaps).
#[derive(Debug, Clone, Default)]
pub struct SequentialRequestId {
    next: std::sync::Arc<AtomicU64>,
}

impl MakeRequestId for SequentialRequestId {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        HeaderValue::from_str(&format!("r{n:06x}"))
            .ok()
            .map(RequestId::new)
    }
}

/// The request's id, from its header (set by `SetRequestIdLayer` before this runs).
fn request_id<B>(request: &axum::http::Request<B>) -> String {
    request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_string()
}

/// The span of one request: method, the matched route (never the raw path, which would make
/// one span name per URL), and the request id.
pub fn span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    tracing::debug_span!("http", method = %request.method(), route, request_id = %request_id(request))
}

/// Keeps the request id in scope while the request is served, for error bodies.
pub async fn scope_request_id(request: Request, next: Next) -> Response {
    let id = request_id(&request);
    REQUEST_ID.scope(id, next.run(request)).await
}

/// Counts requests for `zepto_http_requests_total`.
pub async fn count_requests(
    State(metrics): State<std::sync::Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    metrics.count_request();
    next.run(request).await
}

/// Logs every error response once, in the request's span: server errors with their full
/// detail (which their bodies never carry), client errors at debug level.
pub async fn log_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if let Some(logged) = response.extensions().get::<LoggedError>() {
        if logged.status.is_server_error() {
            tracing::error!(status = %logged.status, "{}", logged.detail);
        } else {
            tracing::debug!(status = %logged.status, "{}", logged.detail);
        }
    }
    response
}

/// axum answers a known path with the wrong method by a bare 405 (with a correct `Allow`
/// header); this gives it the JSON error body every other error has. It wraps the whole router
/// (see [`super::router`]), where the `Allow` header is already set.
pub async fn json_method_not_allowed(request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    if response.status() != StatusCode::METHOD_NOT_ALLOWED
        || response.headers().contains_key(CONTENT_TYPE)
    {
        return response;
    }
    let allow = response
        .headers()
        .get(ALLOW)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let request_id = response.headers().get(REQUEST_ID_HEADER).cloned();
    let mut json = ApiError::MethodNotAllowed {
        method,
        path,
        allow,
    }
    .into_response();
    if let Some(id) = request_id {
        json.headers_mut().insert(REQUEST_ID_HEADER, id);
    }
    json
}

/// A handler that panicked answers 500 with a JSON body instead of dropping the connection; the
/// panic is logged, never echoed. (Nothing should panic: this is the last line of defence.)
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!("request handler panicked: {detail}");
    let body = serde_json::json!({
        "error": "Internal error: the request could not be completed (the server log has the details)"
    });
    (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
}
