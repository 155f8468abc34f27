//! Frozen hot rows → Parquet files + one Delta commit.
//!
//! Each day becomes one file, its rows sorted by the table's sort key (ClickHouse's `ORDER BY`),
//! or else by (symbol, time) where the table has those columns, so readers' row-group statistics
//! prune well on them. The commit carries the
//! application transaction `(strata-wal, last WAL sequence)`: replay after a crash skips what is
//! already in the HDB, so a flush is idempotent.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::compute::{SortColumn, cast, concat_batches, lexsort_to_indices, take_record_batch};
use arrow::datatypes::{DataType, SchemaRef};
use deltalake::DeltaTable;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::kernel::{Action, Transaction};
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::writer::{DeltaWriter, RecordBatchWriter};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use strata_catalog::time_column_index;

use super::WAL_APP_ID;
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

/// Writes `frozen` into `table` and commits it; `table` is at the new version afterwards.
pub async fn write_frozen(table: &mut DeltaTable, frozen: &FrozenRows) -> Result<FlushOutcome> {
    let mut writer =
        RecordBatchWriter::for_table(table)?.with_writer_properties(writer_properties()?);
    let delta_schema = writer.arrow_schema();
    let mut adds = Vec::new();
    for (_, batches) in &frozen.days {
        let day = concat_batches(&frozen.schema, batches)?;
        if day.num_rows() == 0 {
            continue;
        }
        let sorted = sort_for_scans(&day, &frozen.sort_key)?;
        writer
            .write(to_delta_layout(&sorted, &delta_schema)?)
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

/// How HDB Parquet files are written: ZSTD, row groups of 128 Ki rows. Rows are sorted by
/// (symbol, time), so a row group holds few symbols and a short time span: its statistics let a
/// scan for one symbol or one hour skip nearly all the others.
pub(crate) fn writer_properties() -> Result<WriterProperties> {
    Ok(WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
        .set_max_row_group_row_count(Some(128 * 1024))
        .build())
}

/// `batch` ordered by `sort_key`, or when it is empty by (symbol, time) — whichever of the two
/// the table has.
pub(crate) fn sort_for_scans(batch: &RecordBatch, sort_key: &[String]) -> Result<RecordBatch> {
    let schema = batch.schema();
    let key = |i: usize| SortColumn {
        values: Arc::clone(batch.column(i)),
        options: None,
    };
    let keys: Vec<SortColumn> = if sort_key.is_empty() {
        let symbol = schema.index_of("symbol").ok();
        symbol
            .into_iter()
            .chain(time_column_index(&schema))
            .map(key)
            .collect()
    } else {
        sort_key
            .iter()
            .filter_map(|c| schema.index_of(c).ok())
            .map(key)
            .collect()
    };
    if keys.is_empty() {
        return Ok(batch.clone());
    }
    let indices = lexsort_to_indices(&keys, None)?;
    Ok(take_record_batch(batch, &indices)?)
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

#[cfg(test)]
mod tests {
    use arrow::array::{AsArray, Int64Array, StringArray};
    use arrow::datatypes::Int64Type;

    use super::*;

    fn ids(batch: &RecordBatch) -> Vec<i64> {
        batch
            .column(1)
            .as_primitive::<Int64Type>()
            .values()
            .to_vec()
    }

    #[test]
    fn files_follow_the_sort_key_else_symbol() {
        let batch = RecordBatch::try_from_iter(vec![
            (
                "symbol",
                Arc::new(StringArray::from(vec!["b", "a", "b"])) as ArrayRef,
            ),
            ("id", Arc::new(Int64Array::from(vec![1, 3, 2])) as ArrayRef),
        ])
        .unwrap();
        assert_eq!(ids(&sort_for_scans(&batch, &[]).unwrap()), [3, 1, 2]);
        let key = ["id".to_string()];
        assert_eq!(ids(&sort_for_scans(&batch, &key).unwrap()), [1, 2, 3]);
        let key = ["symbol".to_string(), "id".to_string()];
        assert_eq!(ids(&sort_for_scans(&batch, &key).unwrap()), [3, 1, 2]);
    }
}
