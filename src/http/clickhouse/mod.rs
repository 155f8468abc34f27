//! The ClickHouse HTTP edge (issue 11), on the same port as the ZeptoDB one. Being built in
//! parts: the result encodings are in [`crate::format::clickhouse`]; this module holds what
//! only this protocol decides: its exceptions ([`exception`]) and where its clients put their
//! credentials ([`credentials`]). Requests are not routed here yet.

pub mod credentials;
pub mod exception;

/// The ClickHouse version Strata reports (`version()`, the exception suffix): a modern release,
/// so clients enable what they gate on versions (Grafana's ad hoc filters from 22.7).
pub const VERSION: &str = "24.8.1.1";
