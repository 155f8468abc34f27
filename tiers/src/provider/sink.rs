//! The `INSERT` target: collects the statement's rows, then appends them in one step.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::datasource::sink::DataSink;
use datafusion::error::Result;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType};
use futures::TryStreamExt;

use crate::store::TableHandle;

/// Appends an INSERT's rows to a table. All rows are gathered before anything is stored, so a row
/// that fails to convert half-way through leaves the table untouched.
#[derive(Debug)]
pub(crate) struct TableSink {
    table: TableHandle,
    schema: SchemaRef,
}

impl TableSink {
    pub(crate) fn new(table: TableHandle, schema: SchemaRef) -> Self {
        Self { table, schema }
    }
}

impl DisplayAs for TableSink {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TableSink: table={}", self.table.name())
    }
}

#[async_trait]
impl DataSink for TableSink {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    async fn write_all(
        &self,
        data: SendableRecordBatchStream,
        _context: &Arc<TaskContext>,
    ) -> Result<u64> {
        let batches: Vec<_> = data.try_collect().await?;
        // In tiered mode the append waits for the WAL's fsync: keep it off the async workers.
        let (table, schema) = (self.table.clone(), Arc::clone(&self.schema));
        let rows = tokio::task::spawn_blocking(move || table.append(&schema, batches))
            .await
            .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))??;
        Ok(rows)
    }
}
