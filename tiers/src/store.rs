//! [`Tiers`]: the one entry point for table lifecycle and writes.
//!
//! DDL changes the catalog and the hot tier together under one lock, so a query never finds a
//! table in one and not the other. Every write to a table goes through its [`TableHandle`], the
//! place the WAL attaches when durability lands.

use std::sync::Arc;
use std::time::Instant;

use arrow::array::{RecordBatch, new_null_array};
use arrow::datatypes::SchemaRef;
use parking_lot::Mutex;
use strata_catalog::delta::delta_schema;
use strata_catalog::{Catalog, ColumnChange, LayoutStep, TableDefinition, alter};

use crate::error::Result;
use crate::hot::{HotTable, HotTier, Snapshot};
use crate::stats::{TableStats, TierStats};

/// Catalog + hot tier + counters.
#[derive(Debug)]
pub struct Tiers {
    catalog: Arc<Catalog>,
    hot: HotTier,
    stats: Arc<TierStats>,
    /// Serialises DDL so catalog and hot tier change in step.
    ddl: Mutex<()>,
}

impl Tiers {
    /// Tiers over `catalog`, with an empty hot table for every table it already holds.
    pub fn new(catalog: Arc<Catalog>) -> Self {
        let hot = HotTier::default();
        for def in catalog.list() {
            hot.insert(Arc::new(HotTable::new(&def)));
        }
        Self {
            catalog,
            hot,
            stats: Arc::new(TierStats::default()),
            ddl: Mutex::new(()),
        }
    }

    /// The table registry.
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// Process-wide counters.
    pub fn stats(&self) -> &Arc<TierStats> {
        &self.stats
    }

    /// Creates a table. Returns `Ok(false)` if it exists and `if_not_exists` is set.
    pub fn create_table(&self, def: TableDefinition, if_not_exists: bool) -> Result<bool> {
        // A table that cannot be represented in Delta could never leave the hot tier.
        delta_schema(&def)?;
        let _ddl = self.ddl.lock();
        let hot = Arc::new(HotTable::new(&def));
        let created = self.catalog.create(def, if_not_exists)?;
        if created {
            self.hot.insert(hot);
        }
        Ok(created)
    }

    /// Drops a table and its rows. Returns `Ok(false)` if it is absent and `if_exists` is set.
    pub fn drop_table(&self, name: &str, if_exists: bool) -> Result<bool> {
        let _ddl = self.ddl.lock();
        let dropped = self.catalog.drop_table(name, if_exists)?;
        self.hot.remove(name);
        Ok(dropped)
    }

    /// Applies an ALTER TABLE statement's column changes. They run under the DDL lock, so
    /// concurrent ALTERs apply one after the other, and land together or not at all. Returns
    /// false when every change was skipped (`IF [NOT] EXISTS`).
    pub fn alter_table(&self, table: &str, changes: &[ColumnChange]) -> Result<bool> {
        let _ddl = self.ddl.lock();
        let plan = alter::plan(&*self.catalog.get(table)?, changes)?;
        if plan.steps.is_empty() {
            return Ok(false);
        }
        delta_schema(&plan.definition)?;
        self.hot_table(table)?
            .change_schema(&plan.definition, |batch, schema| {
                reshape(batch, schema, &plan.steps)
            })?;
        self.catalog.replace(plan.definition)?;
        Ok(true)
    }

    /// The write and read handle of a table.
    pub fn table(&self, name: &str) -> Result<TableHandle> {
        Ok(TableHandle {
            hot: self.hot_table(name)?,
            stats: Arc::clone(&self.stats),
        })
    }

    /// Size of every table, sorted by name.
    pub fn table_stats(&self) -> Vec<TableStats> {
        self.hot.tables().iter().map(|t| t.stats()).collect()
    }

    fn hot_table(&self, name: &str) -> Result<Arc<HotTable>> {
        self.hot
            .get(name)
            .ok_or_else(|| strata_catalog::Error::TableNotFound(name.to_string()).into())
    }
}

/// `batch` reshaped by an ALTER's steps into `schema`.
fn reshape(batch: &RecordBatch, schema: &SchemaRef, steps: &[LayoutStep]) -> Result<RecordBatch> {
    let mut columns = batch.columns().to_vec();
    for step in steps {
        match *step {
            LayoutStep::Append(ty) => {
                columns.push(new_null_array(&ty.arrow_type(), batch.num_rows()))
            }
            LayoutStep::Remove(idx) => {
                columns.remove(idx);
            }
        }
    }
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}

/// One table's read and write paths.
#[derive(Debug, Clone)]
pub struct TableHandle {
    hot: Arc<HotTable>,
    stats: Arc<TierStats>,
}

impl TableHandle {
    /// Table name.
    pub fn name(&self) -> &str {
        self.hot.name()
    }

    /// Current schema.
    pub fn schema(&self) -> SchemaRef {
        self.hot.schema()
    }

    /// Appends batches built against `schema` (see [`HotTable::append`]); all or nothing.
    pub fn append(&self, schema: &SchemaRef, batches: Vec<RecordBatch>) -> Result<u64> {
        let start = Instant::now();
        let outcome = self.hot.append(schema, batches)?;
        let rows = outcome.rows as u64;
        self.stats
            .record_ingest(rows, start.elapsed().as_nanos() as u64);
        self.stats
            .record_partitions_created(outcome.new_partitions as u64);
        Ok(rows)
    }

    /// Rewrites the table batch by batch (UPDATE, DELETE); see [`HotTable::rewrite`].
    pub fn rewrite(
        &self,
        schema: &SchemaRef,
        change: impl FnMut(&RecordBatch) -> Result<Option<RecordBatch>>,
    ) -> Result<()> {
        self.hot.rewrite(schema, change)
    }

    /// What a scan over `time_range` reads; counts the rows as scanned.
    pub fn snapshot(&self, time_range: Option<(i64, i64)>) -> Snapshot {
        let snap = self.hot.snapshot(time_range);
        self.stats.record_scan(snap.rows as u64);
        snap
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, TimestampNanosecondArray};
    use strata_catalog::{ColumnDef, ColumnType};

    fn def(name: &str) -> TableDefinition {
        TableDefinition::new(
            name,
            vec![
                ColumnDef::new("a", ColumnType::Int64).unwrap(),
                ColumnDef::new("ts", ColumnType::TimestampNs).unwrap(),
            ],
        )
        .unwrap()
    }

    #[test]
    fn ddl_keeps_catalog_and_hot_tier_in_step() {
        let tiers = Tiers::new(Arc::new(Catalog::new()));
        assert!(tiers.create_table(def("t"), false).unwrap());
        assert!(!tiers.create_table(def("t"), true).unwrap());
        assert!(tiers.table("t").is_ok());
        assert!(
            tiers
                .alter_table("t", &[add("b", ColumnType::Bool)])
                .unwrap()
        );
        assert_eq!(tiers.table("t").unwrap().schema().fields().len(), 3);
        assert_eq!(tiers.catalog().get("t").unwrap().columns().len(), 3);
        tiers.alter_table("t", &[drop("a")]).unwrap();
        assert_eq!(tiers.table("t").unwrap().schema().field(0).name(), "ts");
        assert!(tiers.alter_table("t", &[drop("ts")]).is_err());
        assert_eq!(tiers.catalog().get("t").unwrap().columns().len(), 2);
        assert!(tiers.drop_table("t", false).unwrap());
        assert!(tiers.table("t").is_err());
    }

    fn add(name: &str, ty: ColumnType) -> ColumnChange {
        ColumnChange::Add {
            column: ColumnDef::new(name, ty).unwrap(),
            if_not_exists: false,
        }
    }

    fn drop(name: &str) -> ColumnChange {
        ColumnChange::Drop {
            name: name.into(),
            if_exists: false,
        }
    }

    #[test]
    fn alter_reshapes_stored_rows_in_statement_order() {
        let tiers = Tiers::new(Arc::new(Catalog::new()));
        tiers.create_table(def("t"), false).unwrap();
        let handle = tiers.table("t").unwrap();
        let schema = handle.schema();
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(Int64Array::from(vec![7])),
                Arc::new(TimestampNanosecondArray::from(vec![1]).with_timezone("UTC")),
            ],
        )
        .unwrap();
        handle.append(&schema, vec![batch]).unwrap();
        let changes = [
            add("b", ColumnType::Bool),
            drop("a"),
            add("a", ColumnType::Int64),
        ];
        tiers.alter_table("t", &changes).unwrap();
        let snap = tiers.table("t").unwrap().snapshot(None);
        let names: Vec<_> = snap
            .schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, ["ts", "b", "a"]);
        let row = &snap.batches[0];
        assert_eq!(row.num_rows(), 1);
        assert_eq!(
            row.column(0).null_count(),
            0,
            "the time column keeps its value"
        );
        assert_eq!(
            row.column(2).null_count(),
            1,
            "a re-added column starts empty"
        );
    }
}
