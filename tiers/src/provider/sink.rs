//! The `INSERT` target: collects the statement's rows, then appends them in one step.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use arrow::datatypes::{Field, Schema, SchemaRef};
use async_trait::async_trait;
use datafusion::datasource::sink::DataSink;
use datafusion::error::Result;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType};
use futures::TryStreamExt;

use crate::conform::conform_batch;
use crate::store::TableHandle;

/// Appends an INSERT's rows to a table. All rows are gathered before anything is stored, so a row
/// that fails to convert half-way through leaves the table untouched.
#[derive(Debug)]
pub(crate) struct TableSink {
    table: TableHandle,
    /// The table's schema, which the append checks the table still has.
    table_schema: SchemaRef,
    /// The rows the sink takes: the table's columns, every one nullable. A NULL (or an omitted
    /// value) for a column that holds none becomes its type's default when the rows are
    /// conformed, as ClickHouse does, instead of failing DataFusion's NOT NULL check.
    accepted: SchemaRef,
}

impl TableSink {
    pub(crate) fn new(table: TableHandle, schema: SchemaRef) -> Self {
        let fields: Vec<Field> = schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect();
        let accepted = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
        Self {
            table,
            table_schema: schema,
            accepted,
        }
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
        &self.accepted
    }

    async fn write_all(
        &self,
        data: SendableRecordBatchStream,
        _context: &Arc<TaskContext>,
    ) -> Result<u64> {
        let batches: Vec<_> = data.try_collect().await?;
        // The same fitting every ingest gets: declared types checked (UUIDs, fixed strings),
        // defaults where a column holds no NULLs, the table's exact schema.
        let batches = batches
            .iter()
            .map(|b| conform_batch(self.table.name(), &self.table_schema, b))
            .collect::<crate::error::Result<Vec<_>>>()?;
        // Logging and storing the rows is work proportional to them: off the async workers.
        // The WAL's group commit is then awaited here, without holding a thread.
        let (table, schema) = (self.table.clone(), Arc::clone(&self.table_schema));
        let written = tokio::task::spawn_blocking(move || table.write(&schema, batches))
            .await
            .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))??;
        Ok(written.durable().await?)
    }
}
