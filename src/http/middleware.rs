//! Layers applied to every request: request ids, request counting, tracing, JSON 405s, and
//! panics turned into 500s.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Request, State};
use axum::http::header::{ALLOW, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tower_http::request_id::{MakeRequestId, RequestId};

use crate::state::AppState;

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

/// Counts requests for `zepto_http_requests_total`.
pub async fn count_requests(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    state.metrics.count_request();
    next.run(request).await
}

/// axum answers a known path with the wrong method by a bare 405 (with a correct `Allow`
/// header); this gives it the JSON error body every other error has.
pub async fn json_method_not_allowed(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    if response.status() != StatusCode::METHOD_NOT_ALLOWED
        || response.headers().contains_key(CONTENT_TYPE)
    {
        return response;
    }
    let allow = response.headers().get(ALLOW).cloned();
    let allowed = allow
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = json!({ "error": format!("Method {method} is not allowed on {path} (allowed: {allowed})") });
    let mut out = (StatusCode::METHOD_NOT_ALLOWED, axum::Json(body)).into_response();
    if let Some(allow) = allow {
        out.headers_mut().insert(ALLOW, allow);
    }
    out
}

/// A handler that panicked answers 500 with a JSON body instead of dropping the connection; the
/// panic is logged. (Nothing should panic: this is the last line of defence.)
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!("request handler panicked: {detail}");
    let body = json!({ "error": format!("Internal error: {detail}") });
    (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
}
