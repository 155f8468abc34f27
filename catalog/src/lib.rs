//! The Strata catalog: which tables exist, their columns, declared types and options.
//!
//! The catalog owns *names and schemas*, nothing else. It knows nothing of query engines or HTTP:
//! it hands out plain [`TableDefinition`]s that the tiers crate turns into Arrow data and the
//! server turns into DataFusion tables.
//!
//! | file | what it holds |
//! |---|---|
//! | [`types`] | the SQL column types users declare (`SYMBOL`, `TIMESTAMP_NS`, …) and their Arrow mapping |
//! | [`table`] | a table's definition: columns, time column, Arrow schema |
//! | [`name`] | identifier rules that keep table names from escaping the data root |
//! | [`alter`] | ALTER TABLE as a plan: the new definition and the steps that reshape stored rows |
//! | [`registry`] | the [`Catalog`]: create / drop / replace / list, safe under concurrent use |
//! | [`delta`] | a definition's Delta form: schema, declared types in field metadata, options |
//! | [`store`] | the Delta tables behind the catalog: create, open, add columns, drop, load all at start |
//!
//! In tiered mode each table is a Delta table whose metadata is the source of truth; the registry
//! is rebuilt from the [`store`] at start. In pure (memory-only) mode the registry stands alone.

pub mod alter;
pub mod delta;
pub mod error;
pub mod name;
pub mod registry;
pub mod store;
pub mod table;
pub mod types;

pub use alter::{AlterPlan, ColumnChange, LayoutStep};
pub use error::{Error, Result};
pub use registry::Catalog;
pub use store::{HdbLocation, TableStore};
pub use table::{
    ColumnDef, DECLARED_TYPE_METADATA_KEY, TIME_COLUMN_METADATA_KEY, TableDefinition,
    declared_type, is_time_column, time_column_index,
};
pub use types::{ColumnType, LIST_ITEM, MAP_ENTRIES, MAP_KEY, MAP_VALUE};
