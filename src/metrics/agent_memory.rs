//! The `zepto_agent_*` Prometheus series of Agent Memory (names from the reference), plus
//! Strata's own persistence stats as `strata_agent_memory_*`.

use prometheus::{Gauge, IntCounter, IntGauge, Registry};

use super::{advance, prom};
use crate::error::Result;
use crate::memory::AgentMemory;
use crate::memory::stats::Snapshot;

/// Agent Memory series.
#[derive(Debug)]
pub(super) struct AgentMetrics {
    records: IntGauge,
    cache_entries: IntGauge,
    embedding_dim: IntGauge,
    max_records: IntGauge,
    max_cache_entries: IntGauge,
    memory_evictions: IntCounter,
    cache_evictions: IntCounter,
    ann_indexed_vectors: IntGauge,
    ann_rebuilds: IntCounter,
    ann_last_rebuild_ms: Gauge,
    ann_searches: IntCounter,
    ann_fallbacks: IntCounter,
    commits: IntCounter,
    commit_failures: IntCounter,
    pending_mutations: IntGauge,
    wal_bytes: IntGauge,
}

impl AgentMetrics {
    /// Registers every series in `registry`.
    pub(super) fn new(registry: &Registry) -> Result<Self> {
        let int_gauge = |name: &str, help: &str| -> Result<IntGauge> {
            let g = IntGauge::new(name, help).map_err(prom)?;
            registry.register(Box::new(g.clone())).map_err(prom)?;
            Ok(g)
        };
        let counter = |name: &str, help: &str| -> Result<IntCounter> {
            let c = IntCounter::new(name, help).map_err(prom)?;
            registry.register(Box::new(c.clone())).map_err(prom)?;
            Ok(c)
        };
        let gauge = Gauge::new(
            "zepto_agent_memory_ann_last_rebuild_ms",
            "Last Agent Memory ANN rebuild duration in ms",
        )
        .map_err(prom)?;
        registry.register(Box::new(gauge.clone())).map_err(prom)?;
        Ok(Self {
            records: int_gauge(
                "zepto_agent_memory_records",
                "Current Agent Memory record count",
            )?,
            cache_entries: int_gauge(
                "zepto_agent_cache_entries",
                "Current Agent Cache entry count",
            )?,
            embedding_dim: int_gauge(
                "zepto_agent_memory_embedding_dim",
                "Embedding dimension of the Agent Memory store (0 until the first embedding)",
            )?,
            max_records: int_gauge(
                "zepto_agent_memory_max_records",
                "Configured Agent Memory record limit (0: unbounded)",
            )?,
            max_cache_entries: int_gauge(
                "zepto_agent_cache_max_entries",
                "Configured Agent Cache entry limit (0: unbounded)",
            )?,
            memory_evictions: counter(
                "zepto_agent_memory_evictions_total",
                "Total Agent Memory records evicted by TTL or capacity policy",
            )?,
            cache_evictions: counter(
                "zepto_agent_cache_evictions_total",
                "Total Agent Cache entries evicted by TTL or capacity policy",
            )?,
            ann_indexed_vectors: int_gauge(
                "zepto_agent_memory_ann_indexed_vectors",
                "Agent Memory vectors indexed by ANN",
            )?,
            ann_rebuilds: counter(
                "zepto_agent_memory_ann_rebuilds_total",
                "Agent Memory ANN index rebuild count",
            )?,
            ann_last_rebuild_ms: gauge,
            ann_searches: counter(
                "zepto_agent_memory_ann_searches_total",
                "Agent Memory searches served from ANN candidates",
            )?,
            ann_fallbacks: counter(
                "zepto_agent_memory_ann_fallbacks_total",
                "Agent Memory ANN searches that fell back to filtered scan",
            )?,
            commits: counter(
                "strata_agent_memory_commits_total",
                "Batches of Agent Memory changes committed to the Lance datasets",
            )?,
            commit_failures: counter(
                "strata_agent_memory_commit_failures_total",
                "Agent Memory commits that failed (the WAL keeps the changes; retried)",
            )?,
            pending_mutations: int_gauge(
                "strata_agent_memory_pending_mutations",
                "Agent Memory changes in the WAL not yet committed to Lance",
            )?,
            wal_bytes: int_gauge(
                "strata_agent_memory_wal_bytes",
                "Bytes of Agent Memory WAL segments on disk",
            )?,
        })
    }

    /// Sets every series from one snapshot of the store's stats.
    pub(super) fn update(&self, memory: &AgentMemory) {
        let Snapshot {
            store: f,
            limits,
            ann,
            persistence,
        } = memory.snapshot();
        self.records.set(f.memories as i64);
        self.cache_entries.set(f.cache_entries as i64);
        self.embedding_dim.set(f.embedding_dim as i64);
        self.max_records.set(limits.max_memories as i64);
        self.max_cache_entries.set(limits.max_cache_entries as i64);
        advance(&self.memory_evictions, f.evicted_memories);
        advance(&self.cache_evictions, f.evicted_cache);
        self.ann_indexed_vectors.set(ann.indexed_vectors as i64);
        advance(&self.ann_rebuilds, ann.rebuilds);
        self.ann_last_rebuild_ms.set(ann.last_rebuild_ms);
        advance(&self.ann_searches, ann.searches);
        advance(&self.ann_fallbacks, ann.fallbacks);
        if let Some(p) = persistence {
            advance(&self.commits, p.lance.commits);
            advance(&self.commit_failures, p.lance.failures);
            self.pending_mutations.set(p.pending_mutations as i64);
            self.wal_bytes.set(p.wal.bytes as i64);
        }
    }
}
