//! Arrow IPC ingest: decode a stream, fit it to the table, append it in one step.

use std::io::Cursor;

use arrow::ipc::reader::StreamReader;
use bytes::Bytes;
use strata_tiers::Tiers;
use strata_tiers::conform::conform_batch;

use crate::error::{Error, Result};

/// Appends the rows of the Arrow IPC stream `body` to `table`; returns how many. Either every
/// batch is stored or none is.
pub fn ingest_arrow_stream(tiers: &Tiers, table: &str, body: Bytes) -> Result<u64> {
    let handle = tiers.table(table)?;
    let schema = handle.schema();
    let reader = StreamReader::try_new(Cursor::new(body), None).map_err(not_arrow)?;
    let batches = reader
        .map(|batch| {
            let batch = batch.map_err(not_arrow)?;
            Ok(conform_batch(table, &schema, &batch)?)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(handle.append(&schema, batches)?)
}

fn not_arrow(e: arrow::error::ArrowError) -> Error {
    Error::BadRequest(format!(
        "Request body is not a valid Arrow IPC stream (send Content-Type: {}): {e}",
        crate::format::ARROW_STREAM_MEDIA_TYPE
    ))
}
