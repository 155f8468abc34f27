//! Arrow IPC ingest: decode a stream, fit it to the table, append it in one step.

use std::io::Cursor;

use arrow::array::RecordBatch;
use arrow::ipc::reader::StreamReader;
use bytes::Bytes;
use strata_tiers::Tiers;
use strata_tiers::conform::conform_batch;

use crate::error::{ErrorKind, tiers_kind};

/// Why an ingest was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The body is not an Arrow IPC stream.
    #[error(
        "Request body is not a valid Arrow IPC stream (send Content-Type: {}): {source}",
        crate::format::ARROW_STREAM_MEDIA_TYPE
    )]
    NotArrow {
        /// What the decoder found.
        #[source]
        source: arrow::error::ArrowError,
    },

    /// The tiers refused the rows (unknown table, columns that do not fit, back-pressure) or
    /// could not store them.
    #[error(transparent)]
    Tiers(#[from] strata_tiers::Error),
}

impl Error {
    /// Whose fault the failure is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotArrow { .. } => ErrorKind::InvalidInput,
            Error::Tiers(e) => tiers_kind(e),
        }
    }
}

/// Result alias for ingest.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Appends the rows of the Arrow IPC stream `body` to `table`; returns how many. Either every
/// batch is stored or none is.
pub fn ingest_arrow_stream(tiers: &Tiers, table: &str, body: Bytes) -> Result<u64> {
    let handle = tiers.table(table)?;
    let schema = handle.schema();
    let batches = decode(body)?
        .iter()
        .map(|batch| Ok(conform_batch(table, &schema, batch)?))
        .collect::<Result<Vec<_>>>()?;
    Ok(handle.append(&schema, batches)?)
}

/// Every batch of an IPC stream. arrow-ipc 58 panics on some malformed messages (a buffer
/// offset past the body, found by `tests/it/fuzz.rs`) instead of returning an error; such a
/// body is refused like any other that is not Arrow. Nothing is stored before decoding ends,
/// so unwinding out of the decoder leaves no state behind.
fn decode(body: Bytes) -> Result<Vec<RecordBatch>> {
    let decoded = std::panic::catch_unwind(move || {
        StreamReader::try_new(Cursor::new(body), None)?.collect::<Result<Vec<_>, _>>()
    });
    match decoded {
        Ok(batches) => batches.map_err(not_arrow),
        Err(_) => Err(not_arrow(arrow::error::ArrowError::IpcError(
            "a message points outside the body".into(),
        ))),
    }
}

fn not_arrow(source: arrow::error::ArrowError) -> Error {
    Error::NotArrow { source }
}
