//! The HTTP surface: one module per resource, assembled into a router here with the layers every
//! request passes through.
//!
//! Handlers only parse requests and shape responses; the work happens in [`crate::sql`],
//! [`crate::ingest`], [`crate::memory`] and [`crate::metrics`].

pub mod admin;
pub mod body;
pub mod health;
pub mod ingest;
pub mod memory;
pub mod middleware;
pub mod paths;
pub mod response;
pub mod sql;
pub mod stats;

use axum::Router;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::state::AppState;

/// The whole application.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(sql::router())
        .merge(ingest::router())
        .merge(stats::router())
        .merge(admin::router())
        .merge(memory::router())
        .fallback(response::not_found)
        .layer(axum::middleware::from_fn(middleware::json_method_not_allowed))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::count_requests,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(
                    middleware::SequentialRequestId::default(),
                ))
                .layer(TraceLayer::new_for_http().make_span_with(
                    |request: &axum::http::Request<_>| {
                        let id = request
                            .headers()
                            .get("x-request-id")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("");
                        tracing::debug_span!("http", method = %request.method(), path = %request.uri().path(), request_id = %id)
                    },
                ))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(CatchPanicLayer::custom(middleware::panic_response)),
        )
        .with_state(state)
}
