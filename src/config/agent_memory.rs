//! The `--agent-memory-*` flags; [`crate::config::Config::agent_memory_settings`] resolves them.

use clap::{Args, ValueEnum};

/// Agent Memory flags (flattened into [`Config`](super::Config)).
#[derive(Debug, Clone, Args)]
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

    /// Approximate search: `off` (always the exact scan), `auto` (a Lance vector index proposes
    /// candidates once the store holds --agent-memory-ann-min-records memories), `on` (whenever
    /// an index exists). Candidates are always re-ranked by the full score.
    #[arg(long = "agent-memory-ann", env = "STRATA_AGENT_MEMORY_ANN", value_enum, default_value_t = AnnMode::Off)]
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
}

/// `--agent-memory-ann` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnnMode {
    /// Exact scan only.
    Off,
    /// Index from --agent-memory-ann-min-records memories.
    Auto,
    /// Index whenever there are vectors.
    On,
}

impl From<AnnMode> for crate::memory::settings::AnnMode {
    fn from(mode: AnnMode) -> Self {
        match mode {
            AnnMode::Off => Self::Off,
            AnnMode::Auto => Self::Auto,
            AnnMode::On => Self::On,
        }
    }
}
