//! The DataFusion session every query runs in: Strata's tables, functions, analyzer rules,
//! kdb+'s joins (`super::joins`) and the yield points above joins (`super::yield_points`).
//!
//! One template [`SessionContext`] is built at start; each query clones its state (cheap: the
//! registries are `Arc`s), so queries never share mutable planning state.

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{
    CatalogProviderList, MemoryCatalogProvider, MemoryCatalogProviderList, SchemaProvider,
    TableProvider,
};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SessionState, SessionStateBuilder};
use datafusion::prelude::{SessionConfig, SessionContext};
use strata_tiers::{HistoricalTable, TieredTable, Tiers};

use super::joins::node::TimeJoinQueryPlanner;
use super::joins::plan::KdbJoinPlanner;
use super::joins::pushdown::FiltersThroughTimeJoins;
use super::policy::{RowPolicyTable, Symbols};
use super::yield_points::YieldAboveJoins;
use super::{analyzer, udf};
use strata_catalog::{ColumnType, TableDefinition};

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
        .with_physical_optimizer_rule(Arc::new(YieldAboveJoins))
        .with_relation_planners(vec![Arc::new(KdbJoinPlanner)])
        .with_optimizer_rule(Arc::new(FiltersThroughTimeJoins))
        .with_query_planner(Arc::new(TimeJoinQueryPlanner))
        .build();
    let ctx = SessionContext::new_with_state(state);
    ctx.register_catalog(CATALOG, strata_catalog(tiers, None, None));
    udf::register(&ctx);
    ctx
}

/// The state a statement is planned in: the session's, with every table it resolves wrapped
/// in the row policy of `symbols` for a symbol-scoped caller (`super::policy`), and with the
/// caller's view of ClickHouse's `system` database when the statement reads it.
pub fn state_for(
    ctx: &SessionContext,
    tiers: Arc<Tiers>,
    symbols: Option<Symbols>,
    system: Option<Arc<dyn SchemaProvider>>,
) -> SessionState {
    if symbols.is_none() && system.is_none() {
        return ctx.state();
    }
    let list = MemoryCatalogProviderList::new();
    list.register_catalog(CATALOG.to_string(), strata_catalog(tiers, symbols, system));
    SessionStateBuilder::new_from_existing(ctx.state())
        .with_catalog_list(Arc::new(list))
        .build()
}

/// Every function a statement can call, and whether it aggregates (`system.functions`).
pub fn function_names(ctx: &SessionContext) -> Vec<(String, bool)> {
    let state = ctx.state();
    let scalar = state.scalar_functions().keys().map(|n| (n.clone(), false));
    let aggregate = state
        .aggregate_functions()
        .keys()
        .map(|n| (n.clone(), true));
    scalar.chain(aggregate).collect()
}

/// Strata's catalog: one schema holding every table, also reachable as ClickHouse's database
/// `default`; and `system` when given.
fn strata_catalog(
    tiers: Arc<Tiers>,
    policy: Option<Symbols>,
    system: Option<Arc<dyn SchemaProvider>>,
) -> Arc<dyn datafusion::catalog::CatalogProvider> {
    let catalog = MemoryCatalogProvider::new();
    let tables: Arc<dyn SchemaProvider> = Arc::new(StrataSchema { tiers, policy });
    // A fresh memory catalog has no schemas, so these cannot collide with existing ones.
    let _ = datafusion::catalog::CatalogProvider::register_schema(
        &catalog,
        SCHEMA,
        Arc::clone(&tables),
    );
    let _ = datafusion::catalog::CatalogProvider::register_schema(
        &catalog,
        super::system::DEFAULT_DATABASE,
        tables,
    );
    if let Some(system) = system {
        let _ = datafusion::catalog::CatalogProvider::register_schema(
            &catalog,
            super::system::DATABASE,
            system,
        );
    }
    Arc::new(catalog)
}

/// Exposes the tiers' tables to DataFusion, resolved by name at planning time; with a policy,
/// each wrapped so that only the allowed symbols' rows are read.
#[derive(Debug)]
struct StrataSchema {
    tiers: Arc<Tiers>,
    policy: Option<Symbols>,
}

impl StrataSchema {
    /// `provider` under the policy, if there is one. A table with no SYMBOL column cannot be
    /// filtered by symbol, so a symbol-scoped caller cannot read it at all.
    fn guard(
        &self,
        def: &TableDefinition,
        provider: Arc<dyn TableProvider>,
    ) -> Result<Arc<dyn TableProvider>> {
        let Some(symbols) = &self.policy else {
            return Ok(provider);
        };
        let symbol_columns: Vec<&str> = def
            .columns()
            .iter()
            .filter(|c| c.ty == ColumnType::Symbol)
            .map(|c| c.name.as_str())
            .collect();
        let column = symbol_columns
            .iter()
            .find(|c| **c == "symbol")
            .or(symbol_columns.first())
            .and_then(|name| provider.schema().index_of(name).ok())
            .ok_or_else(|| {
                DataFusionError::External(Box::new(crate::auth::Error::NoSymbolColumn {
                    table: def.name().to_string(),
                }))
            })?;
        Ok(Arc::new(RowPolicyTable::new(
            provider,
            column,
            Arc::clone(symbols),
        )))
    }
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
            let provider = Arc::new(HistoricalTable::new(def.arrow_schema(), hdb));
            return self.guard(&def, provider).map(Some);
        }
        let Ok(table) = self.tiers.table(name) else {
            return Ok(None);
        };
        let provider: Arc<dyn TableProvider> = Arc::new(TieredTable::new(table));
        match &self.policy {
            None => Ok(Some(provider)),
            Some(_) => {
                let def = self
                    .tiers
                    .catalog()
                    .get(name)
                    .map_err(|e| DataFusionError::External(Box::new(e)))?;
                self.guard(&def, provider).map(Some)
            }
        }
    }

    fn table_exist(&self, name: &str) -> bool {
        self.tiers.catalog().contains(name)
    }
}
