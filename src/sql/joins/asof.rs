//! The as-of join operator ([`AsofJoinExec`]): kdb+'s `aj`.
//!
//! The right side is read once into a [`TimeIndex`] (shared by every left partition, its
//! memory reserved from the query's pool); each left batch then streams through: for every
//! row, its keys' group and a binary search of that group's times find the one right row it
//! takes. Left rows keep their order and partitioning, so the join runs in parallel over the
//! left side and its cost is O(left · log right) after an O(right) build. Correct across
//! partitions, tiers and symbols: nothing assumes the inputs arrive sorted or split by key.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use super::index::{TimeIndex, Times};
use super::node::Direction;
use super::shared::{Groups, SharedIndex, Sides, stream_through};
use arrow::array::{ArrayRef, RecordBatch, UInt32Array};
use arrow::compute::take;
use arrow::datatypes::SchemaRef;
use datafusion::error::Result;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PhysicalExpr, PlanProperties,
};

/// The as-of join.
#[derive(Debug)]
pub struct AsofJoinExec {
    sides: Sides,
    left_time: Arc<dyn PhysicalExpr>,
    direction: Direction,
    keep_unmatched: bool,
    left_only: bool,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    index: SharedIndex,
}

impl AsofJoinExec {
    /// The join of `sides` by `left_time direction right_time`, answering `schema`.
    pub fn new(
        sides: Sides,
        left_time: Arc<dyn PhysicalExpr>,
        direction: Direction,
        keep_unmatched: bool,
        left_only: bool,
        schema: SchemaRef,
    ) -> Self {
        let properties = sides.properties(&schema);
        Self {
            sides,
            left_time,
            direction,
            keep_unmatched,
            left_only,
            schema,
            properties,
            index: SharedIndex::default(),
        }
    }
}

impl DisplayAs for AsofJoinExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "AsofJoinExec: on=[{}], time={} {} {}, keep_unmatched={}, left_only={}",
            self.sides.keys_text(),
            self.left_time,
            self.direction.sql(),
            self.sides.right_time,
            self.keep_unmatched,
            self.left_only
        )
    }
}

impl ExecutionPlan for AsofJoinExec {
    fn name(&self) -> &str {
        "AsofJoinExec"
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
            Arc::clone(&self.left_time),
            self.direction,
            self.keep_unmatched,
            self.left_only,
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
        let probe = Probe {
            left_keys: self.sides.left_keys.clone(),
            left_time: Arc::clone(&self.left_time),
            direction: self.direction,
            keep_unmatched: self.keep_unmatched,
            left_only: self.left_only,
            schema: Arc::clone(&self.schema),
        };
        Ok(stream_through(
            left,
            build,
            Arc::clone(&self.schema),
            move |batch, index| probe.run(batch, index),
        ))
    }
}

/// What one left batch needs to be joined.
struct Probe {
    left_keys: Vec<Arc<dyn PhysicalExpr>>,
    left_time: Arc<dyn PhysicalExpr>,
    direction: Direction,
    keep_unmatched: bool,
    left_only: bool,
    schema: SchemaRef,
}

impl Probe {
    fn run(&self, batch: &RecordBatch, index: &TimeIndex) -> Result<RecordBatch> {
        let rows = batch.num_rows();
        let mut groups = Groups::new(index, &self.left_keys, batch)?;
        let times = Times::of(&self.left_time.evaluate(batch)?.into_array(rows)?)?;
        let mut left_rows: Vec<u32> = Vec::with_capacity(rows);
        let mut right_rows: Vec<Option<u32>> = Vec::with_capacity(rows);
        for i in 0..rows {
            let found = times
                .get(i)
                .and_then(|t| groups.of(i).map(|g| (g, t)))
                .and_then(|(g, t)| self.position(index.times(g), t).map(|p| index.row(g, p)));
            if found.is_some() || self.keep_unmatched {
                left_rows.push(i as u32);
                right_rows.push(found);
            }
        }
        let left_columns: Vec<ArrayRef> = if left_rows.len() == rows {
            batch.columns().to_vec()
        } else {
            let take_rows = UInt32Array::from(left_rows);
            batch
                .columns()
                .iter()
                .map(|c| take(c, &take_rows, None))
                .collect::<std::result::Result<_, _>>()?
        };
        let mut columns = left_columns;
        if !self.left_only {
            let take_rows = UInt32Array::from(right_rows);
            for column in index.batch.columns() {
                columns.push(take(column, &take_rows, None)?);
            }
        }
        Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
    }

    /// The position in `times` (one group's, sorted) of the row a left time `t` takes.
    fn position(&self, times: &[i64], t: i64) -> Option<usize> {
        match self.direction {
            // The last of equal times: the one read last.
            Direction::AtOrBefore => times.partition_point(|x| *x <= t).checked_sub(1),
            Direction::Before => times.partition_point(|x| *x < t).checked_sub(1),
            Direction::AtOrAfter => Some(times.partition_point(|x| *x < t)),
            Direction::After => Some(times.partition_point(|x| *x <= t)),
        }
        .filter(|p| *p < times.len())
    }
}
