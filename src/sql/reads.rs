//! What a query read: the rows and bytes that came out of its scans.
//!
//! Clients show these figures (ClickHouse's `X-ClickHouse-Summary` and progress headers, the
//! `statistics` of its JSON formats, ZeptoDB's `rows_scanned`), and they tell a user whether a
//! filter pruned anything. DataFusion's scan metrics cannot give them for every source (the
//! in-memory one keeps none), so the physical plan's leaves are wrapped in [`CountedScan`],
//! which passes each batch through and adds its rows and bytes to the query's [`ReadCounter`].
//! The count is what the scans produced after pruning and pushed-down filters, as ClickHouse
//! reports rows read after its index.

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::Result;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::analyze::AnalyzeExec;
use datafusion::physical_plan::explain::ExplainExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, Statistics,
};
use futures::StreamExt;

/// Rows and bytes read by one query.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Rows its scans produced.
    pub rows: u64,
    /// The in-memory size of those rows' columns.
    pub bytes: u64,
}

/// The running totals of one query, shared by its scans.
#[derive(Debug, Default)]
pub struct ReadCounter {
    rows: AtomicU64,
    bytes: AtomicU64,
}

impl ReadCounter {
    /// The totals so far.
    pub fn stats(&self) -> ReadStats {
        ReadStats {
            rows: self.rows.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }

    fn add(&self, batch: &RecordBatch) {
        self.rows
            .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
        let bytes: usize = batch
            .columns()
            .iter()
            // A slice's own bytes, not the whole buffers it shares with other batches.
            .map(|c| {
                c.to_data()
                    .get_slice_memory_size()
                    .unwrap_or_else(|_| c.get_array_memory_size())
            })
            .sum();
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }
}

/// `plan` with every leaf counted into `counter`. `EXPLAIN` plans are left as they are: what
/// they read is the plan's text, and `EXPLAIN ANALYZE` shows the operators as planned.
pub fn count(
    plan: Arc<dyn ExecutionPlan>,
    counter: &Arc<ReadCounter>,
) -> Result<Arc<dyn ExecutionPlan>> {
    if plan.as_any().is::<ExplainExec>() || plan.as_any().is::<AnalyzeExec>() {
        return Ok(plan);
    }
    plan.transform_up(|node| {
        if node.children().is_empty() {
            Ok(Transformed::yes(Arc::new(CountedScan {
                input: node,
                counter: Arc::clone(counter),
            }) as Arc<dyn ExecutionPlan>))
        } else {
            Ok(Transformed::no(node))
        }
    })
    .map(|t| t.data)
}

/// A scan whose batches are counted as they pass.
#[derive(Debug)]
pub struct CountedScan {
    input: Arc<dyn ExecutionPlan>,
    counter: Arc<ReadCounter>,
}

impl DisplayAs for CountedScan {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountedScan")
    }
}

impl ExecutionPlan for CountedScan {
    fn name(&self) -> &str {
        "CountedScan"
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match (children.pop(), children.is_empty()) {
            (Some(input), true) => Ok(Arc::new(Self {
                input,
                counter: Arc::clone(&self.counter),
            })),
            _ => Err(datafusion::error::DataFusionError::Internal(
                "CountedScan takes exactly one input".into(),
            )),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let stream = self.input.execute(partition, context)?;
        let schema = stream.schema();
        let counter = Arc::clone(&self.counter);
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            schema,
            stream.map(move |batch| {
                if let Ok(batch) = &batch {
                    counter.add(batch);
                }
                batch
            }),
        )))
    }

    fn partition_statistics(&self, partition: Option<usize>) -> Result<Statistics> {
        self.input.partition_statistics(partition)
    }
}

#[cfg(test)]
mod tests {
    use datafusion::physical_plan::{collect, displayable};
    use datafusion::prelude::SessionContext;

    use super::*;

    #[tokio::test]
    async fn every_scan_is_counted_once() {
        let ctx = SessionContext::new();
        ctx.sql("CREATE TABLE t AS VALUES (1, 'a'), (2, 'b'), (3, 'c')")
            .await
            .unwrap();
        let frame = ctx
            .sql("SELECT a.column1 FROM t a JOIN t b ON a.column1 = b.column1 WHERE a.column1 > 1")
            .await
            .unwrap();
        let task = Arc::new(frame.task_ctx());
        let plan = frame.create_physical_plan().await.unwrap();
        let counter = Arc::new(ReadCounter::default());
        let plan = count(plan, &counter).unwrap();
        let text = displayable(plan.as_ref()).indent(true).to_string();
        assert_eq!(text.matches("CountedScan").count(), 2, "{text}");
        let rows: usize = collect(plan, task)
            .await
            .unwrap()
            .iter()
            .map(RecordBatch::num_rows)
            .sum();
        assert_eq!(rows, 2);
        let read = counter.stats();
        // Both sides read the whole three-row table: the filter runs above the scans.
        assert_eq!(read.rows, 6);
        assert!(read.bytes > 0);
    }

    #[tokio::test]
    async fn explain_is_not_wrapped() {
        let ctx = SessionContext::new();
        let frame = ctx.sql("EXPLAIN SELECT 1").await.unwrap();
        let plan = frame.create_physical_plan().await.unwrap();
        let counter = Arc::new(ReadCounter::default());
        let plan = count(plan, &counter).unwrap();
        assert!(plan.as_any().is::<ExplainExec>());
    }
}
