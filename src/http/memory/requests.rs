//! The JSON bodies of `/api/ai/*` read into the domain's inputs. Only the JSON shape is checked
//! here (field names and types); what the values may be is checked by the domain constructors
//! ([`Memory::new`](crate::memory::record::Memory::new), [`SearchQuery::new`], …).

use super::fields::Fields;
use crate::http::error::ApiResult;
use crate::memory::query::{CacheLookup, SearchQuery};
use crate::memory::record::{NewCacheEntry, NewMemory, resolve_tenant};
use crate::memory::scope::{SCOPE_FIELDS, SCOPE_LEN, Scope, namespace};

/// Fields `POST /api/ai/memories` accepts.
pub(super) const MEMORY_FIELDS: &[&[&str]] = &[
    &["memory_id"],
    &SCOPE_FIELDS,
    &[
        "content",
        "metadata_json",
        "embedding",
        "token_count",
        "importance",
        "created_at_ns",
        "expires_at_ns",
        "pinned",
    ],
];

/// The two scope fields of the prompt cache.
const CACHE_SCOPE: &[&str] = &["tenant_id", "namespace"];

/// Fields `POST /api/ai/cache/store` accepts.
pub(super) const CACHE_FIELDS: &[&[&str]] = &[
    CACHE_SCOPE,
    &[
        "prompt",
        "response",
        "embedding",
        "token_count",
        "metadata_json",
        "created_at_ns",
        "expires_at_ns",
    ],
];

/// Fields `POST /api/ai/memories/search` accepts.
pub(super) const SEARCH_FIELDS: &[&[&str]] = &[&SCOPE_FIELDS, &["query_embedding", "limit"]];

/// Fields `POST /api/ai/context` accepts: a search and a token budget.
pub(super) const CONTEXT_FIELDS: &[&[&str]] =
    &[&SCOPE_FIELDS, &["query_embedding", "limit", "token_budget"]];

/// Fields `POST /api/ai/cache/lookup` accepts.
pub(super) const LOOKUP_FIELDS: &[&[&str]] =
    &[CACHE_SCOPE, &["prompt", "embedding", "semantic_threshold"]];

/// The scope fields of a body, for the request's tenant: the tenant header if sent (a
/// `tenant_id` in the body must then equal it), empty where a field is absent.
fn scope(f: &Fields, header: Option<&str>) -> ApiResult<Scope> {
    let [_, rest @ ..] = SCOPE_FIELDS;
    let mut values = [const { String::new() }; SCOPE_LEN];
    values[0] = resolve_tenant(header, f.string(SCOPE_FIELDS[0])?)?;
    for (value, name) in values[1..].iter_mut().zip(rest) {
        *value = f.string(name)?.unwrap_or_default();
    }
    Ok(Scope::from_values(values))
}

/// A store-memory body, for the request's tenant.
pub(super) fn new_memory(f: &Fields, header: Option<&str>) -> ApiResult<NewMemory> {
    Ok(NewMemory {
        memory_id: f.string("memory_id")?,
        scope: scope(f, header)?,
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
    let mut filter = scope(f, header.as_deref())?;
    filter.namespace = namespace(Some(filter.namespace));
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
