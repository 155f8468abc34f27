//! UPDATE and DELETE on the HDB, copy-on-write: every file holding a touched row is read,
//! changed in the table's own types (so predicates see `TIMESTAMP_NS`, not the stored integers)
//! and replaced by a new file, all in one Delta commit. Files without a touched row stay as
//! they are.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use deltalake::DeltaTable;
use deltalake::kernel::Action;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::protocol::DeltaOperation;
use deltalake::writer::{DeltaWriter, RecordBatchWriter};

use super::flush::to_delta_layout;
use super::layout::FileLayout;
use crate::error::Result;

/// Applies `change` to every row of `table`; returns the rows it touched. `table` is at the
/// new version afterwards (unchanged if nothing was touched).
pub async fn rewrite(
    table: &mut DeltaTable,
    schema: &SchemaRef,
    layout: FileLayout,
    delete: bool,
    mut change: impl FnMut(&RecordBatch) -> Result<Option<(RecordBatch, u64)>>,
) -> Result<u64> {
    let store = table.object_store();
    let files: Vec<_> = table.snapshot()?.log_data().iter().collect();
    let mut writer = RecordBatchWriter::for_table(table)?
        .with_writer_properties(layout.writer_properties(schema)?);
    let delta_schema = writer.arrow_schema();
    let mut actions = Vec::new();
    let mut touched = 0;
    for file in files {
        let mut out = Vec::new();
        let mut changed = false;
        for batch in super::read_file(&store, file.path().as_ref(), schema).await? {
            match change(&batch)? {
                None => out.push(batch),
                Some((batch, n)) => {
                    changed = true;
                    touched += n;
                    out.push(batch);
                }
            }
        }
        if !changed {
            continue;
        }
        actions.push(Action::Remove(file.remove_action(true)));
        for batch in out.iter().filter(|b| b.num_rows() > 0) {
            writer.write(to_delta_layout(batch, &delta_schema)?).await?;
        }
        actions.extend(writer.flush().await?.into_iter().map(Action::Add));
    }
    if actions.is_empty() {
        return Ok(0);
    }
    let operation = if delete {
        DeltaOperation::Delete { predicate: None }
    } else {
        DeltaOperation::Update { predicate: None }
    };
    super::commit::commit(table, actions, operation, CommitProperties::default()).await?;
    Ok(touched)
}
