//! The DataFusion session every query runs in: Strata's tables, functions and analyzer rules.
//!
//! One template [`SessionContext`] is built at start; each query clones its state (cheap: the
//! registries are `Arc`s), so queries never share mutable planning state.

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{MemoryCatalogProvider, SchemaProvider, TableProvider};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use strata_tiers::{HistoricalTable, TieredTable, Tiers};

use super::{analyzer, udf};

/// The catalog and schema names Strata's tables live under in DataFusion.
pub const CATALOG: &str = "strata";
/// See [`CATALOG`].
pub const SCHEMA: &str = "public";

/// A session with every Strata table, function and rule registered.
pub fn context(tiers: Arc<Tiers>, parallelism: usize) -> SessionContext {
    let config = SessionConfig::new()
        .with_target_partitions(parallelism)
        .with_default_catalog_and_schema(CATALOG, SCHEMA)
        .with_information_schema(false);
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .with_analyzer_rules(analyzer::rules())
        .build();
    let ctx = SessionContext::new_with_state(state);
    let catalog = MemoryCatalogProvider::new();
    // A fresh memory catalog has no schemas, so this cannot collide with an existing one.
    let _ = datafusion::catalog::CatalogProvider::register_schema(
        &catalog,
        SCHEMA,
        Arc::new(StrataSchema { tiers }),
    );
    ctx.register_catalog(CATALOG, Arc::new(catalog));
    udf::register(&ctx);
    ctx
}

/// Exposes the tiers' tables to DataFusion, resolved by name at planning time.
#[derive(Debug)]
struct StrataSchema {
    tiers: Arc<Tiers>,
}

#[async_trait]
impl SchemaProvider for StrataSchema {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn table_names(&self) -> Vec<String> {
        self.tiers
            .catalog()
            .list()
            .iter()
            .map(|t| t.name().to_string())
            .collect()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        if let Some((table, as_of)) = super::parser::history::versioned_name(name) {
            let as_of = as_of.map_err(DataFusionError::Plan)?;
            let (def, hdb) = self
                .tiers
                .table_as_of(table, &as_of)
                .await
                .map_err(|e| DataFusionError::External(Box::new(e)))?;
            return Ok(Some(Arc::new(HistoricalTable::new(
                def.arrow_schema(),
                hdb,
            ))));
        }
        Ok(self
            .tiers
            .table(name)
            .ok()
            .map(|t| Arc::new(TieredTable::new(t)) as Arc<dyn TableProvider>))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.tiers.catalog().contains(name)
    }
}
