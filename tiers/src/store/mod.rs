//! [`Tiers`]: the one entry point for table lifecycle and writes.
//!
//! | file | what it holds |
//! |---|---|
//! | `mod.rs` | opening (HDB load + WAL replay), DDL, table handles |
//! | [`handle`] | one table's write path (WAL, then hot tier), UPDATE/DELETE, snapshots |
//! | `flushing` | flushes, memory budget, retries, compaction, vacuum, TTL |
//! | [`history`] | time travel: older Delta versions, `DESCRIBE HISTORY` |
//! | [`background`] | the maintenance loop (flush policy, compaction, TTL) and its graceful stop |
//!
//! DDL changes the catalog and the hot tier together under one lock, so a query never finds a
//! table in one and not the other. Every write to a table goes through its [`TableHandle`]:
//! WAL record first, then the hot tier.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{RecordBatch, new_null_array};
use arrow::datatypes::SchemaRef;
use parking_lot::RwLock;
use strata_catalog::delta::delta_schema;
use strata_catalog::{
    Catalog, ColumnChange, HdbLocation, LayoutStep, TableDefinition, TableStore, alter,
};

pub mod background;
mod flushing;
pub mod handle;
pub mod history;

pub use background::{Maintenance, MaintenanceSettings};
pub use handle::{TableHandle, Written};
pub use history::{AsOf, HistoryEntry};

use crate::conform::conform_batch;
use crate::error::{Error, Result};
use crate::hdb::layout::FileLayout;
use crate::hdb::{HdbTable, flushed_seq};
use crate::hot::{HotTable, HotTier};
use crate::stats::{TableStats, TierStats};
use crate::wal::{Wal, WalConfig, WalError, WalStats};

/// Where a tiered server keeps its data.
#[derive(Debug, Clone)]
pub struct TieredConfig {
    /// The HDB root (local directory or S3).
    pub location: HdbLocation,
    /// The write-ahead log.
    pub wal: WalConfig,
    /// How HDB files are cut and encoded.
    pub layout: FileLayout,
}

/// Catalog + hot tier (+ WAL and HDB in tiered mode) + counters.
#[derive(Debug)]
pub struct Tiers {
    catalog: Arc<Catalog>,
    hot: HotTier,
    stats: Arc<TierStats>,
    /// Serialises DDL so catalog, hot tier and HDB change in step.
    ddl: tokio::sync::Mutex<()>,
    /// WAL and HDB; `None` in memory-only mode.
    durable: Option<Durable>,
    /// Most Arrow bytes the hot tier may hold before writes get back-pressure.
    budget: std::sync::atomic::AtomicUsize,
    /// Tables whose last flush failed: when to try again (exponential backoff).
    retry: parking_lot::Mutex<HashMap<String, flushing::Retry>>,
}

#[derive(Debug)]
struct Durable {
    store: TableStore,
    layout: FileLayout,
    wal: Arc<Wal>,
    tables: RwLock<BTreeMap<String, Arc<HdbTable>>>,
}

impl Tiers {
    /// Memory-only tiers over `catalog`, with an empty hot table for every table it holds.
    pub fn new(catalog: Arc<Catalog>) -> Self {
        let hot = HotTier::default();
        for def in catalog.list() {
            hot.insert(Arc::new(HotTable::new(&def)));
        }
        Self {
            catalog,
            hot,
            stats: Arc::new(TierStats::default()),
            ddl: tokio::sync::Mutex::new(()),
            durable: None,
            budget: std::sync::atomic::AtomicUsize::new(usize::MAX),
            retry: parking_lot::Mutex::default(),
        }
    }

    /// Tiered mode: loads every table from the HDB, then replays the WAL records the HDB does not
    /// hold yet into the hot tier.
    pub async fn open(config: TieredConfig) -> Result<Self> {
        config.location.create_local_root()?;
        let store = TableStore::new(config.location);
        let catalog = Arc::new(Catalog::new());
        let hot = HotTier::default();
        let mut tables = BTreeMap::new();
        // table id → (name, highest WAL sequence already in the HDB)
        let mut flushed: HashMap<String, (String, u64)> = HashMap::new();
        let mut high_water = 0;
        for (def, delta) in store.load_all().await? {
            let seq = flushed_seq(&delta).await?;
            high_water = high_water.max(seq);
            let hdb = Arc::new(HdbTable::new(delta.clone(), config.layout)?);
            let table = Arc::new(HotTable::new(&def));
            table.set_hdb(Arc::new(delta));
            flushed.insert(hdb.id().to_string(), (def.name().to_string(), seq));
            tables.insert(def.name().to_string(), hdb);
            hot.insert(table);
            catalog.create(def, false)?;
        }
        let (mut replayed, mut skipped) = (0u64, 0u64);
        let wal = Wal::open(config.wal, high_water + 1, |record| {
            // The tiers tag each record with its table's identity.
            let Some((name, done)) = flushed.get(&record.tag) else {
                skipped += 1; // a dropped table
                return Ok(());
            };
            if record.seq <= *done {
                return Ok(());
            }
            let replay_error = |e: Error| {
                WalError::Format(format!(
                    "cannot replay record {} into table '{name}': {e}",
                    record.seq
                ))
            };
            let table = hot
                .get(name)
                .ok_or_else(|| replay_error(Error::InvalidData("table is gone".into())))?;
            let schema = table.schema();
            let batches = record
                .batches
                .iter()
                .map(|b| conform_batch(name, &schema, b))
                .collect::<Result<Vec<_>>>()
                .map_err(replay_error)?;
            let outcome = table
                .append_logged(&schema, batches, Some(record.seq))
                .map_err(replay_error)?;
            replayed += outcome.rows as u64;
            Ok(())
        })?;
        tracing::info!(
            target: "tiers",
            tables = tables.len(),
            replayed_rows = replayed,
            skipped_records = skipped,
            "loaded the HDB and replayed the WAL"
        );
        Ok(Self {
            catalog,
            hot,
            stats: Arc::new(TierStats::default()),
            ddl: tokio::sync::Mutex::new(()),
            durable: Some(Durable {
                store,
                layout: config.layout,
                wal,
                tables: RwLock::new(tables),
            }),
            budget: std::sync::atomic::AtomicUsize::new(usize::MAX),
            retry: parking_lot::Mutex::default(),
        })
    }

    /// The table registry.
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// Process-wide counters.
    pub fn stats(&self) -> &Arc<TierStats> {
        &self.stats
    }

    /// Whether writes are logged and flushed to an HDB.
    pub fn is_tiered(&self) -> bool {
        self.durable.is_some()
    }

    /// WAL figures (tiered mode).
    pub fn wal_stats(&self) -> Option<WalStats> {
        self.durable.as_ref().map(|d| d.wal.stats())
    }

    /// Creates a table. Returns `Ok(false)` if it exists and `if_not_exists` is set.
    pub async fn create_table(&self, def: TableDefinition, if_not_exists: bool) -> Result<bool> {
        // A table that cannot be represented in Delta could never leave the hot tier.
        delta_schema(&def)?;
        let _ddl = self.ddl.lock().await;
        if self.catalog.contains(def.name()) {
            // Let the catalog produce the same answer (and error) as in memory-only mode.
            return Ok(self.catalog.create(def, if_not_exists)?);
        }
        let hot = Arc::new(HotTable::new(&def));
        if let Some(durable) = &self.durable {
            let delta = durable.store.create(&def).await?;
            hot.set_hdb(Arc::new(delta.clone()));
            durable.tables.write().insert(
                def.name().to_string(),
                Arc::new(HdbTable::new(delta, durable.layout)?),
            );
        }
        let created = self.catalog.create(def, if_not_exists)?;
        if created {
            self.hot.insert(hot);
        }
        Ok(created)
    }

    /// Drops a table and its rows (in tiered mode, its HDB files too). Returns `Ok(false)` if it
    /// is absent and `if_exists` is set.
    pub async fn drop_table(&self, name: &str, if_exists: bool) -> Result<bool> {
        let _ddl = self.ddl.lock().await;
        let dropped = self.catalog.drop_table(name, if_exists)?;
        self.hot.remove(name);
        if dropped && let Some(durable) = &self.durable {
            durable.tables.write().remove(name);
            // Its WAL records are skipped at replay: their table id is gone.
            durable.store.drop(name).await?;
        }
        Ok(dropped)
    }

    /// Applies an ALTER TABLE statement's column changes. They run under the DDL lock, so
    /// concurrent ALTERs apply one after the other, and land together or not at all. Returns
    /// false when every change was skipped (`IF [NOT] EXISTS`).
    pub async fn alter_table(&self, table: &str, changes: &[ColumnChange]) -> Result<bool> {
        let _ddl = self.ddl.lock().await;
        let plan = alter::plan(&*self.catalog.get(table)?, changes)?;
        if plan.steps.is_empty() {
            return Ok(false);
        }
        delta_schema(&plan.definition)?;
        let hot = self.hot_table(table)?;
        if let Some(durable) = &self.durable {
            if plan
                .steps
                .iter()
                .any(|s| matches!(s, LayoutStep::Remove(_)))
            {
                return Err(Error::InvalidData(format!(
                    "DROP COLUMN is not supported on table '{table}': its history in the HDB keeps \
                     every column (ADD COLUMN is supported)"
                )));
            }
            let hdb = durable.table(table)?;
            let mut delta = hdb.lock().await;
            let added: Vec<_> = plan.definition.columns()[hot.schema().fields().len()..].to_vec();
            let next = durable.store.add_columns(delta.clone(), &added).await?;
            *delta = next.clone();
            // No write may be logged against the old schema once the hot tier has the new one.
            let _order = hdb.write_order().lock();
            hot.change_schema(&plan.definition, |batch, schema| {
                reshape(table, batch, schema, &plan.steps)
            })?;
            hot.set_hdb(Arc::new(next));
        } else {
            hot.change_schema(&plan.definition, |batch, schema| {
                reshape(table, batch, schema, &plan.steps)
            })?;
        }
        self.catalog.replace(plan.definition)?;
        Ok(true)
    }

    /// Syncs the WAL (shutdown).
    pub fn sync_wal(&self) -> Result<()> {
        if let Some(durable) = &self.durable {
            durable.wal.sync_all()?;
        }
        Ok(())
    }

    /// A table's read/write handle.
    pub fn table(&self, name: &str) -> Result<TableHandle> {
        let wal = match &self.durable {
            Some(d) => Some((Arc::clone(&d.wal), d.table(name)?)),
            None => None,
        };
        Ok(TableHandle {
            hot: self.hot_table(name)?,
            stats: Arc::clone(&self.stats),
            wal,
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

impl Durable {
    fn table(&self, name: &str) -> Result<Arc<HdbTable>> {
        self.tables
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| strata_catalog::Error::TableNotFound(name.to_string()).into())
    }
}

/// `batch` reshaped by an ALTER's steps into `schema`. A new column that holds no NULLs (an
/// array, say) gets its type's default in the stored rows.
fn reshape(
    table: &str,
    batch: &RecordBatch,
    schema: &SchemaRef,
    steps: &[LayoutStep],
) -> Result<RecordBatch> {
    let mut columns = batch.columns().to_vec();
    for step in steps {
        match step {
            LayoutStep::Append(ty) => {
                columns.push(new_null_array(&ty.arrow_type(), batch.num_rows()))
            }
            LayoutStep::Remove(idx) => {
                columns.remove(*idx);
            }
        }
    }
    let columns = columns
        .into_iter()
        .zip(schema.fields())
        .map(
            |(column, field)| match field.is_nullable() || column.null_count() == 0 {
                true => Ok(column),
                false => crate::conform::with_defaults(table, field, &column),
            },
        )
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
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

    #[tokio::test]
    async fn ddl_keeps_catalog_and_hot_tier_in_step() {
        let tiers = Tiers::new(Arc::new(Catalog::new()));
        assert!(tiers.create_table(def("t"), false).await.unwrap());
        assert!(!tiers.create_table(def("t"), true).await.unwrap());
        assert!(tiers.table("t").is_ok());
        assert!(
            tiers
                .alter_table("t", &[add("b", ColumnType::Bool)])
                .await
                .unwrap()
        );
        assert_eq!(tiers.table("t").unwrap().schema().fields().len(), 3);
        assert_eq!(tiers.catalog().get("t").unwrap().columns().len(), 3);
        tiers.alter_table("t", &[drop("a")]).await.unwrap();
        assert_eq!(tiers.table("t").unwrap().schema().field(0).name(), "ts");
        assert!(tiers.alter_table("t", &[drop("ts")]).await.is_err());
        assert_eq!(tiers.catalog().get("t").unwrap().columns().len(), 2);
        assert!(tiers.drop_table("t", false).await.unwrap());
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

    #[tokio::test]
    async fn alter_reshapes_stored_rows_in_statement_order() {
        let tiers = Tiers::new(Arc::new(Catalog::new()));
        tiers.create_table(def("t"), false).await.unwrap();
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
        handle.append(&schema, vec![batch]).await.unwrap();
        let changes = [
            add("b", ColumnType::Bool),
            drop("a"),
            add("a", ColumnType::Int64),
        ];
        tiers.alter_table("t", &changes).await.unwrap();
        let snap = tiers
            .table("t")
            .unwrap()
            .snapshot(&Default::default())
            .unwrap();
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
