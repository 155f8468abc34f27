//! The two kinds of record Agent Memory keeps ([`Memory`], [`CacheEntry`]), how requests become
//! records, and how records are shown in responses.

use serde_json::{Value, json};

use super::fields::Fields;
use crate::error::{Error, Result};

/// Namespace of records and queries that name none.
pub const DEFAULT_NAMESPACE: &str = "default";
/// `type` of memories that name none.
pub const DEFAULT_TYPE: &str = "memory";

/// One agent memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Memory {
    /// Unique across the store (all tenants).
    pub memory_id: String,
    /// Owner; empty for single-tenant use.
    pub tenant_id: String,
    /// Sub-scope within the tenant.
    pub namespace: String,
    /// Optional scopes a search can filter on.
    pub user_id: String,
    /// Optional scope.
    pub session_id: String,
    /// Optional scope.
    pub agent_id: String,
    /// `type` in the API: `preference`, `fact`, ...
    pub kind: String,
    /// The text handed back to the agent.
    pub content: String,
    /// A JSON document kept as text.
    pub metadata_json: String,
    /// Client-supplied vector, as given (empty: none).
    pub embedding: Vec<f32>,
    /// Tokens the content costs in a prompt.
    pub token_count: i64,
    /// Ranking boost.
    pub importance: f64,
    /// Creation time, ns since the epoch.
    pub created_at_ns: i64,
    /// Last time a search or context returned it.
    pub last_accessed_ns: i64,
    /// Expiry time (0: never).
    pub expires_at_ns: i64,
    /// Pinned memories rank higher and survive capacity eviction.
    pub pinned: bool,
    /// Times a search or context returned it.
    pub access_count: u64,
}

/// One LLM response cached under its normalised prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheEntry {
    /// Unique id (`cache_N`), kept across updates of the same prompt.
    pub cache_id: String,
    /// Owner.
    pub tenant_id: String,
    /// Sub-scope within the tenant.
    pub namespace: String,
    /// The prompt as first stored.
    pub prompt: String,
    /// The cached answer.
    pub response: String,
    /// Prompt embedding for semantic lookup (empty: exact lookup only).
    pub embedding: Vec<f32>,
    /// Tokens the response cost.
    pub token_count: i64,
    /// A JSON document kept as text.
    pub metadata_json: String,
    /// Creation time, ns.
    pub created_at_ns: i64,
    /// Last lookup hit, ns.
    pub last_accessed_ns: i64,
    /// Expiry time (0: never).
    pub expires_at_ns: i64,
    /// Lookup hits.
    pub access_count: u64,
}

/// Fields `POST /api/ai/memories` accepts.
pub const MEMORY_FIELDS: &[&str] = &[
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
pub const CACHE_FIELDS: &[&str] = &[
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

/// The tenant a request acts for: `X-Zepto-Tenant-Id` if sent, which a `tenant_id` in the request
/// must then equal; otherwise the request's own `tenant_id` (empty: every tenant).
pub fn resolve_tenant(header: Option<&str>, requested: Option<String>) -> Result<String> {
    match (header.filter(|h| !h.is_empty()), requested) {
        (Some(h), Some(r)) if !r.is_empty() && r != h => Err(Error::BadRequest(
            "Tenant header does not match request tenant_id".into(),
        )),
        (Some(h), _) => Ok(h.to_string()),
        (None, r) => Ok(r.unwrap_or_default()),
    }
}

/// Reads a memory from a store request; `now` fills `created_at_ns` when absent. The id is left
/// empty when the request has none (the store assigns one).
pub fn memory_from_request(fields: &Fields, tenant: String, now: i64) -> Result<Memory> {
    let content = fields.string("content")?.unwrap_or_default();
    let token_count = non_negative(fields.i64("token_count")?, "token_count")?;
    let metadata_json = metadata(fields)?;
    let created_at_ns = fields.i64("created_at_ns")?.unwrap_or(now);
    Ok(Memory {
        memory_id: fields.string("memory_id")?.unwrap_or_default(),
        tenant_id: tenant,
        namespace: namespace(fields.string("namespace")?),
        user_id: fields.string("user_id")?.unwrap_or_default(),
        session_id: fields.string("session_id")?.unwrap_or_default(),
        agent_id: fields.string("agent_id")?.unwrap_or_default(),
        kind: fields
            .string("type")?
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| DEFAULT_TYPE.into()),
        embedding: fields.embedding("embedding")?,
        token_count: if token_count == 0 {
            estimate_tokens(&content)
        } else {
            token_count
        },
        content,
        metadata_json,
        importance: fields.f64("importance")?.unwrap_or(0.0),
        created_at_ns,
        last_accessed_ns: created_at_ns,
        expires_at_ns: expiry(fields)?,
        pinned: fields.bool("pinned")?.unwrap_or(false),
        access_count: 0,
    })
}

/// Reads a cache entry from a store request (its id is assigned by the store).
pub fn cache_from_request(fields: &Fields, tenant: String, now: i64) -> Result<CacheEntry> {
    let prompt = fields.string("prompt")?.unwrap_or_default();
    if prompt.trim().is_empty() {
        return Err(Error::BadRequest("prompt is required".into()));
    }
    let response = fields.string("response")?.unwrap_or_default();
    if response.is_empty() {
        return Err(Error::BadRequest("response is required".into()));
    }
    let created_at_ns = fields.i64("created_at_ns")?.unwrap_or(now);
    Ok(CacheEntry {
        cache_id: String::new(),
        tenant_id: tenant,
        namespace: namespace(fields.string("namespace")?),
        prompt,
        response,
        embedding: fields.embedding("embedding")?,
        token_count: non_negative(fields.i64("token_count")?, "token_count")?,
        metadata_json: metadata(fields)?,
        created_at_ns,
        last_accessed_ns: created_at_ns,
        expires_at_ns: expiry(fields)?,
        access_count: 0,
    })
}

/// `namespace`, defaulted.
pub fn namespace(given: Option<String>) -> String {
    given
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| DEFAULT_NAMESPACE.into())
}

/// Tokens of `content` when the client gives none: about four bytes per token.
pub fn estimate_tokens(content: &str) -> i64 {
    content.len().div_ceil(4) as i64
}

fn non_negative(v: Option<i64>, name: &str) -> Result<i64> {
    match v {
        Some(n) if n < 0 => Err(Error::BadRequest(format!(
            "{name} must be non-negative, got {n}"
        ))),
        other => Ok(other.unwrap_or(0)),
    }
}

fn expiry(fields: &Fields) -> Result<i64> {
    non_negative(fields.i64("expires_at_ns")?, "expires_at_ns")
}

/// `metadata_json` is a JSON document sent as a string; it must parse.
fn metadata(fields: &Fields) -> Result<String> {
    match fields.string("metadata_json")? {
        None => Ok("{}".into()),
        Some(text) if text.trim().is_empty() => Ok("{}".into()),
        Some(text) => {
            serde_json::from_str::<Value>(&text).map_err(|e| {
                Error::BadRequest(format!(
                    "metadata_json must be a string holding a JSON document: {e}"
                ))
            })?;
            Ok(text)
        }
    }
}

impl Memory {
    /// Whether the memory has expired at `now`.
    pub fn expired(&self, now: i64) -> bool {
        self.expires_at_ns > 0 && self.expires_at_ns <= now
    }

    /// The response object; the embedding only when asked (point lookups).
    pub fn to_json(&self, with_embedding: bool) -> Value {
        let mut v = json!({
            "memory_id": self.memory_id,
            "tenant_id": self.tenant_id,
            "namespace": self.namespace,
            "user_id": self.user_id,
            "session_id": self.session_id,
            "agent_id": self.agent_id,
            "type": self.kind,
            "content": self.content,
            "metadata_json": self.metadata_json,
            "token_count": self.token_count,
            "importance": self.importance,
            "created_at_ns": self.created_at_ns,
            "last_accessed_ns": self.last_accessed_ns,
            "expires_at_ns": self.expires_at_ns,
            "pinned": self.pinned,
            "access_count": self.access_count,
        });
        if with_embedding && let Some(map) = v.as_object_mut() {
            map.insert("embedding".into(), json!(self.embedding));
        }
        v
    }
}

#[cfg(test)]
impl Memory {
    /// A plain memory for unit tests: tenant `t`, namespace `default`, created at 1.
    pub(crate) fn sample(id: &str, embedding: Vec<f32>) -> Self {
        Memory {
            memory_id: id.into(),
            tenant_id: "t".into(),
            namespace: DEFAULT_NAMESPACE.into(),
            user_id: String::new(),
            session_id: String::new(),
            agent_id: String::new(),
            kind: DEFAULT_TYPE.into(),
            content: format!("content of {id}"),
            metadata_json: "{}".into(),
            embedding,
            token_count: 1,
            importance: 0.0,
            created_at_ns: 1,
            last_accessed_ns: 1,
            expires_at_ns: 0,
            pinned: false,
            access_count: 0,
        }
    }
}

impl CacheEntry {
    /// Whether the entry has expired at `now`.
    pub fn expired(&self, now: i64) -> bool {
        self.expires_at_ns > 0 && self.expires_at_ns <= now
    }

    /// The response object (without the embedding).
    pub fn to_json(&self) -> Value {
        json!({
            "cache_id": self.cache_id,
            "tenant_id": self.tenant_id,
            "namespace": self.namespace,
            "prompt": self.prompt,
            "response": self.response,
            "token_count": self.token_count,
            "metadata_json": self.metadata_json,
            "created_at_ns": self.created_at_ns,
            "last_accessed_ns": self.last_accessed_ns,
            "expires_at_ns": self.expires_at_ns,
            "access_count": self.access_count,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory(json: &str) -> Result<Memory> {
        let f = Fields::parse(json.as_bytes(), MEMORY_FIELDS)?;
        memory_from_request(&f, String::new(), 42)
    }

    #[test]
    fn defaults_follow_the_reference() {
        let m = memory(r#"{"content":"hello world"}"#).unwrap();
        assert_eq!(m.namespace, "default");
        assert_eq!(m.kind, "memory");
        assert_eq!(m.metadata_json, "{}");
        assert_eq!(m.token_count, 3, "ceil(11 / 4)");
        assert_eq!((m.created_at_ns, m.importance, m.pinned), (42, 0.0, false));
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(memory(r#"{"token_count":-1}"#).is_err());
        assert!(memory(r#"{"metadata_json":"{oops"}"#).is_err());
        assert!(memory(r#"{"metadata_json":{"a":1}}"#).is_err());
        assert!(memory(r#"{"pinned":"yes"}"#).is_err());
    }

    #[test]
    fn tenant_header_rules() {
        assert_eq!(resolve_tenant(Some("h"), None).unwrap(), "h");
        assert_eq!(resolve_tenant(Some("h"), Some("h".into())).unwrap(), "h");
        assert_eq!(resolve_tenant(Some("h"), Some(String::new())).unwrap(), "h");
        assert!(resolve_tenant(Some("h"), Some("b".into())).is_err());
        assert_eq!(resolve_tenant(None, Some("b".into())).unwrap(), "b");
        assert_eq!(resolve_tenant(None, None).unwrap(), "");
    }

    #[test]
    fn cache_needs_prompt_and_response() {
        let parse = |j: &str| {
            let f = Fields::parse(j.as_bytes(), CACHE_FIELDS).unwrap();
            cache_from_request(&f, String::new(), 1)
        };
        assert_eq!(
            parse(r#"{"response":"r"}"#).unwrap_err().to_string(),
            "prompt is required"
        );
        assert_eq!(
            parse(r#"{"prompt":"p"}"#).unwrap_err().to_string(),
            "response is required"
        );
        assert!(parse(r#"{"prompt":"p","response":"r"}"#).is_ok());
    }
}
