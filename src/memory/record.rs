//! The two kinds of record Agent Memory keeps ([`Memory`], [`CacheEntry`]), how requests become
//! records, and how records are shown in responses.

use serde_json::{Value, json};

use super::error::{Error, Result};
use super::scope::{SCOPE_FIELDS, Scope, namespace};

/// One agent memory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Memory {
    /// Unique across the store (all tenants).
    pub memory_id: String,
    /// Where it belongs: what a search filters on.
    pub scope: Scope,
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
#[derive(Debug, Clone, Default, PartialEq)]
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

/// A memory as a client asks to store it: what it gave, before defaults and checks.
#[derive(Debug, Clone, Default)]
pub struct NewMemory {
    /// Its id (absent: the store assigns `mem_N`).
    pub memory_id: Option<String>,
    /// Its scope as given: the tenant the request acts for, empty fields where absent
    /// (namespace and type are then defaulted).
    pub scope: Scope,
    /// The text.
    pub content: Option<String>,
    /// A JSON document as text.
    pub metadata_json: Option<String>,
    /// Its vector (empty: none).
    pub embedding: Vec<f32>,
    /// Tokens the content costs (absent or 0: estimated).
    pub token_count: Option<i64>,
    /// Ranking boost.
    pub importance: Option<f64>,
    /// Creation time (absent: now).
    pub created_at_ns: Option<i64>,
    /// Expiry time (absent or 0: never).
    pub expires_at_ns: Option<i64>,
    /// Pinned.
    pub pinned: Option<bool>,
}

/// A prompt-cache entry as a client asks to store it.
#[derive(Debug, Clone, Default)]
pub struct NewCacheEntry {
    /// Namespace (absent: `default`).
    pub namespace: Option<String>,
    /// The prompt (required).
    pub prompt: Option<String>,
    /// The answer (required).
    pub response: Option<String>,
    /// The prompt's vector (empty: exact lookups only).
    pub embedding: Vec<f32>,
    /// Tokens the response cost.
    pub token_count: Option<i64>,
    /// A JSON document as text.
    pub metadata_json: Option<String>,
    /// Creation time (absent: now).
    pub created_at_ns: Option<i64>,
    /// Expiry time (absent or 0: never).
    pub expires_at_ns: Option<i64>,
}

/// The tenant a request acts for: the tenant header if sent, which a `tenant_id` in the
/// request must then equal; otherwise the request's own `tenant_id` (empty: every tenant).
pub fn resolve_tenant(header: Option<&str>, requested: Option<String>) -> Result<String> {
    match (header.filter(|h| !h.is_empty()), requested) {
        (Some(h), Some(r)) if !r.is_empty() && r != h => Err(Error::TenantConflict),
        (Some(h), _) => Ok(h.to_string()),
        (None, r) => Ok(r.unwrap_or_default()),
    }
}

impl Memory {
    /// The memory `new` asks for, checked and with defaults filled in (`now` for the creation
    /// time). The id is left empty when none was given.
    pub fn new(new: NewMemory, now: i64) -> Result<Self> {
        let content = new.content.unwrap_or_default();
        let token_count = non_negative(new.token_count, "token_count")?;
        let created_at_ns = new.created_at_ns.unwrap_or(now);
        Ok(Memory {
            memory_id: new.memory_id.unwrap_or_default(),
            scope: new.scope.with_defaults(),
            embedding: new.embedding,
            token_count: if token_count == 0 {
                estimate_tokens(&content)
            } else {
                token_count
            },
            content,
            metadata_json: metadata(new.metadata_json)?,
            importance: new.importance.unwrap_or(0.0),
            created_at_ns,
            last_accessed_ns: created_at_ns,
            expires_at_ns: non_negative(new.expires_at_ns, "expires_at_ns")?,
            pinned: new.pinned.unwrap_or(false),
            access_count: 0,
        })
    }
}

impl CacheEntry {
    /// The entry `new` asks for, owned by `tenant`, checked (prompt and response required);
    /// its id is assigned by the store.
    pub fn new(new: NewCacheEntry, tenant: String, now: i64) -> Result<Self> {
        let prompt = new.prompt.unwrap_or_default();
        if prompt.trim().is_empty() {
            return Err(Error::field("prompt", "prompt is required"));
        }
        let response = new.response.unwrap_or_default();
        if response.is_empty() {
            return Err(Error::field("response", "response is required"));
        }
        let created_at_ns = new.created_at_ns.unwrap_or(now);
        Ok(CacheEntry {
            cache_id: String::new(),
            tenant_id: tenant,
            namespace: namespace(new.namespace),
            prompt,
            response,
            embedding: new.embedding,
            token_count: non_negative(new.token_count, "token_count")?,
            metadata_json: metadata(new.metadata_json)?,
            created_at_ns,
            last_accessed_ns: created_at_ns,
            expires_at_ns: non_negative(new.expires_at_ns, "expires_at_ns")?,
            access_count: 0,
        })
    }
}

/// Tokens of `content` when the client gives none: about four bytes per token.
pub fn estimate_tokens(content: &str) -> i64 {
    content.len().div_ceil(4) as i64
}

fn non_negative(v: Option<i64>, name: &'static str) -> Result<i64> {
    match v {
        Some(n) if n < 0 => Err(Error::field(
            name,
            format!("{name} must be non-negative, got {n}"),
        )),
        other => Ok(other.unwrap_or(0)),
    }
}

/// `metadata_json` is a JSON document sent as a string; it must parse.
fn metadata(given: Option<String>) -> Result<String> {
    match given {
        None => Ok("{}".into()),
        Some(text) if text.trim().is_empty() => Ok("{}".into()),
        Some(text) => {
            serde_json::from_str::<Value>(&text).map_err(|e| {
                Error::field(
                    "metadata_json",
                    format!("metadata_json must be a string holding a JSON document: {e}"),
                )
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
        if let Some(map) = v.as_object_mut() {
            for (field, value) in SCOPE_FIELDS.iter().zip(self.scope.values()) {
                map.insert((*field).into(), json!(value));
            }
            if with_embedding {
                map.insert("embedding".into(), json!(self.embedding));
            }
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
            scope: Scope {
                tenant_id: "t".into(),
                ..Scope::default()
            }
            .with_defaults(),
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

    fn memory(new: NewMemory) -> Result<Memory> {
        Memory::new(new, 42)
    }

    #[test]
    fn defaults_follow_the_reference() {
        let m = memory(NewMemory {
            content: Some("hello world".into()),
            ..NewMemory::default()
        })
        .unwrap();
        assert_eq!(m.scope.namespace, "default");
        assert_eq!(m.scope.kind, "memory");
        assert_eq!(m.metadata_json, "{}");
        assert_eq!(m.token_count, 3, "ceil(11 / 4)");
        assert_eq!((m.created_at_ns, m.importance, m.pinned), (42, 0.0, false));
    }

    #[test]
    fn bad_values_are_refused() {
        let err = memory(NewMemory {
            token_count: Some(-1),
            ..NewMemory::default()
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "token_count must be non-negative, got -1");
        let err = memory(NewMemory {
            metadata_json: Some("{oops".into()),
            ..NewMemory::default()
        })
        .unwrap_err();
        assert!(matches!(err, Error::InvalidField { ref field, .. } if field == "metadata_json"));
    }

    #[test]
    fn tenant_header_rules() {
        assert_eq!(resolve_tenant(Some("h"), None).unwrap(), "h");
        assert_eq!(resolve_tenant(Some("h"), Some("h".into())).unwrap(), "h");
        assert_eq!(resolve_tenant(Some("h"), Some(String::new())).unwrap(), "h");
        assert!(matches!(
            resolve_tenant(Some("h"), Some("b".into())),
            Err(Error::TenantConflict)
        ));
        assert_eq!(resolve_tenant(None, Some("b".into())).unwrap(), "b");
        assert_eq!(resolve_tenant(None, None).unwrap(), "");
    }

    #[test]
    fn cache_needs_prompt_and_response() {
        let entry = |prompt: Option<&str>, response: Option<&str>| {
            let new = NewCacheEntry {
                prompt: prompt.map(str::to_string),
                response: response.map(str::to_string),
                ..NewCacheEntry::default()
            };
            CacheEntry::new(new, String::new(), 1)
        };
        assert_eq!(
            entry(None, Some("r")).unwrap_err().to_string(),
            "prompt is required"
        );
        assert_eq!(
            entry(Some("p"), None).unwrap_err().to_string(),
            "response is required"
        );
        assert!(entry(Some("p"), Some("r")).is_ok());
    }
}
