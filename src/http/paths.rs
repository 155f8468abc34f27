//! Every path the server answers, in one place (tests and docs use the same constants).

/// SQL: `POST /` with the statement as body, `GET /?query=` for reads.
pub const ROOT: &str = "/";
/// Liveness in ClickHouse style: `Ok\n`.
pub const PING: &str = "/ping";
/// Kubernetes liveness probe.
pub const HEALTH: &str = "/health";
/// Kubernetes readiness probe.
pub const READY: &str = "/ready";
/// The caller's role and subject.
pub const WHOAMI: &str = "/whoami";
/// Server figures as JSON.
pub const STATS: &str = "/stats";
/// Prometheus exposition.
pub const METRICS: &str = "/metrics";
/// Arrow IPC stream ingest.
pub const INSERT_ARROW: &str = "/insert/arrow";
/// Flush every table's hot rows to the HDB.
pub const ADMIN_FLUSH: &str = "/admin/flush";
/// Cluster overview (one standalone node) with the tier figures.
pub const ADMIN_CLUSTER: &str = "/admin/cluster";
