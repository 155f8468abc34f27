//! The window join operator ([`WindowJoinExec`]): kdb+'s `wj1`.
//!
//! For every left row, the right rows of its keys whose time lies in `[low, high]` (both
//! evaluated on the left row) form its window; each right column comes out as the list of its
//! values there, in time order, which `wj_avg`, `wj_sum`, `wj_min`, `wj_max` and `wj_count`
//! aggregate (`super::super::udf::wj`). Every left row is kept, with empty lists when nothing
//! falls inside (or its keys or bounds are NULL). Same build and streaming as the as-of join
//! (`super::shared`): two binary searches per row.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use arrow::array::{ArrayRef, ListArray, RecordBatch, UInt32Array};
use arrow::buffer::OffsetBuffer;
use arrow::compute::take;
use arrow::datatypes::{DataType, SchemaRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PhysicalExpr, PlanProperties,
};

use super::index::{TimeIndex, Times};
use super::shared::{Groups, SharedIndex, Sides, stream_through};

/// The window join.
#[derive(Debug)]
pub struct WindowJoinExec {
    sides: Sides,
    low: Arc<dyn PhysicalExpr>,
    high: Arc<dyn PhysicalExpr>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    index: SharedIndex,
}

impl WindowJoinExec {
    /// The join of `sides` by `right_time BETWEEN low AND high`, answering `schema`.
    pub fn new(
        sides: Sides,
        low: Arc<dyn PhysicalExpr>,
        high: Arc<dyn PhysicalExpr>,
        schema: SchemaRef,
    ) -> Self {
        let properties = sides.properties(&schema);
        Self {
            sides,
            low,
            high,
            schema,
            properties,
            index: SharedIndex::default(),
        }
    }
}

impl DisplayAs for WindowJoinExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "WindowJoinExec: on=[{}], {} BETWEEN {} AND {}",
            self.sides.keys_text(),
            self.sides.right_time,
            self.low,
            self.high
        )
    }
}

impl ExecutionPlan for WindowJoinExec {
    fn name(&self) -> &str {
        "WindowJoinExec"
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true, false]
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.sides.left, &self.sides.right]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(Self::new(
            self.sides.with_inputs(children)?,
            Arc::clone(&self.low),
            Arc::clone(&self.high),
            Arc::clone(&self.schema),
        )))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let left = self.sides.left.execute(partition, Arc::clone(&context))?;
        let build = self.index.get(&self.sides, self.name(), &context);
        let keys = self.sides.left_keys.clone();
        let (low, high) = (Arc::clone(&self.low), Arc::clone(&self.high));
        let schema = Arc::clone(&self.schema);
        Ok(stream_through(
            left,
            build,
            Arc::clone(&self.schema),
            move |batch, index| probe(batch, index, &keys, &low, &high, &schema),
        ))
    }
}

fn probe(
    batch: &RecordBatch,
    index: &TimeIndex,
    keys: &[Arc<dyn PhysicalExpr>],
    low: &Arc<dyn PhysicalExpr>,
    high: &Arc<dyn PhysicalExpr>,
    schema: &SchemaRef,
) -> Result<RecordBatch> {
    let rows = batch.num_rows();
    let mut groups = Groups::new(index, keys, batch)?;
    let lows = Times::of(&low.evaluate(batch)?.into_array(rows)?)?;
    let highs = Times::of(&high.evaluate(batch)?.into_array(rows)?)?;
    let mut offsets: Vec<i32> = Vec::with_capacity(rows + 1);
    offsets.push(0);
    let mut inside: Vec<u32> = Vec::new();
    for i in 0..rows {
        if let (Some(lo), Some(hi), Some(g)) = (lows.get(i), highs.get(i), groups.of(i))
            && lo <= hi
        {
            let times = index.times(g);
            let start = times.partition_point(|t| *t < lo);
            let end = times.partition_point(|t| *t <= hi);
            inside.extend_from_slice(index.rows(g, start..end));
        }
        let end = i32::try_from(inside.len()).map_err(|_| {
            DataFusionError::ResourcesExhausted(
                "a window join's windows hold more than 2^31 right rows in one batch".into(),
            )
        })?;
        offsets.push(end);
    }
    let take_rows = UInt32Array::from(inside);
    let offsets = OffsetBuffer::new(offsets.into());
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    for (j, column) in index.batch.columns().iter().enumerate() {
        let field = schema.field(batch.num_columns() + j);
        let DataType::List(item) = field.data_type() else {
            return Err(DataFusionError::Internal(format!(
                "window join column {} is {}, not a list",
                field.name(),
                field.data_type()
            )));
        };
        let values = take(column, &take_rows, None)?;
        columns.push(Arc::new(ListArray::try_new(
            Arc::clone(item),
            offsets.clone(),
            values,
            None,
        )?));
    }
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}
