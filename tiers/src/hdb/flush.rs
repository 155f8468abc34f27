//! Frozen hot rows → Parquet files + one Delta commit.
//!
//! Each day becomes one file, laid out by [`super::layout`] (time clusters sorted by the table's sort
//! key or by (symbol, time)), so readers prune by time and by symbol. The commit carries the
//! application transaction `(strata-wal, last WAL sequence)`: replay after a crash skips what is
//! already in the HDB, so a flush is idempotent.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::compute::{cast, concat_batches};
use arrow::datatypes::{DataType, SchemaRef};
use deltalake::DeltaTable;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::kernel::{Action, Transaction};
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::writer::{DeltaWriter, RecordBatchWriter};

use super::WAL_APP_ID;
use super::layout::FileLayout;
use crate::error::Result;
use crate::hot::FrozenRows;

/// What a flush wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlushOutcome {
    /// Rows moved to the HDB.
    pub rows: usize,
    /// Parquet files written.
    pub files: usize,
    /// The Delta version committed (`None` if there was nothing to flush).
    pub version: Option<u64>,
}

/// Writes `frozen` into `table` in `layout` and commits it; `table` is at the new version
/// afterwards.
pub async fn write_frozen(
    table: &mut DeltaTable,
    frozen: &FrozenRows,
    layout: FileLayout,
) -> Result<FlushOutcome> {
    let mut writer = RecordBatchWriter::for_table(table)?
        .with_writer_properties(layout.writer_properties(&frozen.schema)?);
    let delta_schema = writer.arrow_schema();
    let mut adds = Vec::new();
    for (_, batches) in &frozen.days {
        let day = concat_batches(&frozen.schema, batches)?;
        if day.num_rows() == 0 {
            continue;
        }
        let arranged = layout.arrange(&day, &frozen.sort_key)?;
        writer
            .write(to_delta_layout(&arranged, &delta_schema)?)
            .await?;
        adds.extend(writer.flush().await?);
    }
    let files = adds.len();
    let mut commit = CommitProperties::default();
    if let Some(seqs) = frozen.seqs {
        commit =
            commit.with_application_transaction(Transaction::new(WAL_APP_ID, seqs.last as i64));
    }
    let operation = DeltaOperation::Write {
        mode: SaveMode::Append,
        partition_by: None,
        predicate: None,
    };
    let actions = adds.into_iter().map(Action::Add).collect();
    let version = super::commit::commit(table, actions, operation, commit).await?;
    Ok(FlushOutcome {
        rows: frozen.rows,
        files,
        version: Some(version),
    })
}

/// `batch` in the Delta table's Arrow types (nanosecond timestamps as `Int64`).
pub(crate) fn to_delta_layout(
    batch: &RecordBatch,
    delta_schema: &SchemaRef,
) -> Result<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .zip(delta_schema.fields())
        .map(
            |(column, field)| match (column.data_type(), field.data_type()) {
                (DataType::Timestamp(..), DataType::Int64) => Ok(cast(column, &DataType::Int64)?),
                (from, to) if from == to => Ok(Arc::clone(column)),
                (_, to) => Ok(cast(column, to)?),
            },
        )
        .collect::<Result<Vec<ArrayRef>>>()?;
    Ok(RecordBatch::try_new(Arc::clone(delta_schema), columns)?)
}
