//! The storage flags (`--storage-mode`, `--hdb-*`, `--wal-*`, `--rdb-max-bytes`, `--flush-*`,
//! `--compact-min-files`), resolved into what the tiers are opened and maintained with.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use strata_catalog::HdbLocation;
use strata_tiers::hdb::layout::FileLayout;
use strata_tiers::hdb::policy::FlushPolicy;
use strata_tiers::wal::{WalConfig, WalSync};
use strata_tiers::{MaintenanceSettings, TieredConfig};

/// Where data lives and when it moves between tiers.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Storage")]
pub struct StorageArgs {
    /// `pure`: everything in memory, nothing survives a restart. `tiered`: writes go to a WAL
    /// and flush to Delta/Parquet in the HDB. Defaults to tiered when --hdb-dir or --hdb-uri is
    /// given, else pure.
    #[arg(long, env = "STRATA_STORAGE_MODE", value_enum)]
    pub storage_mode: Option<StorageMode>,

    /// The HDB in a local directory (implies tiered).
    #[arg(long, env = "STRATA_HDB_DIR", conflicts_with = "hdb_uri")]
    pub hdb_dir: Option<PathBuf>,

    /// The HDB in object storage, e.g. `s3://bucket/prefix` (implies tiered). Credentials and
    /// endpoint come from the standard AWS_* variables.
    #[arg(long, env = "STRATA_HDB_URI")]
    pub hdb_uri: Option<String>,

    /// An object-store setting for the HDB, `key=value`, repeatable: e.g. `max_retries=3`,
    /// `retry_timeout=30s`, `timeout=10s` (the keys delta-rs and `object_store` accept).
    #[arg(long = "hdb-option", env = "STRATA_HDB_OPTIONS", value_delimiter = ',', value_parser = parse_option)]
    pub hdb_options: Vec<(String, String)>,

    /// WAL directory. Default: `<hdb-dir>/wal`, or `./data/wal` with --hdb-uri.
    #[arg(long, env = "STRATA_WAL_DIR")]
    pub wal_dir: Option<PathBuf>,

    /// When the WAL reaches the disk: `always` (before every answer; concurrent writes share a
    /// sync), `batch` (every --wal-sync-interval-ms; a process crash loses nothing, a power cut
    /// may lose the last interval), `off` (the OS decides).
    #[arg(long, env = "STRATA_WAL_SYNC", value_enum, default_value_t = WalSyncMode::Always)]
    pub wal_sync: WalSyncMode,

    /// Interval of `--wal-sync batch`, in milliseconds.
    #[arg(long, env = "STRATA_WAL_SYNC_INTERVAL_MS", default_value_t = 100)]
    pub wal_sync_interval_ms: u64,

    /// Most Arrow bytes the in-memory tier may hold. Past it, writes first flush the largest
    /// tables to the HDB; if that cannot make room, they get 503 with `Retry-After`.
    #[arg(long, env = "STRATA_RDB_MAX_BYTES", default_value_t = 8 << 30)]
    pub rdb_max_bytes: usize,

    /// Flush a table to the HDB once it holds this many rows in memory. A million rows make
    /// Parquet files and row groups large enough for fast scans.
    #[arg(long, env = "STRATA_FLUSH_ROWS", default_value_t = 1_000_000)]
    pub flush_rows: usize,

    /// Flush a table once its rows take this many bytes of memory.
    #[arg(long, env = "STRATA_FLUSH_BYTES", default_value_t = 256 * 1024 * 1024)]
    pub flush_bytes: usize,

    /// Flush a table whose oldest unflushed row arrived this many seconds ago. Bounds WAL replay
    /// time and keeps the number of Delta commits per table near one every few minutes.
    #[arg(long, env = "STRATA_FLUSH_AGE_SECS", default_value_t = 300)]
    pub flush_age_secs: u64,

    /// Background compaction merges a day's small HDB files once there are this many (0: off).
    #[arg(long, env = "STRATA_COMPACT_MIN_FILES", default_value_t = 8)]
    pub compact_min_files: usize,

    /// Rows per row group of HDB files: each is a slice of the day in time order, sorted by
    /// (symbol, time) inside, so smaller groups prune narrow time windows more finely and
    /// larger ones read one symbol in fewer pieces.
    #[arg(long, env = "STRATA_HDB_ROW_GROUP_ROWS", default_value_t = strata_tiers::hdb::layout::GROUP_ROWS)]
    pub hdb_row_group_rows: usize,

    /// How often the flush policy is checked, in milliseconds.
    #[arg(long, env = "STRATA_FLUSH_INTERVAL_MS", default_value_t = 1000)]
    pub flush_interval_ms: u64,
}

/// `key=value` of `--hdb-option`.
fn parse_option(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("expected key=value, got '{s}'"))
}

/// Where data lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StorageMode {
    /// Memory only.
    Pure,
    /// WAL + hot tier + HDB.
    Tiered,
}

/// `--wal-sync` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WalSyncMode {
    /// Sync before answering.
    Always,
    /// Sync in the background every interval.
    Batch,
    /// Never sync explicitly.
    Off,
}

/// What the tiers are opened and maintained with.
#[derive(Debug, Clone)]
pub struct TierSettings {
    /// The HDB and WAL; `None` for pure mode.
    pub tiered: Option<TieredConfig>,
    /// Most Arrow bytes the hot tier holds.
    pub memory_budget: usize,
    /// The background flush and compaction loop.
    pub maintenance: MaintenanceSettings,
}

impl StorageArgs {
    /// The tiers' settings; refuses contradictory flags.
    pub fn settings(&self) -> Result<TierSettings, String> {
        Ok(TierSettings {
            tiered: self.tiered()?,
            memory_budget: self.rdb_max_bytes,
            maintenance: MaintenanceSettings {
                policy: FlushPolicy {
                    rows: self.flush_rows,
                    bytes: self.flush_bytes,
                    age: Duration::from_secs(self.flush_age_secs),
                },
                interval: Duration::from_millis(self.flush_interval_ms),
                compact_min_files: self.compact_min_files,
            },
        })
    }

    /// The storage layout the flags ask for: `None` for pure mode.
    fn tiered(&self) -> Result<Option<TieredConfig>, String> {
        let tiered = match self.storage_mode {
            Some(StorageMode::Pure) => {
                if self.hdb_dir.is_some() || self.hdb_uri.is_some() {
                    return Err("--storage-mode pure keeps no HDB: drop --hdb-dir/--hdb-uri".into());
                }
                false
            }
            Some(StorageMode::Tiered) => true,
            None => self.hdb_dir.is_some() || self.hdb_uri.is_some(),
        };
        if !tiered {
            return Ok(None);
        }
        if self.hdb_row_group_rows == 0 {
            return Err("--hdb-row-group-rows must be at least 1".into());
        }
        let location = match (&self.hdb_dir, &self.hdb_uri) {
            (Some(dir), _) => HdbLocation::local(dir).map_err(|e| e.to_string())?,
            (None, Some(uri)) => HdbLocation::parse(uri).map_err(|e| e.to_string())?,
            (None, None) => {
                return Err("--storage-mode tiered needs --hdb-dir PATH or --hdb-uri URI".into());
            }
        }
        .with_options(self.hdb_options.iter().cloned().collect());
        Ok(Some(TieredConfig {
            location,
            wal: WalConfig {
                dir: self.wal_dir(),
                sync: self.wal_sync(),
                segment_bytes: 64 << 20,
            },
            layout: FileLayout {
                group_rows: self.hdb_row_group_rows,
            },
        }))
    }

    /// The tiers' WAL directory.
    fn wal_dir(&self) -> PathBuf {
        match (&self.wal_dir, &self.hdb_dir) {
            (Some(dir), _) => dir.clone(),
            (None, Some(hdb)) => hdb.join("wal"),
            (None, None) => PathBuf::from("data").join("wal"),
        }
    }

    /// The `--wal-sync` policy.
    pub fn wal_sync(&self) -> WalSync {
        match self.wal_sync {
            WalSyncMode::Always => WalSync::Always,
            WalSyncMode::Batch => WalSync::Batch(Duration::from_millis(self.wal_sync_interval_ms)),
            WalSyncMode::Off => WalSync::Off,
        }
    }

    /// Where Agent Memory keeps its datasets when `--agent-memory-dir` is not given: beside the
    /// HDB, or nowhere (in memory only) without one.
    pub fn agent_memory_default(&self) -> Option<String> {
        match (&self.hdb_dir, &self.hdb_uri) {
            (Some(hdb), _) => Some(hdb.join("agent_memory").display().to_string()),
            (None, Some(uri)) => Some(format!("{}/agent_memory", uri.trim_end_matches('/'))),
            (None, None) => None,
        }
    }

    /// Agent Memory's WAL directory: `agent_memory` under `--wal-dir`, else `./data/wal`.
    pub fn agent_memory_wal(&self) -> PathBuf {
        self.wal_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("data").join("wal"))
            .join("agent_memory")
    }
}
