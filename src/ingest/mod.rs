//! Arrow IPC ingest: check a stream's framing, decode it, fit it to the table, append it in
//! one step.

mod frames;
mod layout;

use std::io::Cursor;

use arrow::array::RecordBatch;
use arrow::ipc::reader::StreamReader;
use bytes::Bytes;
use strata_tiers::conform::conform_batch;
use strata_tiers::{TableHandle, Tiers, Written};

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

/// How many bytes of decoded Arrow one byte of request body may become: compressed streams
/// (LZ4, ZSTD) expand, and a stream may declare any size. Bounded so that a small body cannot
/// make the server allocate without limit.
pub const MAX_EXPANSION: u64 = 16;

/// The most bytes a request body of at most `max_request_bytes` may decode to.
pub fn max_decoded_bytes(max_request_bytes: usize) -> u64 {
    (max_request_bytes as u64).saturating_mul(MAX_EXPANSION)
}

/// An Arrow IPC stream whose framing has been checked: every declared length fits the bytes
/// received, and what it decodes to is known before decoding starts.
#[derive(Debug)]
pub struct ArrowStream {
    body: Bytes,
    decoded_bytes: u64,
}

impl ArrowStream {
    /// Checks `body`; refuses a stream that is not Arrow IPC or would decode to more than
    /// `max_decoded_bytes`.
    pub fn new(body: Bytes, max_decoded_bytes: u64) -> Result<Self> {
        let shape = frames::check(&body, max_decoded_bytes).map_err(not_arrow)?;
        Ok(Self {
            body,
            decoded_bytes: shape.decoded_bytes,
        })
    }

    /// Every batch of the stream.
    pub fn into_batches(self) -> Result<Vec<RecordBatch>> {
        decode(self.body)
    }

    /// Bytes of Arrow data the stream decodes to (what it will take in the hot tier).
    pub fn decoded_bytes(&self) -> u64 {
        self.decoded_bytes
    }
}

/// Appends the rows of `stream` to `table`, all or none; they are acknowledged once
/// [`Written::durable`] says so.
pub fn ingest_arrow_stream(tiers: &Tiers, table: &str, stream: ArrowStream) -> Result<Written> {
    let handle = tiers.table(table)?;
    let batches = decode(stream.body)?;
    Ok(append_conformed(&handle, &batches)?)
}

/// Fits `batches` to the table's columns (by name, strict casts, missing columns NULL) and
/// writes them, all or none: the write path every ingest shares. The caller awaits
/// [`Written::durable`] before acknowledging.
pub fn append_conformed(
    handle: &TableHandle,
    batches: &[RecordBatch],
) -> std::result::Result<Written, strata_tiers::Error> {
    let schema = handle.schema();
    let batches = batches
        .iter()
        .map(|batch| conform_batch(handle.name(), &schema, batch))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    handle.write(&schema, batches)
}

/// Every batch of a checked IPC stream. The framing check bounds every length the reader
/// trusts (it allocates each message body as declared), and refuses the lengths that make
/// arrow-ipc 58 panic; the unwind guard stays for any decoder panic it does not know of yet,
/// so that one is refused like any other body that is not Arrow. Nothing is stored before
/// decoding ends, so unwinding out of the decoder leaves no state behind.
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
