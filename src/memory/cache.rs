//! The prompt cache: LLM responses keyed by normalised prompt within a tenant and namespace,
//! with a semantic fallback over the same scope's prompt embeddings.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::record::CacheEntry;
use super::score::{cache_retention, cosine};

/// Similarity a semantic hit needs unless the lookup says otherwise.
pub const DEFAULT_SEMANTIC_THRESHOLD: f64 = 0.92;

/// How a lookup hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HitKind {
    /// Same normalised prompt.
    Exact,
    /// An embedding at least `semantic_threshold` similar.
    Semantic,
}

impl HitKind {
    /// The API's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            HitKind::Exact => "exact",
            HitKind::Semantic => "semantic",
        }
    }
}

/// The prompt as a key: surrounding whitespace dropped, every run of whitespace one space,
/// ASCII letters lower-cased.
pub fn normalize_prompt(prompt: &str) -> String {
    let mut out = String::with_capacity(prompt.len());
    for word in prompt.split_ascii_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().map(|c| c.to_ascii_lowercase()));
    }
    out
}

/// The cache key of a prompt in a scope.
pub fn cache_key(tenant: &str, namespace: &str, prompt: &str) -> String {
    format!("{tenant}\n{namespace}\n{}", normalize_prompt(prompt))
}

fn scope_key(tenant: &str, namespace: &str) -> String {
    format!("{tenant}\n{namespace}")
}

/// Every cache entry.
#[derive(Debug, Default)]
pub struct PromptCache {
    entries: HashMap<String, CacheEntry>,
    by_id: HashMap<String, String>,
    /// Keys per tenant+namespace: the semantic scan looks at one scope only.
    scopes: HashMap<String, HashSet<String>>,
    expiries: BTreeSet<(i64, String)>,
}

impl PromptCache {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes of embeddings held.
    pub fn vector_bytes(&self) -> usize {
        self.entries
            .values()
            .map(|e| e.embedding.len() * std::mem::size_of::<f32>())
            .sum()
    }

    /// The entry stored under `key`.
    pub fn get(&self, key: &str) -> Option<&CacheEntry> {
        self.entries.get(key)
    }

    /// The key of an entry id.
    pub fn key_of(&self, cache_id: &str) -> Option<&str> {
        self.by_id.get(cache_id).map(String::as_str)
    }

    /// Inserts or replaces the entry of its prompt's key; returns the replaced entry.
    pub fn upsert(&mut self, entry: CacheEntry) -> Option<CacheEntry> {
        let key = cache_key(&entry.tenant_id, &entry.namespace, &entry.prompt);
        let old = self.remove(&key);
        if entry.expires_at_ns > 0 {
            self.expiries.insert((entry.expires_at_ns, key.clone()));
        }
        self.by_id.insert(entry.cache_id.clone(), key.clone());
        self.scopes
            .entry(scope_key(&entry.tenant_id, &entry.namespace))
            .or_default()
            .insert(key.clone());
        self.entries.insert(key, entry);
        old
    }

    /// Removes the entry under `key`.
    pub fn remove(&mut self, key: &str) -> Option<CacheEntry> {
        let entry = self.entries.remove(key)?;
        self.by_id.remove(&entry.cache_id);
        let scope = scope_key(&entry.tenant_id, &entry.namespace);
        if let Some(keys) = self.scopes.get_mut(&scope) {
            keys.remove(key);
            if keys.is_empty() {
                self.scopes.remove(&scope);
            }
        }
        if entry.expires_at_ns > 0 {
            self.expiries
                .remove(&(entry.expires_at_ns, key.to_string()));
        }
        Some(entry)
    }

    /// Exact lookup of the prompt, then the most similar embedding of the same scope at or
    /// above `threshold`. A hit counts as an access.
    pub fn lookup(
        &mut self,
        tenant: &str,
        namespace: &str,
        prompt: &str,
        embedding: &[f32],
        threshold: f64,
        now: i64,
    ) -> Option<(HitKind, f64, CacheEntry)> {
        let exact = cache_key(tenant, namespace, prompt);
        let hit = if self.entries.get(&exact).is_some_and(|e| !e.expired(now)) {
            Some((HitKind::Exact, 1.0, exact))
        } else if embedding.is_empty() {
            None
        } else {
            self.scopes
                .get(&scope_key(tenant, namespace))
                .into_iter()
                .flatten()
                .filter_map(|key| {
                    let e = &self.entries[key];
                    if e.expired(now) || e.embedding.len() != embedding.len() {
                        return None;
                    }
                    let sim = cosine(embedding, &e.embedding);
                    (sim >= threshold).then_some((sim, key))
                })
                .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
                .map(|(sim, key)| (HitKind::Semantic, sim, key.clone()))
        };
        let (kind, score, key) = hit?;
        let entry = self.entries.get_mut(&key)?;
        entry.access_count += 1;
        entry.last_accessed_ns = now;
        Some((kind, score, entry.clone()))
    }

    /// Keys of entries expired at `now`.
    pub fn expired(&self, now: i64) -> Vec<String> {
        self.expiries
            .range(..=(now, String::from("\u{10FFFF}")))
            .map(|(_, k)| k.clone())
            .collect()
    }

    /// The entry capacity eviction takes next: lowest retention, oldest on ties.
    pub fn eviction_victim(&self, now: i64) -> Option<String> {
        self.entries
            .iter()
            .map(|(key, e)| {
                let touched = if e.last_accessed_ns > 0 {
                    e.last_accessed_ns
                } else {
                    e.created_at_ns
                };
                (
                    cache_retention(e.access_count, touched, now),
                    e.created_at_ns,
                    key,
                )
            })
            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(b.2)))
            .map(|(_, _, key)| key.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, prompt: &str, embedding: Vec<f32>) -> CacheEntry {
        CacheEntry {
            cache_id: id.into(),
            tenant_id: "t".into(),
            namespace: "n".into(),
            prompt: prompt.into(),
            response: format!("answer to {prompt}"),
            embedding,
            token_count: 1,
            metadata_json: "{}".into(),
            created_at_ns: 1,
            last_accessed_ns: 1,
            expires_at_ns: 0,
            access_count: 0,
        }
    }

    #[test]
    fn prompts_normalise() {
        assert_eq!(
            normalize_prompt("  Summarize   THE\tlatest\n task "),
            "summarize the latest task"
        );
        assert_eq!(normalize_prompt(" \t "), "");
        assert_eq!(normalize_prompt("Ünïcode Stays"), "Ünïcode stays");
    }

    #[test]
    fn exact_then_semantic_within_the_scope() {
        let mut c = PromptCache::default();
        c.upsert(entry("c1", "Summarize the latest task", vec![1.0, 0.0]));
        c.upsert(entry("c2", "Something else", vec![0.0, 1.0]));
        let (kind, score, e) = c
            .lookup("t", "n", " summarize the LATEST task", &[], 0.92, 5)
            .unwrap();
        assert_eq!(
            (kind, score, e.cache_id.as_str(), e.access_count),
            (HitKind::Exact, 1.0, "c1", 1)
        );
        let (kind, score, e) = c.lookup("t", "n", "recap", &[0.96, 0.28], 0.92, 5).unwrap();
        assert_eq!((kind, e.cache_id.as_str()), (HitKind::Semantic, "c1"));
        assert!((score - 0.96).abs() < 1e-6);
        assert!(
            c.lookup("t", "n", "recap", &[0.96, 0.28], 0.97, 5)
                .is_none()
        );
        assert!(
            c.lookup(
                "other",
                "n",
                "Summarize the latest task",
                &[1.0, 0.0],
                0.5,
                5
            )
            .is_none()
        );
    }

    #[test]
    fn upsert_replaces_by_prompt_and_expiry_is_tracked() {
        let mut c = PromptCache::default();
        let mut e = entry("c1", "p", vec![]);
        e.expires_at_ns = 10;
        c.upsert(e);
        assert_eq!(c.expired(10).len(), 1);
        let replaced = c.upsert(entry("c1", "P ", vec![]));
        assert!(replaced.is_some());
        assert_eq!(c.len(), 1);
        assert!(c.expired(10).is_empty());
        assert_eq!(c.key_of("c1"), Some("t\nn\np"));
        assert!(c.remove("t\nn\np").is_some());
        assert!(c.is_empty() && c.key_of("c1").is_none());
    }
}
