//! The `--bind`/`--port` and request-limit flags, and the query flags.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use clap::Args;

use crate::sql::QueryLimits;

/// Where Strata listens and what one request may carry.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Server")]
pub struct ServerArgs {
    /// Address to listen on. The default accepts local connections only.
    #[arg(long, env = "STRATA_BIND", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,

    /// HTTP port (0 picks a free port and prints it).
    #[arg(long, env = "STRATA_PORT", default_value_t = 8123)]
    pub port: u16,

    /// Largest request body accepted, in bytes; larger bodies get 413.
    #[arg(long, env = "STRATA_MAX_REQUEST_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_request_bytes: usize,

    /// Most rows a JSON result may have (413 beyond; Arrow results are not limited). 0 = no limit.
    #[arg(long, env = "STRATA_MAX_RESULT_ROWS", default_value_t = 1_000_000)]
    pub max_result_rows: usize,

    /// The protocol of a SQL request that carries neither protocol's markers (a bare `POST /`
    /// with SQL): `zeptodb` (the ZeptoDB JSON) or `clickhouse` (TabSeparated, ClickHouse's
    /// errors), for a server that ClickHouse tools talk to.
    #[arg(long, env = "STRATA_DEFAULT_PROTOCOL", value_enum, default_value_t = Protocol::Zeptodb)]
    pub default_protocol: Protocol,
}

/// A protocol spoken on the HTTP port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Protocol {
    /// The ZeptoDB HTTP API.
    Zeptodb,
    /// ClickHouse's HTTP protocol.
    Clickhouse,
}

impl ServerArgs {
    /// The address to listen on.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.bind, self.port)
    }

    /// The limits every HTTP front door applies.
    pub fn limits(&self) -> HttpLimits {
        HttpLimits {
            max_request_bytes: self.max_request_bytes,
            max_result_rows: self.max_result_rows,
            default_protocol: self.default_protocol,
        }
    }
}

/// Request and result limits every front door applies, and the protocol of unmarked requests.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// Largest request body accepted, in bytes.
    pub max_request_bytes: usize,
    /// Most rows of a result rendered row by row (0: no limit).
    pub max_result_rows: usize,
    /// The protocol of a SQL request with neither protocol's markers.
    pub default_protocol: Protocol,
}

/// How queries run.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Queries")]
pub struct QueryArgs {
    /// Queries running longer than this are cancelled with 408.
    #[arg(long, env = "STRATA_QUERY_TIMEOUT_MS", default_value_t = 30_000)]
    pub query_timeout_ms: u64,

    /// Threads a query may use (DataFusion target partitions). Defaults to the number of cores.
    #[arg(long, env = "STRATA_QUERY_PARALLELISM")]
    pub query_parallelism: Option<usize>,
}

/// What the query service is built with.
#[derive(Debug, Clone, Copy)]
pub struct QuerySettings {
    /// Per-statement limits.
    pub limits: QueryLimits,
    /// Threads a query may use.
    pub parallelism: usize,
}

impl QueryArgs {
    /// The settings, defaults applied.
    pub fn settings(&self) -> QuerySettings {
        QuerySettings {
            limits: QueryLimits {
                timeout: Duration::from_millis(self.query_timeout_ms),
            },
            parallelism: self
                .query_parallelism
                .filter(|&n| n > 0)
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        }
    }
}
