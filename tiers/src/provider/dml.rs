//! UPDATE and DELETE on the hot tier, run when the plan *executes* (so `EXPLAIN DELETE …`
//! changes nothing).

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, UInt64Array};
use arrow::compute::kernels::zip::zip;
use arrow::compute::{cast, filter_record_batch, not, prep_null_mask_filter};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};

use crate::store::TableHandle;

/// A row-changing statement against one table.
#[derive(Debug, Clone)]
pub(crate) enum DmlOp {
    /// Remove the rows matching `predicate` (all rows if `None`).
    Delete {
        predicate: Option<Arc<dyn PhysicalExpr>>,
    },
    /// Set `assignments` (column index, new value) on the rows matching `predicate`.
    Update {
        predicate: Option<Arc<dyn PhysicalExpr>>,
        assignments: Vec<(usize, Arc<dyn PhysicalExpr>)>,
    },
}

impl DmlOp {
    fn name(&self) -> &'static str {
        match self {
            DmlOp::Delete { .. } => "Delete",
            DmlOp::Update { .. } => "Update",
        }
    }

    /// The statement applied to one batch: `None` if no row matches, else the batch as it is
    /// afterwards and how many rows matched.
    pub(crate) fn change_batch(&self, batch: &RecordBatch) -> Result<Option<(RecordBatch, u64)>> {
        let mask = match self.predicate() {
            Some(p) => {
                let value = p.evaluate(batch)?.into_array(batch.num_rows())?;
                let mask = value
                    .as_any()
                    .downcast_ref::<BooleanArray>()
                    .ok_or_else(|| {
                        DataFusionError::Plan("WHERE clause is not a boolean condition".into())
                    })?;
                // SQL: a NULL condition does not match.
                if mask.null_count() > 0 {
                    prep_null_mask_filter(mask)
                } else {
                    mask.clone()
                }
            }
            None => BooleanArray::from(vec![true; batch.num_rows()]),
        };
        let hits = mask.true_count();
        if hits == 0 {
            return Ok(None);
        }
        let changed = match self {
            DmlOp::Delete { .. } => filter_record_batch(batch, &not(&mask)?)?,
            DmlOp::Update { assignments, .. } => update_batch(batch, &mask, assignments)?,
        };
        Ok(Some((changed, hits as u64)))
    }

    /// Applies the statement to every row of the table; returns how many it touched.
    async fn apply(&self, table: &TableHandle, schema: &SchemaRef) -> Result<u64> {
        Ok(table
            .rewrite(schema, self.is_delete(), |batch| {
                Ok(self.change_batch(batch)?)
            })
            .await?)
    }

    fn is_delete(&self) -> bool {
        matches!(self, DmlOp::Delete { .. })
    }

    fn predicate(&self) -> Option<&Arc<dyn PhysicalExpr>> {
        match self {
            DmlOp::Delete { predicate } | DmlOp::Update { predicate, .. } => predicate.as_ref(),
        }
    }
}

fn update_batch(
    batch: &RecordBatch,
    mask: &BooleanArray,
    assignments: &[(usize, Arc<dyn PhysicalExpr>)],
) -> Result<RecordBatch> {
    let schema = batch.schema();
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    for (idx, value) in assignments {
        let target = schema.field(*idx).data_type();
        let mut new = value.evaluate(batch)?.into_array(batch.num_rows())?;
        if new.data_type() != target {
            new = cast(&new, target)?;
        }
        columns[*idx] = zip(mask, &new, &batch.column(*idx))?;
    }
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// Executes a [`DmlOp`] once and returns its row count in a `count` column, the shape DataFusion
/// uses for every DML result.
#[derive(Debug)]
pub(crate) struct DmlExec {
    op: DmlOp,
    table: TableHandle,
    table_schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl DmlExec {
    pub(crate) fn new(op: DmlOp, table: TableHandle, table_schema: SchemaRef) -> Self {
        let schema = count_schema();
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Final,
            Boundedness::Bounded,
        ));
        Self {
            op,
            table,
            table_schema,
            properties,
        }
    }
}

fn count_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new(
        "count",
        DataType::UInt64,
        false,
    )]))
}

impl DisplayAs for DmlExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "DmlExec: op={}, table={}",
            self.op.name(),
            self.table.name()
        )
    }
}

impl ExecutionPlan for DmlExec {
    fn name(&self) -> &str {
        "DmlExec"
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!(
                "DmlExec has one partition, asked for {partition}"
            )));
        }
        let (op, table, table_schema) = (
            self.op.clone(),
            self.table.clone(),
            Arc::clone(&self.table_schema),
        );
        let schema = count_schema();
        let out = Arc::clone(&schema);
        let stream = futures::stream::once(async move {
            let n = op.apply(&table, &table_schema).await?;
            Ok(RecordBatch::try_new(
                out,
                vec![Arc::new(UInt64Array::from(vec![n]))],
            )?)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}
