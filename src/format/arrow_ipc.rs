//! Results as an Arrow IPC stream: schema message, then one message per batch.

use arrow::ipc::writer::StreamWriter;

use super::{Error, Result};
use crate::sql::QueryOutput;

/// The IPC stream bytes of `output`. Timestamps stay timestamps, strings stay UTF-8.
pub fn encode(output: &QueryOutput) -> Result<Vec<u8>> {
    let fail = Error::Arrow;
    let mut writer = StreamWriter::try_new(Vec::new(), &output.schema).map_err(fail)?;
    for batch in &output.batches {
        writer.write(batch).map_err(fail)?;
    }
    writer.into_inner().map_err(fail)
}
