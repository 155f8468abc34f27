//! What the as-of and window join operators share: their two inputs ([`Sides`]), the right
//! side's index built once for every left partition ([`SharedIndex`]), the streaming of left
//! batches through a probe ([`stream_through`]) and each left row's group ([`Groups`]).

use std::fmt;
use std::sync::{Arc, Mutex};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    ExecutionPlan, ExecutionPlanProperties, PhysicalExpr, PlanProperties,
};
use futures::future::{BoxFuture, Shared};
use futures::{FutureExt, StreamExt, TryStreamExt};

use super::index::{Keys, TimeIndex, evaluate};

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

    /// The key equalities, for `EXPLAIN`: `l = r, …`.
    pub fn keys_text(&self) -> String {
        let keys: Vec<String> = self
            .left_keys
            .iter()
            .zip(&self.right_keys)
            .map(|(l, r)| format!("{l} = {r}"))
            .collect();
        keys.join(", ")
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
