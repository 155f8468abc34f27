//! Symbol scope as a row policy: for a caller whose identity allows only some symbols, every
//! table it reads is wrapped ([`RowPolicyTable`]) so that its scan yields only those symbols'
//! rows, beneath everything the query itself does.
//!
//! The policy is an execution node of its own ([`RowPolicyExec`]) directly over the table's
//! scan. The user's predicates are never pushed into the scan (the wrapper reports them
//! unsupported) and DataFusion pushes no filter through a node it does not know, so each
//! predicate runs only on rows the policy let through: `CASE WHEN symbol = 'MSFT' THEN 1/0 …`
//! cannot fail on a hidden row and so cannot reveal it. Batches the policy empties are dropped,
//! not passed on empty. No statistics are reported through the
//! wrapper either, so `count(*)` is never answered from the whole table's figures.

use std::any::Any;
use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, BooleanArray, RecordBatch, StringArray};
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::{DataType, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use futures::StreamExt;

/// The symbols a caller may see.
pub type Symbols = Arc<BTreeSet<String>>;

/// A table whose scans yield only the allowed symbols' rows.
#[derive(Debug)]
pub struct RowPolicyTable {
    inner: Arc<dyn TableProvider>,
    /// The symbol column's index in the table's schema.
    column: usize,
    allowed: Symbols,
}

impl RowPolicyTable {
    /// `inner` restricted to rows whose column `column` is one of `allowed`.
    pub fn new(inner: Arc<dyn TableProvider>, column: usize, allowed: Symbols) -> Self {
        RowPolicyTable {
            inner,
            column,
            allowed,
        }
    }
}

#[async_trait]
impl TableProvider for RowPolicyTable {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(vec![
            TableProviderFilterPushDown::Unsupported;
            filters.len()
        ])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        // A limit below the policy would count hidden rows: DataFusion keeps its own above.
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        // The scan must carry the symbol column for the policy to read, even when the query
        // does not select it; it is projected away again afterwards.
        let (inner_projection, at, keep) = match projection {
            None => (None, self.column, None),
            Some(p) => match p.iter().position(|&c| c == self.column) {
                Some(at) => (Some(p.clone()), at, None),
                None => {
                    let mut widened = p.clone();
                    widened.push(self.column);
                    (Some(widened), p.len(), Some(p.len()))
                }
            },
        };
        let input = self
            .inner
            .scan(state, inner_projection.as_ref(), &[], None)
            .await?;
        Ok(Arc::new(RowPolicyExec::new(
            input,
            at,
            Arc::clone(&self.allowed),
            keep,
        )))
    }
}

/// Keeps the rows of `input` whose column `column` is an allowed symbol; with `keep = Some(n)`,
/// only the first `n` columns go on.
#[derive(Debug)]
pub struct RowPolicyExec {
    input: Arc<dyn ExecutionPlan>,
    column: usize,
    allowed: Symbols,
    keep: Option<usize>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl RowPolicyExec {
    fn new(
        input: Arc<dyn ExecutionPlan>,
        column: usize,
        allowed: Symbols,
        keep: Option<usize>,
    ) -> Self {
        let schema = match keep {
            None => input.schema(),
            // The first n fields: the query's projection, without the symbol column added to it.
            Some(n) => {
                let all = input.schema();
                Arc::new(arrow::datatypes::Schema::new_with_metadata(
                    all.fields()[..n].to_vec(),
                    all.metadata().clone(),
                ))
            }
        };
        let inner = input.properties();
        let (equivalences, partitioning) = match keep {
            // Rows are only removed: orderings and partitioning still hold.
            None => (
                inner.equivalence_properties().clone(),
                inner.output_partitioning().clone(),
            ),
            Some(_) => (
                EquivalenceProperties::new(Arc::clone(&schema)),
                Partitioning::UnknownPartitioning(inner.output_partitioning().partition_count()),
            ),
        };
        let properties = Arc::new(PlanProperties::new(
            equivalences,
            partitioning,
            inner.emission_type,
            inner.boundedness,
        ));
        RowPolicyExec {
            input,
            column,
            allowed,
            keep,
            schema,
            properties,
        }
    }
}

/// The rows of `batch` whose column `column` holds an allowed symbol (never a null).
fn allowed_rows(
    batch: &RecordBatch,
    column: usize,
    allowed: &BTreeSet<String>,
) -> Result<BooleanArray> {
    let values = batch.column(column);
    let strings = if values.data_type() == &DataType::Utf8 {
        Arc::clone(values)
    } else {
        cast(values, &DataType::Utf8)?
    };
    let strings = strings
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| DataFusionError::Internal("symbol column is not text".into()))?;
    Ok(strings
        .iter()
        .map(|s| Some(s.is_some_and(|s| allowed.contains(s))))
        .collect())
}

fn apply(
    batch: RecordBatch,
    column: usize,
    allowed: &BTreeSet<String>,
    keep: Option<usize>,
    schema: &SchemaRef,
) -> Result<RecordBatch> {
    let mask = allowed_rows(&batch, column, allowed)?;
    let kept = filter_record_batch(&batch, &mask)?;
    Ok(match keep {
        None => kept,
        Some(n) => {
            let columns = kept.columns()[..n].to_vec();
            let options =
                arrow::array::RecordBatchOptions::new().with_row_count(Some(kept.num_rows()));
            RecordBatch::try_new_with_options(Arc::clone(schema), columns, &options)?
        }
    })
}

impl DisplayAs for RowPolicyExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RowPolicyExec: {} allowed symbol(s)", self.allowed.len())
    }
}

impl ExecutionPlan for RowPolicyExec {
    fn name(&self) -> &str {
        "RowPolicyExec"
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
            Some(input) if children.is_empty() => Ok(Arc::new(RowPolicyExec::new(
                input,
                self.column,
                Arc::clone(&self.allowed),
                self.keep,
            ))),
            _ => Err(DataFusionError::Internal(
                "RowPolicyExec takes one input".into(),
            )),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let (column, keep) = (self.column, self.keep);
        let allowed = Arc::clone(&self.allowed);
        let schema = Arc::clone(&self.schema);
        let out = Arc::clone(&schema);
        let stream = self
            .input
            .execute(partition, context)?
            .map(move |batch| apply(batch?, column, &allowed, keep, &out))
            // An emptied batch says "a batch of hidden rows was here", and an operator above
            // may evaluate a constant expression on an empty batch (`1/0` fails there): pass
            // on only batches with rows.
            .filter(|batch| futures::future::ready(!matches!(batch, Ok(b) if b.num_rows() == 0)));
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int64Array;
    use arrow::datatypes::{Field, Schema};

    #[test]
    fn only_allowed_symbols_pass() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("v", DataType::Int64, false),
            Field::new("symbol", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(Int64Array::from(vec![1, 2, 3, 4])),
                Arc::new(StringArray::from(vec![
                    Some("AAPL"),
                    Some("MSFT"),
                    None,
                    Some("AAPL"),
                ])),
            ],
        )
        .unwrap();
        let allowed: BTreeSet<String> = ["AAPL".to_string()].into();
        let kept = apply(batch.clone(), 1, &allowed, None, &schema).unwrap();
        assert_eq!(kept.num_rows(), 2);
        let narrow = Arc::new(schema.project(&[0]).unwrap());
        let projected = apply(batch, 1, &allowed, Some(1), &narrow).unwrap();
        assert_eq!((projected.num_rows(), projected.num_columns()), (2, 1));
    }
}
