//! The ClickHouse HTTP edge, on the same port as the ZeptoDB one: `POST /` and `GET /?query=`
//! requests that carry ClickHouse's markers ([`request`]) are answered here, through the same
//! front end, query service, tables and authorization as every other request.
//!
//! | module | holds |
//! |---|---|
//! | [`request`] | recognition, and the URL parameters this edge reads |
//! | [`settings`] | the query settings it enforces (`readonly`, `max_execution_time`, …) |
//! | [`sessions`] | `session_id` sessions: their `SET` settings, one request at a time |
//! | [`credentials`] | where ClickHouse clients put their credentials |
//! | [`handler`] | one request end to end, and ClickHouse's response headers |
//! | [`output`] | the result formats by name |
//! | [`compression`] | request and response compression (HTTP's `Content-Encoding`) |
//! | [`blocks`] | ClickHouse's own compressed blocks (`compress=1`, `decompress=1`), [`cityhash`] their checksum |
//! | [`exception`] | every failure as ClickHouse's code, status and body |
//!
//! The encodings themselves are in [`crate::format::clickhouse`]; what a ClickHouse statement
//! means is the front end's (`crate::sql::parser::clickhouse`).

pub mod blocks;
pub mod cityhash;
pub mod compression;
pub mod credentials;
pub mod exception;
pub mod handler;
pub mod output;
pub mod request;
pub mod sessions;
pub mod settings;

/// The ClickHouse version Strata reports (`version()`, the exception suffix): a modern release,
/// so clients enable what they gate on versions (Grafana's ad hoc filters from 22.7).
pub const VERSION: &str = "24.8.1.1";
