//! `/api/ai/*`: Agent Memory over HTTP. Handlers read the request (body fields, query
//! parameters, the `X-Zepto-Tenant-Id` header) and hand the work to [`AgentMemory`] on a
//! blocking thread: scans of large stores and WAL syncs must not stall the I/O threads.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{body, paths};
use crate::error::{Error, Result};
use crate::memory::AgentMemory;
use crate::memory::cache::DEFAULT_SEMANTIC_THRESHOLD;
use crate::memory::fields::Fields;
use crate::memory::memories::Filter;
use crate::memory::record::{
    CACHE_FIELDS, MEMORY_FIELDS, cache_from_request, memory_from_request, namespace, resolve_tenant,
};
use crate::memory::service::{Match, SearchQuery, Stored};
use crate::memory::stats::stats_json;
use crate::state::AppState;

/// Header that scopes a request to one tenant.
pub const TENANT_HEADER: &str = "x-zepto-tenant-id";

const SEARCH_FIELDS: &[&str] = &[
    "tenant_id",
    "namespace",
    "user_id",
    "session_id",
    "agent_id",
    "type",
    "query_embedding",
    "limit",
];
const CONTEXT_FIELDS: &[&str] = &[
    "tenant_id",
    "namespace",
    "user_id",
    "session_id",
    "agent_id",
    "type",
    "query_embedding",
    "limit",
    "token_budget",
];
const LOOKUP_FIELDS: &[&str] = &[
    "tenant_id",
    "namespace",
    "prompt",
    "embedding",
    "semantic_threshold",
];
const DEFAULT_LIMIT: i64 = 10;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::AI_STATS, get(stats))
        .route(paths::AI_MEMORIES, post(store_memory))
        .route(paths::AI_MEMORY_SEARCH, post(search))
        .route(paths::AI_MEMORY, get(get_memory).delete(delete_memory))
        .route(paths::AI_CONTEXT, post(context))
        .route(paths::AI_CACHE_STORE, post(store_cache))
        .route(paths::AI_CACHE_LOOKUP, post(lookup_cache))
        .route(paths::AI_CACHE, delete(delete_cache))
}

type Params = Query<HashMap<String, String>>;

async fn stats(State(state): State<AppState>, Query(params): Params) -> Result<Json<Value>> {
    only_params(&params, &["scope"])?;
    if let Some(scope) = params.get("scope")
        && scope != "local"
        && scope != "cluster"
    {
        return Err(Error::BadRequest("scope must be local or cluster".into()));
    }
    Ok(Json(stats_json(&state.memory, &state.config.agent_memory)))
}

async fn store_memory(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>> {
    let stored = with_body(
        &state,
        &headers,
        body,
        MEMORY_FIELDS,
        |memory, fields, tenant| {
            let now = now_ns();
            memory.put_memory(memory_from_request(&fields, tenant, now)?, now)
        },
    )
    .await?;
    Ok(stored_reply("memory_id", stored))
}

async fn get_memory(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Params,
    headers: HeaderMap,
) -> Result<Response> {
    let (tenant, ns) = point_scope(&params, &headers)?;
    match state.memory.get_memory(&id, &tenant, ns.as_deref()) {
        Some(m) => Ok(Json(json!({ "found": true, "memory": m.to_json(true) })).into_response()),
        None => Ok((
            StatusCode::NOT_FOUND,
            Json(json!({ "found": false, "error": format!("memory not found: {id}") })),
        )
            .into_response()),
    }
}

async fn delete_memory(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Params,
    headers: HeaderMap,
) -> Result<Json<Value>> {
    let (tenant, ns) = point_scope(&params, &headers)?;
    let target = id.clone();
    let deleted = blocking(&state.memory, move |memory| {
        memory.delete_memory(&target, &tenant, ns.as_deref())
    })
    .await?;
    if !deleted {
        return Err(Error::NotFound(format!("memory not found: {id}")));
    }
    Ok(Json(json!({ "ok": true, "memory_id": id })))
}

async fn search(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>> {
    let matches = with_body(
        &state,
        &headers,
        body,
        SEARCH_FIELDS,
        |memory, fields, tenant| {
            let query = search_query(&fields, tenant)?;
            memory.search(&query, now_ns())
        },
    )
    .await?;
    Ok(Json(json!({
        "matches": matches.iter().map(match_json).collect::<Vec<_>>(),
        "rows": matches.len(),
    })))
}

async fn context(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>> {
    let (taken, tokens) = with_body(
        &state,
        &headers,
        body,
        CONTEXT_FIELDS,
        |memory, fields, tenant| {
            let query = search_query(&fields, tenant)?;
            let budget = fields.i64("token_budget")?.unwrap_or(0);
            memory.context(&query, budget, now_ns())
        },
    )
    .await?;
    Ok(Json(json!({
        "memories": taken.iter().map(match_json).collect::<Vec<_>>(),
        "token_count": tokens,
        "rows": taken.len(),
    })))
}

async fn store_cache(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>> {
    let stored = with_body(
        &state,
        &headers,
        body,
        CACHE_FIELDS,
        |memory, fields, tenant| {
            let now = now_ns();
            memory.put_cache(cache_from_request(&fields, tenant, now)?, now)
        },
    )
    .await?;
    Ok(stored_reply("cache_id", stored))
}

async fn lookup_cache(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>> {
    let hit = with_body(&state, &headers, body, LOOKUP_FIELDS, |memory, fields, tenant| {
        let prompt = fields.string("prompt")?.unwrap_or_default();
        let embedding = fields.embedding("embedding")?;
        if prompt.trim().is_empty() && embedding.is_empty() {
            return Err(Error::BadRequest(
                "prompt is required (or an embedding for a semantic lookup)".into(),
            ));
        }
        let threshold = fields
            .f64("semantic_threshold")?
            .unwrap_or(DEFAULT_SEMANTIC_THRESHOLD);
        if !(-1.0..=1.0).contains(&threshold) {
            return Err(Error::BadRequest(format!(
                "semantic_threshold must be a cosine similarity between -1 and 1, got {threshold}"
            )));
        }
        let ns = namespace(fields.string("namespace")?);
        memory.lookup_cache(&tenant, &ns, &prompt, &embedding, threshold, now_ns())
    })
    .await?;
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
    State(state): State<AppState>,
    Query(params): Params,
    headers: HeaderMap,
) -> Result<Json<Value>> {
    only_params(&params, &["tenant_id", "namespace", "prompt"])?;
    let tenant = resolve_tenant(
        tenant_header(&headers)?.as_deref(),
        params.get("tenant_id").cloned(),
    )?;
    let ns = namespace(params.get("namespace").cloned());
    let prompt = params
        .get("prompt")
        .filter(|p| !p.trim().is_empty())
        .cloned()
        .ok_or_else(|| Error::BadRequest("prompt is required".into()))?;
    let id = blocking(&state.memory, move |memory| {
        memory.delete_cache(&tenant, &ns, &prompt)
    })
    .await?
    .ok_or_else(|| Error::NotFound("no cache entry for that prompt".into()))?;
    Ok(Json(json!({ "ok": true, "cache_id": id })))
}

/// The search part of a search or context request.
fn search_query(fields: &Fields, tenant: String) -> Result<SearchQuery> {
    let limit = fields.i64("limit")?.unwrap_or(DEFAULT_LIMIT);
    if limit < 0 {
        return Err(Error::BadRequest(format!(
            "limit must be non-negative, got {limit}"
        )));
    }
    let text = |name: &str| -> Result<String> { Ok(fields.string(name)?.unwrap_or_default()) };
    Ok(SearchQuery {
        filter: Filter {
            tenant_id: tenant,
            namespace: namespace(fields.string("namespace")?),
            user_id: text("user_id")?,
            session_id: text("session_id")?,
            agent_id: text("agent_id")?,
            kind: text("type")?,
        },
        embedding: fields.embedding("query_embedding")?,
        limit: usize::try_from(limit).unwrap_or(usize::MAX),
    })
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
    headers: &HeaderMap,
) -> Result<(String, Option<String>)> {
    only_params(params, &["tenant_id", "namespace"])?;
    let tenant = resolve_tenant(
        tenant_header(headers)?.as_deref(),
        params.get("tenant_id").cloned(),
    )?;
    Ok((tenant, params.get("namespace").cloned()))
}

fn tenant_header(headers: &HeaderMap) -> Result<Option<String>> {
    headers
        .get(TENANT_HEADER)
        .map(|v| {
            v.to_str()
                .map(str::to_string)
                .map_err(|_| Error::BadRequest("X-Zepto-Tenant-Id must be printable ASCII".into()))
        })
        .transpose()
}

fn only_params(params: &HashMap<String, String>, allowed: &[&str]) -> Result<()> {
    match params.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(unknown) => Err(Error::BadRequest(format!(
            "Unknown query parameter '{unknown}'; supported: {}",
            allowed.join(", ")
        ))),
        None => Ok(()),
    }
}

/// Reads the body as JSON fields of `allowed` and the request's tenant (header and
/// `tenant_id`, which must agree), then runs `work` with them on a blocking thread.
async fn with_body<T: Send + 'static>(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    allowed: &'static [&'static str],
    work: impl FnOnce(&AgentMemory, Fields, String) -> Result<T> + Send + 'static,
) -> Result<T> {
    let bytes = body::read(headers, body, state.config.max_request_bytes).await?;
    let header = tenant_header(headers)?;
    blocking(&state.memory, move |memory| {
        let fields = Fields::parse(&bytes, allowed)?;
        let tenant = resolve_tenant(header.as_deref(), fields.string("tenant_id")?)?;
        work(memory, fields, tenant)
    })
    .await
}

/// `{"ok":true,"<key>":id}`, plus `"evicted":true` when capacity eviction took the record at once.
fn stored_reply(key: &str, stored: Stored) -> Json<Value> {
    let mut body = json!({ "ok": true, key: stored.id });
    if stored.evicted {
        body["evicted"] = json!(true);
    }
    Json(body)
}

/// Runs `work` on a blocking thread.
async fn blocking<T: Send + 'static>(
    memory: &Arc<AgentMemory>,
    work: impl FnOnce(&AgentMemory) -> Result<T> + Send + 'static,
) -> Result<T> {
    let memory = Arc::clone(memory);
    tokio::task::spawn_blocking(move || work(&memory))
        .await
        .map_err(|e| Error::Internal(format!("agent memory task failed: {e}")))?
}

/// Now, in nanoseconds since the epoch.
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}
