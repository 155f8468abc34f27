//! [`TieredTable`]: a Strata table as DataFusion sees it.
//!
//! Scans take a snapshot of the hot tier pruned to the query's time range ([`prune`]), cut it
//! into evenly sized partitions for parallel execution, and let DataFusion apply projection,
//! limit and the filters on top. In tiered mode the snapshot also names the HDB version that
//! goes with it, and the scan is the union of both ([`crate::hdb::scan`]). Writes go to the
//! table's [`TableHandle`].

mod dml;
pub mod history;
pub mod prune;
mod sink;

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::{Column, DFSchema, not_impl_err};
use datafusion::datasource::memory::{DataSourceExec, MemorySourceConfig};
use datafusion::datasource::sink::DataSinkExec;
use datafusion::error::Result;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::filter::FilterExecBuilder;
use datafusion::physical_plan::union::UnionExec;
use strata_catalog::time_column_index;

use crate::error::Error;
use crate::hot::Selection;
use crate::store::TableHandle;
use dml::{DmlExec, DmlOp};
use sink::TableSink;

/// One Strata table, readable and writable through DataFusion.
#[derive(Debug)]
pub struct TieredTable {
    table: TableHandle,
    /// Fixed when the provider is created, so one statement sees one schema from planning to end.
    schema: SchemaRef,
    /// What an INSERT that omits a column which holds no NULLs stores: its type's default.
    defaults: HashMap<String, Expr>,
}

impl TieredTable {
    /// A provider over `table` at its current schema.
    pub fn new(table: TableHandle) -> Self {
        let schema = table.schema();
        let defaults = schema
            .fields()
            .iter()
            .filter(|f| !f.is_nullable())
            .filter_map(|f| {
                let value = crate::conform::default_value(f)?;
                Some((f.name().clone(), Expr::Literal(value, None)))
            })
            .collect();
        Self {
            table,
            schema,
            defaults,
        }
    }

    fn time_column(&self) -> Option<&str> {
        time_column_index(&self.schema).map(|i| self.schema.field(i).name().as_str())
    }

    /// Compiles a predicate over this table's columns. Column qualifiers (`t.a`) are dropped: DML
    /// targets exactly one table.
    fn physical(&self, state: &dyn Session, expr: Expr) -> Result<Arc<dyn PhysicalExpr>> {
        self.physical_over(state, expr, &self.schema)
    }

    /// [`Self::physical`] over the columns of `schema` (a projection of the table's).
    fn physical_over(
        &self,
        state: &dyn Session,
        expr: Expr,
        schema: &SchemaRef,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        let expr = expr
            .transform(|e| match e {
                Expr::Column(c) if c.relation.is_some() => Ok(Transformed::yes(Expr::Column(
                    Column::new_unqualified(c.name),
                ))),
                other => Ok(Transformed::no(other)),
            })
            .data()?;
        let df_schema = DFSchema::try_from(Arc::clone(schema))?;
        state.create_physical_expr(expr, &df_schema)
    }

    /// The scan of the HDB version `hdb`: the filters the provider reports as exact (symbol
    /// constraints) are applied to its rows here, reading their columns even when the query
    /// does not project them, and the limit only after them.
    async fn history(
        &self,
        hdb: &crate::hdb::HdbView,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let exact: Vec<Expr> = filters
            .iter()
            .filter(|f| prune::symbol_constraint(f, &self.schema).is_some())
            .cloned()
            .collect();
        let Some(predicate) = conjunction(exact.clone()) else {
            return crate::hdb::scan::scan(hdb, state, &self.schema, projection, filters, limit)
                .await;
        };
        // The columns read: the projection's, then the exact filters' not already in it.
        let read: Option<Vec<usize>> = projection.map(|p| {
            let mut read = p.clone();
            for e in &exact {
                for c in e.column_refs() {
                    if let Ok(i) = self.schema.index_of(&c.name)
                        && !read.contains(&i)
                    {
                        read.push(i);
                    }
                }
            }
            read
        });
        let scan =
            crate::hdb::scan::scan(hdb, state, &self.schema, read.as_ref(), filters, None).await?;
        let read_schema = scan.schema();
        let predicate = self.physical_over(state, predicate, &read_schema)?;
        let keep = projection.map(|p| (0..p.len()).collect::<Vec<_>>());
        let filter = FilterExecBuilder::new(predicate, scan)
            .apply_projection(keep)?
            .with_fetch(limit)
            .build()?;
        Ok(Arc::new(filter))
    }

    fn predicate(
        &self,
        state: &dyn Session,
        filters: Vec<Expr>,
    ) -> Result<Option<Arc<dyn PhysicalExpr>>> {
        conjunction(filters)
            .map(|p| self.physical(state, p))
            .transpose()
    }
}

/// Cuts `batches` into zero-copy slices of at most `batch_rows` rows and deals them into `n`
/// partitions of contiguous slices with about equal row counts (contiguous keeps time order
/// within each partition).
fn partition_batches(
    batches: Vec<RecordBatch>,
    n: usize,
    batch_rows: usize,
) -> Vec<Vec<RecordBatch>> {
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    let n = n.max(1);
    let per_partition = total.div_ceil(n).max(1);
    let mut parts: Vec<Vec<RecordBatch>> = vec![Vec::new(); n];
    let (mut current, mut filled) = (0, 0);
    for batch in batches {
        let mut offset = 0;
        while offset < batch.num_rows() {
            let len = (batch.num_rows() - offset)
                .min(batch_rows.max(1))
                .min(per_partition - filled);
            parts[current].push(batch.slice(offset, len));
            offset += len;
            filled += len;
            if filled >= per_partition && current + 1 < n {
                current += 1;
                filled = 0;
            }
        }
    }
    parts.retain(|p| !p.is_empty());
    if parts.is_empty() {
        parts.push(Vec::new());
    }
    parts
}

#[async_trait]
impl TableProvider for TieredTable {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn get_column_default(&self, column: &str) -> Option<&Expr> {
        self.defaults.get(column)
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let selection = Selection {
            time_range: self
                .time_column()
                .and_then(|tc| prune::time_range(filters, tc)),
            symbols: prune::symbols(filters, &self.schema),
            values: prune::value_ranges(filters, &self.schema),
            columns: projection.cloned(),
        };
        let snapshot = self.table.snapshot(&selection)?;
        if snapshot.schema != self.schema {
            return Err(Error::SchemaChanged(self.table.name().to_string()).into());
        }
        let config = state.config();
        let partitions = partition_batches(
            snapshot.batches,
            config.target_partitions(),
            config.batch_size(),
        );
        // The snapshot's batches hold the projected columns already.
        let projected = match projection {
            Some(p) => Arc::new(self.schema.project(p)?),
            None => Arc::clone(&self.schema),
        };
        let source = MemorySourceConfig::try_new(&partitions, projected, None)?.with_limit(limit);
        let hot: Arc<dyn ExecutionPlan> = DataSourceExec::from_data_source(source);
        let Some(hdb) = &snapshot.hdb else {
            return Ok(hot);
        };
        // The hot rows and the HDB version were taken together: every row is in exactly one.
        let history = self.history(hdb, state, projection, filters, limit).await?;
        UnionExec::try_new(vec![hot, history])
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        // A symbol constraint is applied exactly by the scan (the hot tier's symbol index, a
        // filter over the HDB's rows), so DataFusion neither re-checks it nor reads the column
        // for it; other filters prune partitions, files and pages, and DataFusion applies them
        // row by row.
        Ok(filters
            .iter()
            .map(|f| match prune::symbol_constraint(f, &self.schema) {
                Some(_) => TableProviderFilterPushDown::Exact,
                None => TableProviderFilterPushDown::Inexact,
            })
            .collect())
    }

    async fn insert_into(
        &self,
        _state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
        insert_op: InsertOp,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if insert_op != InsertOp::Append {
            return not_impl_err!("{insert_op} is not supported; use INSERT INTO");
        }
        let sink = TableSink::new(self.table.clone(), Arc::clone(&self.schema));
        Ok(Arc::new(DataSinkExec::new(input, Arc::new(sink), None)))
    }

    async fn delete_from(
        &self,
        state: &dyn Session,
        filters: Vec<Expr>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let op = DmlOp::Delete {
            predicate: self.predicate(state, filters)?,
        };
        Ok(Arc::new(DmlExec::new(
            op,
            self.table.clone(),
            Arc::clone(&self.schema),
        )))
    }

    async fn update(
        &self,
        state: &dyn Session,
        assignments: Vec<(String, Expr)>,
        filters: Vec<Expr>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let assignments = assignments
            .into_iter()
            .map(|(name, value)| {
                let idx = self.schema.index_of(&name)?;
                Ok((idx, self.physical(state, value)?))
            })
            .collect::<Result<Vec<_>>>()?;
        let op = DmlOp::Update {
            predicate: self.predicate(state, filters)?,
            assignments,
        };
        Ok(Arc::new(DmlExec::new(
            op,
            self.table.clone(),
            Arc::clone(&self.schema),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int64Array;

    fn batch(n: i64) -> RecordBatch {
        RecordBatch::try_from_iter(vec![(
            "v",
            Arc::new(Int64Array::from_iter_values(0..n)) as _,
        )])
        .unwrap()
    }

    #[test]
    fn partitions_are_balanced_and_keep_order() {
        let parts = partition_batches(vec![batch(10), batch(5)], 2, 4);
        let rows: Vec<usize> = parts
            .iter()
            .map(|p| p.iter().map(|b| b.num_rows()).sum())
            .collect();
        assert_eq!(rows, [8, 7]);
        assert!(parts.iter().flatten().all(|b| b.num_rows() <= 4));
        assert_eq!(partition_batches(vec![], 4, 8).len(), 1);
        assert_eq!(partition_batches(vec![batch(3)], 4, 8).len(), 3);
    }
}
