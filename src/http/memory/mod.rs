//! `/api/ai/*`: Agent Memory over the ZeptoDB HTTP edge. Handlers read the request (JSON body
//! fields, query parameters, the caller's tenant) into the domain's inputs
//! (`requests`), which check themselves, and hand the work to [`AgentMemory`]. Changes (a WAL
//! append and sync each) run on a blocking thread; searches are async down to the vector index.

mod fields;
mod requests;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use strata_tiers::clock::now_nanos;

use self::fields::Fields;
use super::auth::RequestTenant;
use super::error::{ApiError, ApiResult};
use super::extract::{LimitedBody, Params};
use super::paths;
use crate::http::state::{AppState, MemoryState};
use crate::memory::record::{CacheEntry, Memory, resolve_tenant};
use crate::memory::scope::namespace;
use crate::memory::service::{Match, Stored};
use crate::memory::stats::stats_json;
use crate::memory::{AgentMemory, Result as MemoryResult};

/// The routes of this module.
pub fn router(state: &AppState) -> Router {
    Router::new()
        .route(paths::AI_STATS, get(stats))
        .route(paths::AI_MEMORIES, post(store_memory))
        .route(paths::AI_MEMORY_SEARCH, post(search))
        .route(paths::AI_MEMORY, get(get_memory).delete(delete_memory))
        .route(paths::AI_CONTEXT, post(context))
        .route(paths::AI_CACHE_STORE, post(store_cache))
        .route(paths::AI_CACHE_LOOKUP, post(lookup_cache))
        .route(paths::AI_CACHE, delete(delete_cache))
        .with_state(<MemoryState as axum::extract::FromRef<AppState>>::from_ref(
            state,
        ))
}

impl axum::extract::FromRef<MemoryState> for crate::http::state::HttpLimits {
    fn from_ref(state: &MemoryState) -> Self {
        state.limits
    }
}

type QueryParams = Params<HashMap<String, String>>;

async fn stats(
    State(state): State<MemoryState>,
    Params(params): QueryParams,
) -> ApiResult<Json<Value>> {
    only_params(&params, &["scope"])?;
    if let Some(scope) = params.get("scope")
        && scope != "local"
        && scope != "cluster"
    {
        return Err(ApiError::BadRequest(
            "scope must be local or cluster".into(),
        ));
    }
    Ok(Json(stats_json(&state.memory.snapshot(), &state.settings)))
}

async fn store_memory(
    State(state): State<MemoryState>,
    RequestTenant(header): RequestTenant,
    LimitedBody(body): LimitedBody,
) -> ApiResult<Json<Value>> {
    let fields = Fields::parse(&body, requests::MEMORY_FIELDS)?;
    let now = now_nanos();
    let memory = Memory::new(requests::new_memory(&fields, header.as_deref())?, now)?;
    let stored = blocking(&state.memory, move |m| m.put_memory(memory, now)).await?;
    Ok(stored_reply("memory_id", stored))
}

async fn get_memory(
    State(state): State<MemoryState>,
    Path(id): Path<String>,
    Params(params): QueryParams,
    RequestTenant(header): RequestTenant,
) -> ApiResult<Response> {
    let (tenant, ns) = point_scope(&params, header)?;
    Ok(match state.memory.get_memory(&id, &tenant, ns.as_deref()) {
        Some(m) => Json(json!({ "found": true, "memory": m.to_json(true) })).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({ "found": false, "error": format!("memory not found: {id}") })),
        )
            .into_response(),
    })
}

async fn delete_memory(
    State(state): State<MemoryState>,
    Path(id): Path<String>,
    Params(params): QueryParams,
    RequestTenant(header): RequestTenant,
) -> ApiResult<Json<Value>> {
    let (tenant, ns) = point_scope(&params, header)?;
    let target = id.clone();
    let deleted = blocking(&state.memory, move |m| {
        m.delete_memory(&target, &tenant, ns.as_deref())
    })
    .await?;
    if !deleted {
        return Err(ApiError::NotFound(format!("memory not found: {id}")));
    }
    Ok(Json(json!({ "ok": true, "memory_id": id })))
}

async fn search(
    State(state): State<MemoryState>,
    RequestTenant(header): RequestTenant,
    LimitedBody(body): LimitedBody,
) -> ApiResult<Json<Value>> {
    let fields = Fields::parse(&body, requests::SEARCH_FIELDS)?;
    let query = requests::search_query(&fields, header)?;
    let matches = state.memory.search(query, now_nanos()).await?;
    Ok(Json(json!({
        "matches": matches.iter().map(match_json).collect::<Vec<_>>(),
        "rows": matches.len(),
    })))
}

async fn context(
    State(state): State<MemoryState>,
    RequestTenant(header): RequestTenant,
    LimitedBody(body): LimitedBody,
) -> ApiResult<Json<Value>> {
    let fields = Fields::parse(&body, requests::CONTEXT_FIELDS)?;
    let query = requests::search_query(&fields, header)?;
    let budget = fields.i64("token_budget")?.unwrap_or(0);
    let (taken, tokens) = state.memory.context(query, budget, now_nanos()).await?;
    Ok(Json(json!({
        "memories": taken.iter().map(match_json).collect::<Vec<_>>(),
        "token_count": tokens,
        "rows": taken.len(),
    })))
}

async fn store_cache(
    State(state): State<MemoryState>,
    RequestTenant(header): RequestTenant,
    LimitedBody(body): LimitedBody,
) -> ApiResult<Json<Value>> {
    let fields = Fields::parse(&body, requests::CACHE_FIELDS)?;
    let tenant = resolve_tenant(header.as_deref(), fields.string("tenant_id")?)?;
    let now = now_nanos();
    let entry = CacheEntry::new(requests::new_cache_entry(&fields)?, tenant, now)?;
    let stored = blocking(&state.memory, move |m| m.put_cache(entry, now)).await?;
    Ok(stored_reply("cache_id", stored))
}

async fn lookup_cache(
    State(state): State<MemoryState>,
    RequestTenant(header): RequestTenant,
    LimitedBody(body): LimitedBody,
) -> ApiResult<Json<Value>> {
    let fields = Fields::parse(&body, requests::LOOKUP_FIELDS)?;
    let lookup = requests::cache_lookup(&fields, header)?;
    let hit = blocking(&state.memory, move |m| m.lookup_cache(&lookup, now_nanos())).await?;
    Ok(Json(match hit {
        None => json!({ "hit": false }),
        Some(hit) => json!({
            "hit": true,
            "kind": hit.kind.as_str(),
            "score": hit.score,
            "entry": hit.entry.to_json(),
        }),
    }))
}

async fn delete_cache(
    State(state): State<MemoryState>,
    Params(params): QueryParams,
    RequestTenant(header): RequestTenant,
) -> ApiResult<Json<Value>> {
    only_params(&params, &["tenant_id", "namespace", "prompt"])?;
    let tenant = resolve_tenant(header.as_deref(), params.get("tenant_id").cloned())?;
    let ns = namespace(params.get("namespace").cloned());
    let prompt = params
        .get("prompt")
        .filter(|p| !p.trim().is_empty())
        .cloned()
        .ok_or_else(|| ApiError::BadRequest("prompt is required".into()))?;
    let id = blocking(&state.memory, move |m| {
        m.delete_cache(&tenant, &ns, &prompt)
    })
    .await?
    .ok_or_else(|| ApiError::NotFound("no cache entry for that prompt".into()))?;
    Ok(Json(json!({ "ok": true, "cache_id": id })))
}

fn match_json(m: &Match) -> Value {
    let mut v = m.memory.to_json(false);
    v["score"] = json!(m.score);
    v["similarity"] = json!(m.similarity);
    v
}

/// Tenant and namespace of a point lookup or delete (`namespace` only when given).
fn point_scope(
    params: &HashMap<String, String>,
    header: Option<String>,
) -> ApiResult<(String, Option<String>)> {
    only_params(params, &["tenant_id", "namespace"])?;
    let tenant = resolve_tenant(header.as_deref(), params.get("tenant_id").cloned())?;
    Ok((tenant, params.get("namespace").cloned()))
}

fn only_params(params: &HashMap<String, String>, allowed: &[&str]) -> ApiResult<()> {
    match params.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(unknown) => Err(ApiError::BadRequest(format!(
            "Unknown query parameter '{unknown}'; supported: {}",
            allowed.join(", ")
        ))),
        None => Ok(()),
    }
}

/// `{"ok":true,"<key>":id}`, plus `"evicted":true` when capacity eviction took the record at once.
fn stored_reply(key: &str, stored: Stored) -> Json<Value> {
    let mut body = json!({ "ok": true, key: stored.id });
    if stored.evicted {
        body["evicted"] = json!(true);
    }
    Json(body)
}

/// Runs a change on a blocking thread: it appends to the WAL and waits for its sync.
async fn blocking<T: Send + 'static>(
    memory: &Arc<AgentMemory>,
    work: impl FnOnce(&AgentMemory) -> MemoryResult<T> + Send + 'static,
) -> ApiResult<T> {
    let memory = Arc::clone(memory);
    Ok(tokio::task::spawn_blocking(move || work(&memory)).await??)
}
