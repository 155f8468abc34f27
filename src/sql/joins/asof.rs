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
use std::sync::{Arc, Mutex};

use arrow::array::{ArrayRef, RecordBatch, UInt32Array};
use arrow::compute::take;
use arrow::datatypes::SchemaRef;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PhysicalExpr,
    PlanProperties,
};
use futures::future::{BoxFuture, Shared};
use futures::{FutureExt, StreamExt, TryStreamExt};

use super::index::{Keys, TimeIndex, Times, evaluate};
use super::node::Direction;

/// The two inputs of a time join and how their rows meet.
#[derive(Debug, Clone)]
pub struct Sides {
    /// The left input, streamed.
    pub left: Arc<dyn ExecutionPlan>,
    /// The right input, indexed.
    pub right: Arc<dyn ExecutionPlan>,
    /// The left keys.
    pub left_keys: Vec<Arc<dyn PhysicalExpr>>,
    /// The right keys, of the same types.
    pub right_keys: Vec<Arc<dyn PhysicalExpr>>,
    /// The right time.
    pub right_time: Arc<dyn PhysicalExpr>,
}

impl Sides {
    /// These sides over new inputs.
    pub fn with_inputs(&self, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Self> {
        let [left, right]: [Arc<dyn ExecutionPlan>; 2] = children
            .try_into()
            .map_err(|_| DataFusionError::Internal("a time join has two inputs".into()))?;
        Ok(Self {
            left,
            right,
            ..self.clone()
        })
    }

    /// The left input's partitioning and order, kept by the join (the left columns come
    /// first, so the left's sort expressions name the same columns of the output).
    pub fn properties(&self, schema: &SchemaRef) -> Arc<PlanProperties> {
        let orderings = self.left.output_ordering().cloned();
        Arc::new(PlanProperties::new(
            EquivalenceProperties::new_with_orderings(Arc::clone(schema), orderings),
            self.left.output_partitioning().clone(),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ))
    }
}

/// A built index, with the memory it holds reserved.
#[derive(Debug)]
pub struct Built {
    /// The index.
    pub index: TimeIndex,
    _reservation: MemoryReservation,
}

type SharedBuild =
    Shared<BoxFuture<'static, std::result::Result<Arc<Built>, Arc<DataFusionError>>>>;

/// The right side's index, built by the first left partition that asks and shared by all.
#[derive(Default)]
pub struct SharedIndex {
    build: Mutex<Option<SharedBuild>>,
}

impl fmt::Debug for SharedIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedIndex")
    }
}

impl SharedIndex {
    /// The future of the index of `sides`' right input.
    pub fn get(&self, sides: &Sides, name: &str, context: &Arc<TaskContext>) -> SharedBuild {
        let mut build = self
            .build
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        build
            .get_or_insert_with(|| {
                let right = Arc::clone(&sides.right);
                let keys = sides.right_keys.clone();
                let time = Arc::clone(&sides.right_time);
                let context = Arc::clone(context);
                let consumer = MemoryConsumer::new(format!("{name}[right side]"));
                async move {
                    let schema = right.schema();
                    let reservation = consumer.register(context.memory_pool());
                    let mut stream = datafusion::physical_plan::execute_stream(right, context)?;
                    let mut batches = Vec::new();
                    while let Some(batch) = stream.next().await {
                        let batch = batch?;
                        reservation.try_grow(batch.get_array_memory_size())?;
                        batches.push(batch);
                    }
                    let index = TimeIndex::build(&schema, &batches, &keys, &time)?;
                    drop(batches);
                    reservation.try_resize(index.size())?;
                    Ok(Arc::new(Built {
                        index,
                        _reservation: reservation,
                    }))
                }
                .map(|r: Result<Arc<Built>>| r.map_err(Arc::new))
                .boxed()
                .shared()
            })
            .clone()
    }
}

/// Streams `left` through `probe` once the index is built.
pub fn stream_through(
    left: SendableRecordBatchStream,
    build: SharedBuild,
    schema: SchemaRef,
    probe: impl Fn(&RecordBatch, &TimeIndex) -> Result<RecordBatch> + Send + Sync + 'static,
) -> SendableRecordBatchStream {
    let probe = Arc::new(probe);
    let out = left.and_then(move |batch| {
        let build = build.clone();
        let probe = Arc::clone(&probe);
        async move {
            let built = build.await.map_err(DataFusionError::Shared)?;
            probe(&batch, &built.index)
        }
    });
    Box::pin(RecordBatchStreamAdapter::new(schema, out))
}

/// The group of each left row, remembering the last row's (rows of one symbol often come
/// together, and then the lookup is a comparison of two keys).
#[derive(Debug)]
pub struct Groups<'a> {
    index: &'a TimeIndex,
    keys: Keys,
    /// The last row looked up, and its group.
    last: Option<(usize, Option<usize>)>,
}

impl<'a> Groups<'a> {
    /// The groups of `batch`'s rows under `keys`.
    pub fn new(
        index: &'a TimeIndex,
        keys: &[Arc<dyn PhysicalExpr>],
        batch: &RecordBatch,
    ) -> Result<Self> {
        let arrays = evaluate(keys, batch)?;
        Ok(Self {
            index,
            keys: index.encode(&arrays, batch.num_rows())?,
            last: None,
        })
    }

    /// Row `i`'s group, if any right row shares its keys.
    pub fn of(&mut self, i: usize) -> Option<usize> {
        let key = self.keys.get(i)?;
        if let Some((row, group)) = self.last
            && self.keys.get(row) == Some(key)
        {
            return group;
        }
        let group = self.index.group(key);
        self.last = Some((i, group));
        group
    }
}

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
        let keys: Vec<String> = self
            .sides
            .left_keys
            .iter()
            .zip(&self.sides.right_keys)
            .map(|(l, r)| format!("{l} = {r}"))
            .collect();
        write!(
            f,
            "AsofJoinExec: on=[{}], time={} {} {}, keep_unmatched={}, left_only={}",
            keys.join(", "),
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
