//! The JSON bodies of `/api/ai/*` read into the domain's inputs. Only the JSON shape is checked
//! here (field names and types); what the values may be is checked by the domain constructors
//! ([`Memory::new`](crate::memory::record::Memory::new), [`SearchQuery::new`], …).

use super::fields::Fields;
use crate::http::error::ApiResult;
use crate::memory::memories::Filter;
use crate::memory::query::{CacheLookup, SearchQuery};
use crate::memory::record::{NewCacheEntry, NewMemory, namespace, resolve_tenant};

/// Fields `POST /api/ai/memories` accepts.
pub(super) const MEMORY_FIELDS: &[&str] = &[
    "memory_id",
    "tenant_id",
    "namespace",
    "user_id",
    "session_id",
    "agent_id",
    "type",
    "content",
    "metadata_json",
    "embedding",
    "token_count",
    "importance",
    "created_at_ns",
    "expires_at_ns",
    "pinned",
];

/// Fields `POST /api/ai/cache/store` accepts.
pub(super) const CACHE_FIELDS: &[&str] = &[
    "tenant_id",
    "namespace",
    "prompt",
    "response",
    "embedding",
    "token_count",
    "metadata_json",
    "created_at_ns",
    "expires_at_ns",
];

/// Fields `POST /api/ai/memories/search` accepts.
pub(super) const SEARCH_FIELDS: &[&str] = &[
    "tenant_id",
    "namespace",
    "user_id",
    "session_id",
    "agent_id",
    "type",
    "query_embedding",
    "limit",
];

/// Fields `POST /api/ai/context` accepts: a search and a token budget.
pub(super) const CONTEXT_FIELDS: &[&str] = &[
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

/// Fields `POST /api/ai/cache/lookup` accepts.
pub(super) const LOOKUP_FIELDS: &[&str] = &[
    "tenant_id",
    "namespace",
    "prompt",
    "embedding",
    "semantic_threshold",
];

/// A store-memory body.
pub(super) fn new_memory(f: &Fields) -> ApiResult<NewMemory> {
    Ok(NewMemory {
        memory_id: f.string("memory_id")?,
        namespace: f.string("namespace")?,
        user_id: f.string("user_id")?,
        session_id: f.string("session_id")?,
        agent_id: f.string("agent_id")?,
        kind: f.string("type")?,
        content: f.string("content")?,
        metadata_json: f.string("metadata_json")?,
        embedding: f.embedding("embedding")?,
        token_count: f.i64("token_count")?,
        importance: f.f64("importance")?,
        created_at_ns: f.i64("created_at_ns")?,
        expires_at_ns: f.i64("expires_at_ns")?,
        pinned: f.bool("pinned")?,
    })
}

/// A store-cache body.
pub(super) fn new_cache_entry(f: &Fields) -> ApiResult<NewCacheEntry> {
    Ok(NewCacheEntry {
        namespace: f.string("namespace")?,
        prompt: f.string("prompt")?,
        response: f.string("response")?,
        embedding: f.embedding("embedding")?,
        token_count: f.i64("token_count")?,
        metadata_json: f.string("metadata_json")?,
        created_at_ns: f.i64("created_at_ns")?,
        expires_at_ns: f.i64("expires_at_ns")?,
    })
}

/// The search part of a search or context body, for the request's tenant.
pub(super) fn search_query(f: &Fields, header: Option<String>) -> ApiResult<SearchQuery> {
    let tenant = resolve_tenant(header.as_deref(), f.string("tenant_id")?)?;
    let text = |name: &str| -> ApiResult<String> { Ok(f.string(name)?.unwrap_or_default()) };
    let filter = Filter {
        tenant_id: tenant,
        namespace: namespace(f.string("namespace")?),
        user_id: text("user_id")?,
        session_id: text("session_id")?,
        agent_id: text("agent_id")?,
        kind: text("type")?,
    };
    Ok(SearchQuery::new(
        filter,
        f.embedding("query_embedding")?,
        f.i64("limit")?,
    )?)
}

/// A cache-lookup body, for the request's tenant.
pub(super) fn cache_lookup(f: &Fields, header: Option<String>) -> ApiResult<CacheLookup> {
    let tenant = resolve_tenant(header.as_deref(), f.string("tenant_id")?)?;
    Ok(CacheLookup::new(
        tenant,
        f.string("namespace")?,
        f.string("prompt")?,
        f.embedding("embedding")?,
        f.f64("semantic_threshold")?,
    )?)
}
