//! Command-line flags and their `STRATA_*` environment variables.
//!
//! `docs/configuration.md` lists every flag; `strata --help` prints the same text.

pub mod agent_memory;

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use strata_catalog::HdbLocation;
use strata_tiers::TieredConfig;
use strata_tiers::wal::{WalConfig, WalSync};

use agent_memory::AgentMemoryArgs;

/// Strata: a lakehouse server for time-series data, speaking the ZeptoDB HTTP API.
#[derive(Debug, Clone, Parser)]
#[command(name = "strata", version, about, long_about = None)]
pub struct Config {
    /// Address to listen on. The default accepts local connections only.
    #[arg(long, env = "STRATA_BIND", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,

    /// HTTP port (0 picks a free port and prints it).
    #[arg(long, env = "STRATA_PORT", default_value_t = 8123)]
    pub port: u16,

    /// Largest request body accepted, in bytes; larger bodies get 413.
    #[arg(long, env = "STRATA_MAX_REQUEST_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_request_bytes: usize,

    /// Queries running longer than this are cancelled with 408.
    #[arg(long, env = "STRATA_QUERY_TIMEOUT_MS", default_value_t = 30_000)]
    pub query_timeout_ms: u64,

    /// Most rows a JSON result may have (413 beyond; Arrow results are not limited). 0 = no limit.
    #[arg(long, env = "STRATA_MAX_RESULT_ROWS", default_value_t = 1_000_000)]
    pub max_result_rows: usize,

    /// Threads a query may use (DataFusion target partitions). Defaults to the number of cores.
    #[arg(long, env = "STRATA_QUERY_PARALLELISM")]
    pub query_parallelism: Option<usize>,

    /// Fill the quick-start `trades` table with this many demo rows at start.
    #[arg(long, env = "STRATA_TICKS", default_value_t = 0)]
    pub ticks: usize,

    /// Log line format.
    #[arg(long, env = "STRATA_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

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

    /// How often the flush policy is checked, in milliseconds.
    #[arg(long, env = "STRATA_FLUSH_INTERVAL_MS", default_value_t = 1000)]
    pub flush_interval_ms: u64,

    /// Agent Memory (`/api/ai/*`).
    #[command(flatten)]
    pub agent_memory: AgentMemoryArgs,
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

/// How log lines are written to standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl Config {
    /// The storage layout the flags ask for: `None` for pure mode.
    pub fn tiered(&self) -> Result<Option<TieredConfig>, String> {
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
        let location = match (&self.hdb_dir, &self.hdb_uri) {
            (Some(dir), _) => HdbLocation::local(dir).map_err(|e| e.to_string())?,
            (None, Some(uri)) => HdbLocation::parse(uri).map_err(|e| e.to_string())?,
            (None, None) => {
                return Err("--storage-mode tiered needs --hdb-dir PATH or --hdb-uri URI".into());
            }
        }
        .with_options(self.hdb_options.iter().cloned().collect());
        let wal_dir = match (&self.wal_dir, &self.hdb_dir) {
            (Some(dir), _) => dir.clone(),
            (None, Some(hdb)) => hdb.join("wal"),
            (None, None) => PathBuf::from("data").join("wal"),
        };
        let sync = self.wal_sync();
        Ok(Some(TieredConfig {
            location,
            wal: WalConfig {
                dir: wal_dir,
                sync,
                segment_bytes: 64 << 20,
            },
        }))
    }

    /// The `--wal-sync` policy.
    pub fn wal_sync(&self) -> WalSync {
        match self.wal_sync {
            WalSyncMode::Always => WalSync::Always,
            WalSyncMode::Batch => WalSync::Batch(Duration::from_millis(self.wal_sync_interval_ms)),
            WalSyncMode::Off => WalSync::Off,
        }
    }

    /// Agent Memory's settings. It persists at `--agent-memory-dir`, else `<hdb>/agent_memory`;
    /// without either it is kept in memory only.
    pub fn agent_memory_settings(&self) -> Result<crate::memory::Settings, String> {
        let args = &self.agent_memory;
        let options: std::collections::HashMap<String, String> =
            self.hdb_options.iter().cloned().collect();
        let default_wal = self
            .wal_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("data").join("wal"))
            .join("agent_memory");
        let target = match (&args.dir, &self.hdb_dir, &self.hdb_uri) {
            (Some(dir), _, _) => Some(dir.clone()),
            (None, Some(hdb), _) => Some(hdb.join("agent_memory").display().to_string()),
            (None, None, Some(uri)) => Some(format!("{}/agent_memory", uri.trim_end_matches('/'))),
            (None, None, None) => None,
        };
        let storage = target
            .map(|t| {
                crate::memory::settings::Storage::resolve(&t, options, default_wal, self.wal_sync())
            })
            .transpose()
            .map_err(|e| e.to_string())?;
        Ok(crate::memory::Settings {
            limits: crate::memory::settings::Limits {
                max_memories: args.max_memories,
                max_cache_entries: args.max_cache_entries,
            },
            ann: crate::memory::settings::AnnSettings {
                mode: args.ann.into(),
                min_records: args.ann_min_records,
                max_candidates: args.ann_max_candidates,
            },
            flush_every: args.flush_every,
            storage,
        })
    }

    /// Query parallelism after defaults are applied.
    pub fn parallelism(&self) -> usize {
        self.query_parallelism
            .filter(|&n| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_reference() {
        let c = Config::parse_from(["strata"]);
        assert_eq!(c.port, 8123);
        assert_eq!(c.max_request_bytes, 64 << 20);
        assert_eq!(c.query_timeout_ms, 30_000);
        assert_eq!(c.bind, IpAddr::V4(Ipv4Addr::LOCALHOST));
    }

    #[test]
    fn flags_parse() {
        let c = Config::parse_from([
            "strata",
            "--port",
            "0",
            "--ticks",
            "10",
            "--log-format",
            "json",
        ]);
        assert_eq!((c.port, c.ticks, c.log_format), (0, 10, LogFormat::Json));
    }
}
