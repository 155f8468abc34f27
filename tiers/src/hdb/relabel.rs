//! [`AsTableSchema`]: the HDB scan's batches, cast to the table's Arrow types and labelled with
//! its exact schema (field metadata included), so the union with the hot tier and every plan
//! above it see one schema.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use arrow::array::{RecordBatch, RecordBatchOptions};
use arrow::compute::cast;
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use datafusion::error::Result;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use futures::StreamExt;

/// Casts every batch of `input` to `schema` (same columns, in order).
#[derive(Debug)]
pub(crate) struct AsTableSchema {
    input: Arc<dyn ExecutionPlan>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl AsTableSchema {
    pub(crate) fn new(input: Arc<dyn ExecutionPlan>, schema: SchemaRef) -> Self {
        let inner = input.properties();
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            inner.output_partitioning().clone(),
            inner.emission_type,
            inner.boundedness,
        ));
        Self {
            input,
            schema,
            properties,
        }
    }
}

/// `batch` cast to `schema`'s types and labelled with it.
pub(crate) fn relabel(batch: RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| {
            let column = if column.data_type() == field.data_type() {
                Arc::clone(column)
            } else {
                cast(column, field.data_type())?
            };
            // Files written before `ALTER TABLE … ADD COLUMN` lack the column: a column that
            // holds no NULLs (an array) reads its type's default there, as ClickHouse does.
            if !field.is_nullable() && column.null_count() > 0 {
                return crate::conform::with_defaults("", field, &column)
                    .map_err(|e| ArrowError::ComputeError(e.to_string()));
            }
            Ok(column)
        })
        .collect::<Result<Vec<_>, ArrowError>>()?;
    // A projection can be empty (`count(*)`): keep the row count.
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    Ok(RecordBatch::try_new_with_options(
        Arc::clone(schema),
        columns,
        &options,
    )?)
}

impl DisplayAs for AsTableSchema {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AsTableSchema")
    }
}

impl ExecutionPlan for AsTableSchema {
    fn name(&self) -> &str {
        "AsTableSchema"
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match children.pop() {
            Some(input) if children.is_empty() => {
                Ok(Arc::new(Self::new(input, Arc::clone(&self.schema))))
            }
            _ => Err(datafusion::error::DataFusionError::Internal(
                "AsTableSchema takes one input".into(),
            )),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let schema = Arc::clone(&self.schema);
        let out = Arc::clone(&schema);
        let stream = self
            .input
            .execute(partition, context)?
            .map(move |batch| relabel(batch?, &out));
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}
