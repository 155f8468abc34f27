//! Agent Memory's stats, read once into a [`Snapshot`] that `/api/ai/stats` and `/metrics`
//! both show, and the `/api/ai/stats` document: counts, evictions, limits, ANN and persistence
//! stats. Never any content, prompt, response or metadata.

use serde_json::{Value, json};
use strata_tiers::wal::WalStats;

use super::AgentMemory;
use super::ann::AnnStats;
use super::persist::lance::LanceStats;
use super::service::{Limits, MemoryStats};
use super::settings::Settings;

/// Candidates an approximate search ranks by the full score, per result wanted (at first;
/// more while the proof of exactness fails).
pub const ANN_OVERSAMPLE: usize = 8;

/// Every figure of the store, read at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    /// Counts, evictions and vector bytes.
    pub store: MemoryStats,
    /// Limits in force.
    pub limits: Limits,
    /// The vector index.
    pub ann: AnnStats,
    /// WAL and Lance stats, when the store is persisted.
    pub persistence: Option<Persistence>,
}

/// The stats of a persisted store.
#[derive(Debug, Clone, Copy)]
pub struct Persistence {
    /// Changes in the WAL not yet committed to Lance.
    pub pending_mutations: u64,
    /// The WAL.
    pub wal: WalStats,
    /// The Lance datasets.
    pub lance: LanceStats,
}

impl AgentMemory {
    /// Every figure of the store, read now.
    pub fn snapshot(&self) -> Snapshot {
        let persistence = match (self.log(), self.datasets()) {
            (Some(log), Some(datasets)) => Some(Persistence {
                pending_mutations: log.pending_mutations(),
                wal: log.stats(),
                lance: datasets.stats(),
            }),
            _ => None,
        };
        Snapshot {
            store: self.stats(),
            limits: self.limits(),
            ann: self.ann_stats(),
            persistence,
        }
    }
}

/// The stats document.
pub fn stats_json(snapshot: &Snapshot, settings: &Settings) -> Value {
    let f = snapshot.store;
    let limits = snapshot.limits;
    let ann = snapshot.ann;
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
            "index": "IVF (cosine k-means), in memory, exact comparisons",
            "min_records": settings.ann.min_records,
            "max_candidates": settings.ann.max_candidates,
            "oversample": ANN_OVERSAMPLE,
            "indexed_vectors": ann.indexed_vectors,
            "unindexed_vectors": ann.unindexed_vectors,
            "partitions": ann.partitions,
            "probes": ann.probes,
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
    if let Some(Persistence {
        pending_mutations,
        wal,
        lance,
    }) = snapshot.persistence
    {
        doc["persistence"] = json!({
            "enabled": true,
            "flush_every": settings.flush_every,
            "pending_mutations": pending_mutations,
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
