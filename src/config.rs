//! Command-line flags and their `STRATA_*` environment variables, one block per subsystem
//! (flattened into [`Config`]), resolved once by [`Config::resolve`] into the plain
//! [`Settings`] each subsystem is built with.
//!
//! `docs/configuration.md` lists every flag; `strata --help` prints the same text, grouped.

pub mod agent_memory;
pub mod security;
pub mod server;
pub mod storage;
pub mod tls;

use std::net::SocketAddr;

use clap::{Parser, ValueEnum};

use agent_memory::AgentMemoryArgs;
use security::SecurityArgs;
use server::{HttpLimits, QueryArgs, QuerySettings, ServerArgs};
use storage::{StorageArgs, TierSettings};
use tls::{TlsArgs, TlsSettings};

/// Strata: a lakehouse server for time-series data, speaking the ZeptoDB HTTP API.
#[derive(Debug, Clone, Parser)]
#[command(name = "strata", version, about, long_about = None)]
pub struct Config {
    /// Run a subcommand instead of serving.
    #[command(subcommand)]
    pub command: Option<crate::cli::Command>,

    /// Fill the quick-start `trades` table with this many demo rows at start.
    #[arg(long, env = "STRATA_TICKS", default_value_t = 0)]
    pub ticks: usize,

    /// Log line format.
    #[arg(long, env = "STRATA_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Where Strata listens and what a request may carry.
    #[command(flatten)]
    pub server: ServerArgs,

    /// How queries run.
    #[command(flatten)]
    pub query: QueryArgs,

    /// The tiers: HDB, WAL, hot-tier budget, flushing.
    #[command(flatten)]
    pub storage: StorageArgs,

    /// Agent Memory (`/api/ai/*`).
    #[command(flatten)]
    pub agent_memory: AgentMemoryArgs,

    /// Authentication, scope, rate limits, audit.
    #[command(flatten)]
    pub security: SecurityArgs,

    /// HTTPS and client certificates.
    #[command(flatten)]
    pub tls: TlsArgs,
}

/// How log lines are written to standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Every subsystem's settings, resolved from the flags.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The address to listen on.
    pub addr: SocketAddr,
    /// HTTPS; `None` serves plain HTTP.
    pub tls: Option<TlsSettings>,
    /// Request limits of the HTTP front doors.
    pub http: HttpLimits,
    /// The query service.
    pub query: QuerySettings,
    /// The tiers.
    pub tiers: TierSettings,
    /// Agent Memory.
    pub memory: crate::memory::Settings,
    /// Authentication and access.
    pub auth: crate::auth::AuthSettings,
    /// Demo rows to seed.
    pub ticks: usize,
}

impl Config {
    /// Resolves every block once; refuses contradictory flags with a message naming them.
    pub fn resolve(&self) -> Result<Settings, String> {
        Ok(Settings {
            addr: self.server.addr(),
            tls: self.tls.settings()?,
            http: self.server.limits(),
            query: self.query.settings(),
            tiers: self.storage.settings()?,
            memory: self.agent_memory.settings(&self.storage)?,
            auth: self.security.settings(self.server.bind)?,
            ticks: self.ticks,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;

    #[test]
    fn defaults_match_the_reference() {
        let c = Config::parse_from(["strata"]);
        assert_eq!(c.server.port, 8123);
        assert_eq!(c.server.max_request_bytes, 64 << 20);
        assert_eq!(c.query.query_timeout_ms, 30_000);
        assert_eq!(c.server.bind, IpAddr::V4(Ipv4Addr::LOCALHOST));
        let settings = c.resolve().unwrap();
        assert!(settings.tiers.tiered.is_none(), "pure without an HDB");
        assert!(
            settings.memory.storage.is_none(),
            "Agent Memory in memory only"
        );
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
        assert_eq!(
            (c.server.port, c.ticks, c.log_format),
            (0, 10, LogFormat::Json)
        );
    }

    #[test]
    fn blocks_resolve_together() {
        let c = Config::parse_from([
            "strata",
            "--hdb-dir",
            "/srv/hdb",
            "--agent-memory-ann",
            "auto",
            "--wal-sync",
            "batch",
        ]);
        let s = c.resolve().unwrap();
        let tiered = s.tiers.tiered.unwrap();
        assert_eq!(tiered.wal.dir, std::path::Path::new("/srv/hdb/wal"));
        let memory = s.memory.storage.unwrap();
        assert_eq!(memory.root.as_str(), "file:///srv/hdb/agent_memory/");
        assert_eq!(memory.wal_sync, tiered.wal.sync);
        assert_eq!(s.memory.ann.mode, crate::memory::settings::AnnMode::Auto);
        let pure = Config::parse_from(["strata", "--storage-mode", "pure", "--hdb-dir", "/x"]);
        assert!(pure.resolve().unwrap_err().contains("--storage-mode pure"));
        assert!(Config::try_parse_from(["strata", "--agent-memory-ann", "maybe"]).is_err());
    }
}
