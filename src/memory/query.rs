//! What Agent Memory is asked and what it answers: searches and cache lookups, checked when
//! they are built so every front door validates the same way, and their results.

use super::cache::{DEFAULT_SEMANTIC_THRESHOLD, HitKind};
use super::error::{Error, Result};
use super::record::{CacheEntry, Memory};
use super::scope::{Scope, namespace};

/// Results a search returns when the request names no limit.
pub const DEFAULT_LIMIT: i64 = 10;

/// A memory search.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// Which memories qualify.
    pub filter: Scope,
    /// Query vector (empty: rank without similarity).
    pub embedding: Vec<f32>,
    /// Most results.
    pub limit: usize,
}

/// One search result.
#[derive(Debug, Clone)]
pub struct Match {
    /// The memory, access figures after this search counted.
    pub memory: Memory,
    /// Ranking score.
    pub score: f64,
    /// Cosine similarity to the query.
    pub similarity: f64,
}

/// What a store did.
#[derive(Debug, Clone)]
pub struct Stored {
    /// Id of the stored record.
    pub id: String,
    /// Whether capacity eviction removed the record just stored.
    pub evicted: bool,
}

/// A cache hit.
#[derive(Debug, Clone)]
pub struct CacheHit {
    /// Exact or semantic.
    pub kind: HitKind,
    /// 1 for exact hits, the similarity for semantic ones.
    pub score: f64,
    /// The entry.
    pub entry: CacheEntry,
}

impl SearchQuery {
    /// A search of `filter` by `embedding` (empty: rank without similarity) for at most `limit`
    /// results (absent: [`DEFAULT_LIMIT`]; negative is refused).
    pub fn new(filter: Scope, embedding: Vec<f32>, limit: Option<i64>) -> Result<Self> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if limit < 0 {
            return Err(Error::field(
                "limit",
                format!("limit must be non-negative, got {limit}"),
            ));
        }
        Ok(Self {
            filter,
            embedding,
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
        })
    }
}

/// A prompt-cache lookup: exact on the normalised prompt, then semantic on the embedding.
#[derive(Debug, Clone)]
pub struct CacheLookup {
    /// Tenant (empty: every tenant).
    pub tenant: String,
    /// Namespace.
    pub namespace: String,
    /// The prompt (may be empty when an embedding is given).
    pub prompt: String,
    /// The prompt's vector (empty: exact lookup only).
    pub embedding: Vec<f32>,
    /// Least cosine similarity of a semantic hit.
    pub threshold: f64,
}

impl CacheLookup {
    /// A lookup; a prompt or an embedding is required, and the threshold (absent: 0.92) must be
    /// a cosine similarity.
    pub fn new(
        tenant: String,
        namespace_given: Option<String>,
        prompt: Option<String>,
        embedding: Vec<f32>,
        threshold: Option<f64>,
    ) -> Result<Self> {
        let prompt = prompt.unwrap_or_default();
        if prompt.trim().is_empty() && embedding.is_empty() {
            return Err(Error::field(
                "prompt",
                "prompt is required (or an embedding for a semantic lookup)",
            ));
        }
        let threshold = threshold.unwrap_or(DEFAULT_SEMANTIC_THRESHOLD);
        if !(-1.0..=1.0).contains(&threshold) {
            return Err(Error::field(
                "semantic_threshold",
                format!(
                    "semantic_threshold must be a cosine similarity between -1 and 1, got {threshold}"
                ),
            ));
        }
        Ok(Self {
            tenant,
            namespace: namespace(namespace_given),
            prompt,
            embedding,
            threshold,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_checked_when_built() {
        let err = SearchQuery::new(Scope::default(), Vec::new(), Some(-1)).unwrap_err();
        assert_eq!(err.to_string(), "limit must be non-negative, got -1");
        assert_eq!(
            SearchQuery::new(Scope::default(), Vec::new(), None)
                .unwrap()
                .limit,
            10
        );
        let lookup = |prompt: Option<&str>, threshold| {
            CacheLookup::new(
                String::new(),
                None,
                prompt.map(str::to_string),
                Vec::new(),
                threshold,
            )
        };
        assert!(lookup(None, None).is_err());
        assert!(lookup(Some("p"), Some(1.5)).is_err());
        let ok = lookup(Some("p"), None).unwrap();
        assert_eq!((ok.namespace.as_str(), ok.threshold), ("default", 0.92));
    }
}
