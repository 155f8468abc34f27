//! [`HistoricalTable`]: a table as the HDB held it at an older Delta version (time travel).
//! Read-only; the hot rows of today are part of no version.

use std::any::Any;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::ExecutionPlan;

use crate::hdb::HdbView;

/// One Delta version of a table, with the schema it had then.
#[derive(Debug)]
pub struct HistoricalTable {
    schema: SchemaRef,
    hdb: HdbView,
}

impl HistoricalTable {
    /// The version `hdb` read with `schema`.
    pub fn new(schema: SchemaRef, hdb: HdbView) -> Self {
        Self { schema, hdb }
    }
}

#[async_trait]
impl TableProvider for HistoricalTable {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        crate::hdb::scan::scan(&self.hdb, state, &self.schema, projection, filters, limit).await
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }
}
