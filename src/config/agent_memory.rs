//! The `--agent-memory-*` flags, resolved into Agent Memory's plain [`Settings`].

use clap::Args;
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};

use super::storage::StorageArgs;
use crate::memory::Settings;
use crate::memory::settings::{AnnMode, AnnSettings, Limits, Storage};

/// Agent Memory flags (flattened into [`Config`](super::Config)).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Agent Memory")]
pub struct AgentMemoryArgs {
    /// Where the Agent Memory datasets live: a directory or an object-store URI
    /// (`s3://bucket/prefix`). Default: `<hdb>/agent_memory` when an HDB is configured;
    /// without an HDB and without this flag, Agent Memory is kept in memory only.
    #[arg(long = "agent-memory-dir", env = "STRATA_AGENT_MEMORY_DIR")]
    pub dir: Option<String>,

    /// Commit the changes logged in the WAL to the Lance datasets once this many have
    /// accumulated (0: only at stop; the WAL keeps them durable in between).
    #[arg(
        long = "agent-memory-flush-every",
        env = "STRATA_AGENT_MEMORY_FLUSH_EVERY",
        default_value_t = 100
    )]
    pub flush_every: u64,

    /// Most memories kept (0: no limit). Past it the lowest-retention unpinned memories are
    /// evicted; pinned memories are never evicted for capacity.
    #[arg(
        long = "agent-memory-max-memories",
        env = "STRATA_AGENT_MEMORY_MAX_MEMORIES",
        default_value_t = 0
    )]
    pub max_memories: usize,

    /// Most prompt-cache entries kept (0: no limit).
    #[arg(
        long = "agent-memory-max-cache-entries",
        env = "STRATA_AGENT_MEMORY_MAX_CACHE_ENTRIES",
        default_value_t = 0
    )]
    pub max_cache_entries: usize,

    /// Approximate search: `off` (always the exact scan), `auto` (an in-memory IVF index answers
    /// once the store holds --agent-memory-ann-min-records memories), `on` (from 1 024
    /// memories). Its answers are kept only when provably the exact scan's.
    #[arg(
        long = "agent-memory-ann",
        env = "STRATA_AGENT_MEMORY_ANN",
        default_value = "off",
        value_parser = ann_mode()
    )]
    pub ann: AnnMode,

    /// Memories from which `--agent-memory-ann auto` builds and uses the index.
    #[arg(
        long = "agent-memory-ann-min-records",
        env = "STRATA_AGENT_MEMORY_ANN_MIN_RECORDS",
        default_value_t = 50_000
    )]
    pub ann_min_records: usize,

    /// Most candidates an approximate search re-ranks.
    #[arg(
        long = "agent-memory-ann-max-candidates",
        env = "STRATA_AGENT_MEMORY_ANN_MAX_CANDIDATES",
        default_value_t = 50_000
    )]
    pub ann_max_candidates: usize,

    /// IVF partitions whose memories an approximate search bounds from their 8-bit codes (0: a
    /// thirty-second of them, 4 to 64). More probes, better recall, slower searches.
    #[arg(
        long = "agent-memory-ann-probes",
        env = "STRATA_AGENT_MEMORY_ANN_PROBES",
        default_value_t = 0
    )]
    pub ann_probes: usize,
}

/// `--agent-memory-ann` values, parsed straight into Agent Memory's own mode.
fn ann_mode() -> impl TypedValueParser<Value = AnnMode> {
    PossibleValuesParser::new([
        PossibleValue::new("off").help("Exact scan only"),
        PossibleValue::new("auto").help("Index from --agent-memory-ann-min-records memories"),
        PossibleValue::new("on").help("Index whenever there are vectors"),
    ])
    .map(|mode| match mode.as_str() {
        "auto" => AnnMode::Auto,
        "on" => AnnMode::On,
        _ => AnnMode::Off,
    })
}

impl AgentMemoryArgs {
    /// Agent Memory's settings. It persists at `--agent-memory-dir`, else beside the HDB
    /// (`<hdb>/agent_memory`); without either it is kept in memory only.
    pub fn settings(&self, storage: &StorageArgs) -> Result<Settings, String> {
        let location = self.dir.clone().or_else(|| storage.agent_memory_default());
        let storage = location
            .map(|at| {
                Storage::resolve(
                    &at,
                    storage.hdb_options.iter().cloned().collect(),
                    storage.agent_memory_wal(),
                    storage.wal_sync(),
                )
            })
            .transpose()
            .map_err(|e| e.to_string())?;
        Ok(Settings {
            limits: Limits {
                max_memories: self.max_memories,
                max_cache_entries: self.max_cache_entries,
            },
            ann: AnnSettings {
                mode: self.ann,
                min_records: self.ann_min_records,
                max_candidates: self.ann_max_candidates,
                probes: self.ann_probes,
            },
            flush_every: self.flush_every,
            storage,
        })
    }
}
