//! Identity and access endpoints: `/whoami`, `/auth/me`, `/api/license`, and the admin API for
//! keys, the JWKS, audit, clients, running queries and the version (`/admin/*`, admin role;
//! the route table in [`super::auth`] says so).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{delete, get, patch, post};
use serde_json::json;

use super::error::{ApiError, ApiResult};
use super::extract::{LimitedBody, Params};
use super::paths;
use super::response::{ok_json, private_json};
use crate::auth::keys::{KeyStore, KeyUpdate, NewKey};
use crate::auth::{Auth, Caller};
use crate::http::state::{AppState, HttpLimits};
use crate::sql::QueryService;

/// Most audit events one answer carries (the ring's size).
const MAX_AUDIT: usize = crate::auth::audit::RING_CAPACITY;

#[derive(Debug, Clone)]
struct AccessState {
    auth: Arc<Auth>,
    queries: Arc<QueryService>,
    limits: HttpLimits,
}

impl axum::extract::FromRef<AccessState> for HttpLimits {
    fn from_ref(state: &AccessState) -> Self {
        state.limits
    }
}

/// The routes of this module.
pub fn router(state: &AppState) -> Router {
    Router::new()
        .route(paths::WHOAMI, get(whoami))
        .route(paths::AUTH_ME, get(auth_me))
        .route(paths::API_LICENSE, get(license))
        .route(paths::ADMIN_VERSION, get(version))
        .route(paths::ADMIN_KEYS, get(list_keys).post(create_key))
        .route(paths::ADMIN_KEY, patch(update_key).delete(revoke_key))
        .route(paths::ADMIN_AUDIT, get(audit))
        .route(paths::ADMIN_AUTH_RELOAD, post(reload_jwks))
        .route(paths::ADMIN_SESSIONS, get(sessions))
        .route(paths::ADMIN_QUERIES, get(queries))
        .route(paths::ADMIN_QUERY, delete(cancel_query))
        .with_state(AccessState {
            auth: Arc::clone(&state.auth),
            queries: Arc::clone(&state.queries),
            limits: state.limits,
        })
}

/// The reference's answer, exactly: role and subject.
async fn whoami(caller: Caller) -> Response {
    let id = &caller.identity;
    private_json(json!({ "role": id.role.as_str(), "subject": id.subject }))
}

/// The caller in full: how it authenticated and what it may reach.
async fn auth_me(caller: Caller) -> Response {
    let id = &caller.identity;
    private_json(json!({
        "subject": id.subject,
        "role": id.role.as_str(),
        "source": id.source.as_str(),
        "name": id.name,
        "tenant_id": caller.tenant_id(),
        "allowed_tables": id.scope.tables,
        "allowed_symbols": id.scope.symbols,
    }))
}

/// Strata is open source: one edition, every feature, no node limit (0), nothing to expire.
async fn license() -> Response {
    ok_json(json!({
        "edition": "open",
        "features": [
            "sql", "tiered_storage", "time_travel", "agent_memory", "api_keys", "jwt",
            "jwks", "sessions", "oidc", "rbac", "table_acl", "symbol_acl", "tenants",
            "rate_limits", "audit", "tls", "mtls", "metrics_history",
        ],
        "max_nodes": 0,
        "trial": false,
        "expired": false,
    }))
}

async fn version() -> Response {
    ok_json(json!({
        "engine": "Strata",
        "version": env!("CARGO_PKG_VERSION"),
        "build": if cfg!(debug_assertions) { "debug" } else { "release" },
    }))
}

/// `POST /admin/auth/reload`: the JWKS fetched now (502, old keys kept, when it cannot be).
async fn reload_jwks(State(state): State<AccessState>, caller: Caller) -> ApiResult<Response> {
    let keys_loaded = state.auth.reload_jwks().await?;
    caller.audit(format!("jwks-reloaded: {keys_loaded} keys"));
    Ok(ok_json(
        json!({ "refreshed": true, "keys_loaded": keys_loaded }),
    ))
}

fn key_store(auth: &Auth) -> ApiResult<&KeyStore> {
    auth.keys().ok_or_else(|| {
        ApiError::BadRequest(
            "API keys are not enabled on this server: start it with --api-keys-file FILE".into(),
        )
    })
}

/// Runs a key-store change (a file write and sync) off the I/O threads.
async fn with_keys<T: Send + 'static>(
    auth: &Arc<Auth>,
    change: impl FnOnce(&KeyStore) -> crate::auth::Result<T> + Send + 'static,
) -> ApiResult<T> {
    key_store(auth)?;
    let auth = Arc::clone(auth);
    tokio::task::spawn_blocking(move || match auth.keys() {
        Some(store) => change(store).map_err(ApiError::from),
        None => Err(ApiError::BadRequest("API keys are not enabled".into())),
    })
    .await?
}

fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("Request body is not a valid key request: {e}")))
}

async fn list_keys(State(state): State<AccessState>) -> ApiResult<Response> {
    Ok(ok_json(key_store(&state.auth)?.list()))
}

async fn create_key(
    State(state): State<AccessState>,
    caller: Caller,
    LimitedBody(body): LimitedBody,
) -> ApiResult<Response> {
    let new: NewKey = json_body(&body)?;
    let (key, id) = with_keys(&state.auth, {
        let new = new.clone();
        move |store| store.create(&new)
    })
    .await?;
    caller.audit(format!(
        "key-created: {id} name={} role={}",
        new.name.unwrap_or_default(),
        new.role.as_deref().unwrap_or("reader")
    ));
    Ok(private_json(json!({ "key": key })))
}

async fn update_key(
    State(state): State<AccessState>,
    caller: Caller,
    Path(id): Path<String>,
    LimitedBody(body): LimitedBody,
) -> ApiResult<Response> {
    let update: KeyUpdate = json_body(&body)?;
    let target = id.clone();
    with_keys(&state.auth, move |store| store.update(&target, &update)).await?;
    caller.audit(format!("key-updated: {id}"));
    Ok(ok_json(json!({ "updated": true })))
}

async fn revoke_key(
    State(state): State<AccessState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let target = id.clone();
    with_keys(&state.auth, move |store| store.revoke(&target)).await?;
    caller.audit(format!("key-revoked: {id}"));
    Ok(ok_json(json!({ "revoked": true })))
}

async fn audit(
    State(state): State<AccessState>,
    Params(params): Params<HashMap<String, String>>,
) -> ApiResult<Response> {
    let n = match params.get("n") {
        None => 100,
        Some(n) => n.parse::<usize>().map_err(|_| {
            ApiError::BadRequest(format!("n must be a non-negative integer, got {n:?}"))
        })?,
    };
    Ok(ok_json(state.auth.audit().recent(n.min(MAX_AUDIT))))
}

async fn sessions(State(state): State<AccessState>) -> Response {
    ok_json(state.auth.clients().list())
}

async fn queries(State(state): State<AccessState>) -> Response {
    ok_json(state.queries.running().list())
}

async fn cancel_query(
    State(state): State<AccessState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    if !state.queries.running().cancel(&id) {
        return Err(ApiError::NotFound("Query not found".into()));
    }
    caller.audit(format!("query-cancelled: {id}"));
    Ok(ok_json(json!({ "cancelled": true })))
}
