//! Result encodings.
//!
//! - [`json`]: the ZeptoDB JSON shape, the default.
//! - [`arrow_ipc`]: an Arrow IPC stream.
//! - [`clickhouse`]: ClickHouse's formats and type names, for the ClickHouse edge.
//!
//! Which one a request gets is decided by its protocol edge (for HTTP, `crate::http::sql`).

pub mod arrow_ipc;
pub mod clickhouse;
pub mod json;

/// A result that could not be encoded (a fault on our side: the batches came from the engine).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Arrow IPC encoding failed.
    #[error("Arrow IPC encoding failed: {0}")]
    Arrow(#[source] arrow::error::ArrowError),
    /// JSON encoding failed.
    #[error("JSON encoding failed: {0}")]
    Json(#[source] arrow::error::ArrowError),
}

/// Result alias for encodings.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The media type of an Arrow IPC stream.
pub const ARROW_STREAM_MEDIA_TYPE: &str = "application/vnd.apache.arrow.stream";

/// How a result is sent back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultFormat {
    /// `{"columns":[..],"data":[[..]],"rows":N,"rows_scanned":M,"execution_time_us":F}`.
    ZeptoJson,
    /// Arrow IPC stream bytes.
    ArrowStream,
}
