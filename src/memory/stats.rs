//! The `/api/ai/stats` document: counts, evictions, limits, ANN and persistence figures.
//! Never any content, prompt, response or metadata.

use serde_json::{Value, json};

use super::AgentMemory;
use super::settings::Settings;

/// Candidates an approximate search asks the index for, per result wanted.
pub const ANN_OVERSAMPLE: usize = 8;

/// The stats document.
pub fn stats_json(memory: &AgentMemory, settings: &Settings) -> Value {
    let f = memory.figures();
    let limits = memory.limits();
    let ann = memory.ann_figures();
    let mut doc = json!({
        "memory_count": f.memories,
        "cache_count": f.cache_entries,
        "embedding_dim": f.embedding_dim,
        "evicted_memory_count": f.evicted_memories,
        "evicted_cache_count": f.evicted_cache,
        "vector_bytes": f.vector_bytes,
        "ann": {
            "mode": settings.ann.mode.as_str(),
            "enabled": ann.enabled,
            "index": "IVF_FLAT (cosine), Lance",
            "min_records": settings.ann.min_records,
            "max_candidates": settings.ann.max_candidates,
            "oversample": ANN_OVERSAMPLE,
            "indexed_vectors": ann.indexed_vectors,
            "unindexed_vectors": ann.unindexed_vectors,
            "partitions": ann.partitions,
            "rebuild_count": ann.rebuilds,
            "last_rebuild_ms": ann.last_rebuild_ms,
            "search_count": ann.searches,
            "fallback_count": ann.fallbacks,
        },
        "eviction_config": {
            "max_memories": limits.max_memories,
            "max_cache_entries": limits.max_cache_entries,
            "evict_expired_on_write": true,
            "protect_pinned": true,
        },
        "persistence": { "enabled": false },
    });
    if let (Some(log), Some(datasets)) = (memory.log(), memory.datasets()) {
        let wal = log.stats();
        let lance = datasets.figures();
        doc["persistence"] = json!({
            "enabled": true,
            "flush_every": settings.flush_every,
            "pending_mutations": log.pending_mutations(),
            "wal_segments": wal.segments,
            "wal_bytes": wal.bytes,
            "commits": lance.commits,
            "commit_failures": lance.failures,
            "last_commit_ms": lance.last_commit_ms,
            "compactions": lance.compactions,
            "memories_version": lance.memories_version,
            "memories_fragments": lance.memories_fragments,
            "cache_version": lance.cache_version,
            "cache_fragments": lance.cache_fragments,
        });
    }
    doc
}
