//! The ZeptoDB HTTP edge: one module per resource, assembled into a router here with the layers
//! every request passes through.
//!
//! This is the only place that knows HTTP: handlers extract the request ([`extract`]), call a
//! service ([`crate::sql`], [`crate::ingest`], [`crate::memory`], [`crate::metrics`]) and encode
//! its answer; every failure becomes a status and body in one place ([`error`]). Each route
//! module builds its router over only the state it uses.

pub mod access;
pub mod admin;
pub mod auth;
pub mod clickhouse;
pub mod error;
pub mod extract;
pub mod health;
pub mod ingest;
pub mod memory;
pub mod middleware;
pub mod paths;
pub mod response;
pub mod session;
pub mod sql;
pub mod state;
pub mod stats;
pub mod tls;

use std::sync::Arc;

use axum::Router;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use self::state::AppState;

/// Serves the application on `listener` (over TLS when `tls` is given) until `shutdown`
/// completes, then lets requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    tls: Option<tls::TlsListener>,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    match tls {
        Some(tls) => tls.serve(listener, router(state), shutdown).await,
        None => {
            axum::serve(
                listener,
                router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown)
            .await
        }
    }
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .merge(health::router(&state))
        .merge(access::router(&state))
        .merge(session::router(&state))
        .merge(sql::router(&state))
        .merge(ingest::router(&state))
        .merge(stats::router(&state))
        .merge(admin::router(&state))
        .merge(memory::router(&state))
        .fallback(response::not_found)
        // Innermost first: each layer below wraps the ones above it. Layers of a router wrap
        // each route, so the span and the route table of `auth` see the matched route.
        .layer(axum::middleware::from_fn_with_state(
            auth::Gate {
                auth: Arc::clone(&state.auth),
                default_protocol: state.limits.default_protocol,
            },
            auth::authenticate,
        ))
        .layer(axum::middleware::from_fn(middleware::log_errors))
        .layer(axum::middleware::from_fn(middleware::scope_request_id))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state.metrics),
            middleware::count_requests,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(
                    middleware::SequentialRequestId::default(),
                ))
                .layer(TraceLayer::new_for_http().make_span_with(middleware::span))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(CatchPanicLayer::custom(middleware::panic_response)),
        );
    // axum adds `Allow` to a 405 outside a route's layers: only a layer around the whole router
    // sees it, to give the 405 our JSON body naming the allowed methods.
    Router::new()
        .fallback_service(routes)
        .layer(axum::middleware::from_fn(
            middleware::json_method_not_allowed,
        ))
}
