//! Command-line flags and their `STRATA_*` environment variables.
//!
//! `docs/configuration.md` lists every flag; `strata --help` prints the same text.

use std::net::{IpAddr, Ipv4Addr};

use clap::{Parser, ValueEnum};

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
