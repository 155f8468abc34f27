//! The `--agent-memory-*` flags and where Agent Memory keeps its data.

use std::collections::HashMap;
use std::path::PathBuf;

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

impl AnnMode {
    /// The flag's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AnnMode::Off => "off",
            AnnMode::Auto => "auto",
            AnnMode::On => "on",
        }
    }
}

/// Where Agent Memory data lives, resolved from the flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryStorage {
    /// Root of the datasets: a `file://` or object-store URL ending in `/`.
    pub root: url::Url,
    /// Object-store settings (`--hdb-option`).
    pub options: HashMap<String, String>,
    /// The WAL directory (always local).
    pub wal_dir: PathBuf,
}

impl MemoryStorage {
    /// Storage at `dir_or_uri`; `default_wal_dir` serves when the datasets are not local.
    pub fn resolve(
        dir_or_uri: &str,
        options: HashMap<String, String>,
        default_wal_dir: PathBuf,
    ) -> Result<Self, String> {
        if dir_or_uri.contains("://") {
            let mut root = url::Url::parse(dir_or_uri)
                .map_err(|e| format!("invalid --agent-memory-dir URI '{dir_or_uri}': {e}"))?;
            if !matches!(root.scheme(), "s3" | "file" | "memory") {
                return Err(format!(
                    "unsupported --agent-memory-dir scheme '{}' (use a path or s3://)",
                    root.scheme()
                ));
            }
            if !root.path().ends_with('/') {
                root.set_path(&format!("{}/", root.path()));
            }
            let wal_dir = match root.to_file_path() {
                Ok(local) if root.scheme() == "file" => local.join("wal"),
                _ => default_wal_dir,
            };
            return Ok(Self {
                root,
                options,
                wal_dir,
            });
        }
        let dir = PathBuf::from(dir_or_uri);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create --agent-memory-dir {dir_or_uri}: {e}"))?;
        let abs = dir
            .canonicalize()
            .map_err(|e| format!("cannot resolve --agent-memory-dir {dir_or_uri}: {e}"))?;
        let root = url::Url::from_directory_path(&abs)
            .map_err(|()| format!("{} is not an absolute path", abs.display()))?;
        Ok(Self {
            root,
            options,
            wal_dir: abs.join("wal"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_and_object_store_locations() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("am");
        let local =
            MemoryStorage::resolve(path.to_str().unwrap(), HashMap::new(), "w".into()).unwrap();
        assert_eq!(local.root.scheme(), "file");
        assert!(local.root.path().ends_with("/am/"));
        assert!(local.wal_dir.ends_with("am/wal"));
        let s3 = MemoryStorage::resolve("s3://b/p", HashMap::new(), "w".into()).unwrap();
        assert_eq!(s3.root.as_str(), "s3://b/p/");
        assert_eq!(s3.wal_dir, PathBuf::from("w"));
        assert!(MemoryStorage::resolve("gopher://x", HashMap::new(), "w".into()).is_err());
    }
}
