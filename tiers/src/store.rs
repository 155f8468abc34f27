//! [`Tiers`]: the one entry point for table lifecycle and writes.
//!
//! DDL changes the catalog and the hot tier together under one lock, so a query never finds a
//! table in one and not the other. Every write to a table goes through its [`TableHandle`], the
//! place the WAL attaches when durability lands.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{RecordBatch, new_null_array};
use arrow::datatypes::SchemaRef;
use parking_lot::RwLock;
use strata_catalog::delta::delta_schema;
use strata_catalog::{
    Catalog, ColumnChange, HdbLocation, LayoutStep, TableDefinition, TableStore, alter,
};

use crate::conform::conform_batch;
use crate::error::{Error, Result};
use crate::hdb::flush::{FlushOutcome, write_frozen};
use crate::hdb::maintenance::{CompactOutcome, compact, expire, vacuum};
use crate::hdb::policy::FlushPolicy;
use crate::hdb::{HdbTable, HdbView, flushed_seq};
use crate::hot::{HotTable, HotTier, NANOS_PER_DAY, Snapshot};
use crate::stats::{TableStats, TierStats};
use crate::wal::{Wal, WalConfig, WalError, WalStats};

/// Which HDB version a time-travel query reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AsOf {
    /// `VERSION AS OF n`.
    Version(u64),
    /// `TIMESTAMP AS OF '<RFC 3339>'`: the last version committed at or before it.
    Timestamp(String),
}

/// One commit of a table's Delta log, as `DESCRIBE HISTORY` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    /// Delta version.
    pub version: u64,
    /// Commit time, milliseconds since the epoch.
    pub timestamp_ms: Option<i64>,
    /// What the commit did (`CREATE TABLE`, `WRITE`, `DELETE`, …).
    pub operation: String,
    /// Its parameters, as JSON.
    pub parameters: String,
}

/// Where a tiered server keeps its data.
#[derive(Debug, Clone)]
pub struct TieredConfig {
    /// The HDB root (local directory or S3).
    pub location: HdbLocation,
    /// The write-ahead log.
    pub wal: WalConfig,
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
    retry: parking_lot::Mutex<HashMap<String, Retry>>,
}

#[derive(Debug, Clone, Copy)]
struct Retry {
    next: std::time::Instant,
    wait: std::time::Duration,
}

/// First wait after a failed flush; doubles per failure up to [`RETRY_MAX`].
const RETRY_FIRST: std::time::Duration = std::time::Duration::from_millis(500);
const RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Debug)]
struct Durable {
    store: TableStore,
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
            let hdb = Arc::new(HdbTable::new(delta.clone())?);
            let table = Arc::new(HotTable::new(&def));
            table.set_hdb(Arc::new(delta));
            flushed.insert(hdb.id().to_string(), (def.name().to_string(), seq));
            tables.insert(def.name().to_string(), hdb);
            hot.insert(table);
            catalog.create(def, false)?;
        }
        let (mut replayed, mut skipped) = (0u64, 0u64);
        let wal = Wal::open(config.wal, high_water + 1, |record| {
            let Some((name, done)) = flushed.get(&record.table_id) else {
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

    /// Sets the hot tier's memory budget (`--rdb-max-bytes`).
    pub fn set_memory_budget(&self, bytes: usize) {
        self.budget
            .store(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    /// Arrow bytes the hot tier holds, all tables.
    pub fn memory_bytes(&self) -> usize {
        self.hot.tables().iter().map(|t| t.memory().1).sum()
    }

    /// Makes room for a write of about `incoming` bytes (invariant 6). Under the budget: nothing
    /// to do. Over it: in tiered mode the largest tables are flushed first; if that does not make
    /// room (or in memory-only mode), the write is refused with [`Error::Backpressure`] — a 503
    /// the client retries — rather than risking the process.
    pub async fn reserve(&self, incoming: usize) -> Result<()> {
        let budget = self.budget.load(std::sync::atomic::Ordering::Relaxed);
        if self.memory_bytes().saturating_add(incoming) <= budget {
            return Ok(());
        }
        if self.durable.is_some() {
            let mut tables = self.hot.tables();
            tables.sort_by_key(|t| std::cmp::Reverse(t.memory().1));
            for table in tables {
                if let Err(e) = self.flush_table(table.name()).await {
                    self.stats
                        .record_flush_failure(format!("table '{}': {e}", table.name()));
                    break;
                }
                if self.memory_bytes().saturating_add(incoming) <= budget {
                    return Ok(());
                }
            }
        }
        Err(Error::Backpressure(format!(
            "The in-memory tier is at its budget of {budget} bytes (--rdb-max-bytes){}; retry shortly",
            if self.durable.is_some() {
                " and flushing to the HDB could not make room"
            } else {
                " and memory-only mode cannot flush"
            }
        )))
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
            durable
                .tables
                .write()
                .insert(def.name().to_string(), Arc::new(HdbTable::new(delta)?));
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
                reshape(batch, schema, &plan.steps)
            })?;
            hot.set_hdb(Arc::new(next));
        } else {
            hot.change_schema(&plan.definition, |batch, schema| {
                reshape(batch, schema, &plan.steps)
            })?;
        }
        self.catalog.replace(plan.definition)?;
        Ok(true)
    }

    /// Moves a table's hot rows to the HDB (no-op in memory-only mode).
    pub async fn flush_table(&self, table: &str) -> Result<FlushOutcome> {
        let Some(durable) = &self.durable else {
            return Ok(FlushOutcome::default());
        };
        let hot = self.hot_table(table)?;
        let hdb = durable.table(table)?;
        let mut delta = hdb.lock().await;
        let outcome = flush_locked(&hot, &mut delta).await?;
        drop(delta);
        if outcome.version.is_none() {
            return Ok(outcome);
        }
        self.stats
            .record_flush(outcome.rows as u64, outcome.files as u64);
        self.remove_flushed_wal(durable)?;
        tracing::info!(
            target: "tiers::flush",
            table,
            rows = outcome.rows,
            files = outcome.files,
            version = ?outcome.version,
            "flushed"
        );
        Ok(outcome)
    }

    /// Flushes the tables `policy` says are due; returns the rows moved. A table that fails is
    /// logged and retried next time: its rows stay in memory and in the WAL.
    pub async fn flush_due(&self, policy: &FlushPolicy) -> u64 {
        let now = std::time::Instant::now();
        let mut rows = 0;
        for table in self.hot.tables() {
            if !policy.due(&table.pending(), now) {
                continue;
            }
            if self
                .retry
                .lock()
                .get(table.name())
                .is_some_and(|r| r.next > now)
            {
                continue;
            }
            match self.flush_table(table.name()).await {
                Ok(outcome) => {
                    self.retry.lock().remove(table.name());
                    rows += outcome.rows as u64;
                }
                Err(e) => {
                    let mut retry = self.retry.lock();
                    let wait = retry
                        .get(table.name())
                        .map_or(RETRY_FIRST, |r| (r.wait * 2).min(RETRY_MAX));
                    retry.insert(
                        table.name().to_string(),
                        Retry {
                            next: now + wait,
                            wait,
                        },
                    );
                    self.stats
                        .record_flush_failure(format!("table '{}': {e}", table.name()));
                    tracing::warn!(target: "tiers::flush", table = table.name(), retry_in = ?wait, "flush failed; rows stay in memory and the WAL: {e}");
                }
            }
        }
        rows
    }

    /// Flushes every table; returns the total rows moved. Stops at the first failure.
    pub async fn flush_all(&self) -> Result<u64> {
        let mut rows = 0;
        for def in self.catalog.list() {
            rows += self.flush_table(def.name()).await?.rows as u64;
        }
        Ok(rows)
    }

    /// `OPTIMIZE`: merges each day's small HDB files of `table` (at least `min_files` of them)
    /// into one, re-sorted. A no-op in memory-only mode.
    pub async fn optimize_table(&self, table: &str, min_files: usize) -> Result<CompactOutcome> {
        let Some(durable) = &self.durable else {
            return Ok(CompactOutcome::default());
        };
        let hot = self.hot_table(table)?;
        let hdb = durable.table(table)?;
        let mut delta = hdb.lock().await;
        let schema = hot.schema();
        let outcome = compact(&mut delta, &schema, min_files).await?;
        if outcome.files_removed > 0 {
            hot.set_hdb(Arc::new(delta.clone()));
            tracing::info!(
                target: "tiers::compact",
                table,
                removed = outcome.files_removed,
                added = outcome.files_added,
                "compacted"
            );
        }
        Ok(outcome)
    }

    /// `VACUUM`: deletes HDB files of `table` that no version of the last `retain_hours` hours
    /// uses; returns how many. Time travel to older versions stops working for those files.
    pub async fn vacuum_table(&self, table: &str, retain_hours: u64) -> Result<usize> {
        let Some(durable) = &self.durable else {
            return Ok(0);
        };
        let hot = self.hot_table(table)?;
        let hdb = durable.table(table)?;
        let mut delta = hdb.lock().await;
        let deleted = vacuum(&mut delta, retain_hours).await?;
        hot.set_hdb(Arc::new(delta.clone()));
        Ok(deleted)
    }

    /// `ALTER TABLE t SET TTL`: rows whose day ended more than `ttl_nanos` ago are removed from
    /// both tiers by [`Tiers::enforce_ttl`]. `None` keeps rows forever.
    pub async fn set_ttl(&self, table: &str, ttl_nanos: Option<i64>) -> Result<()> {
        let _ddl = self.ddl.lock().await;
        let def = self.catalog.get(table)?.with_ttl(ttl_nanos)?;
        if let Some(durable) = &self.durable {
            let hdb = durable.table(table)?;
            let mut delta = hdb.lock().await;
            let next = durable
                .store
                .set_ttl(delta.clone(), def.ttl_nanos())
                .await?;
            *delta = next.clone();
            self.hot_table(table)?.set_hdb(Arc::new(next));
        }
        self.catalog.replace(def)?;
        Ok(())
    }

    /// Removes, from both tiers, the days every table's TTL has passed at `now` (nanoseconds).
    /// Returns the rows removed. Whole days go: a day stays until its last instant expires.
    pub async fn enforce_ttl(&self, now: i64) -> Result<u64> {
        let mut removed = 0;
        for def in self.catalog.list() {
            let (Some(ttl), Some(time)) = (def.ttl_nanos(), def.time_column()) else {
                continue;
            };
            let first_kept_day = now.saturating_sub(ttl).div_euclid(NANOS_PER_DAY);
            let hot = self.hot_table(def.name())?;
            removed += hot.drop_days_before(first_kept_day) as u64;
            if let Some(durable) = &self.durable {
                let hdb = durable.table(def.name())?;
                let mut delta = hdb.lock().await;
                let column = &def.columns()[time].name;
                let before = first_kept_day.saturating_mul(NANOS_PER_DAY);
                let expired = expire(&mut delta, column, before).await?;
                if expired > 0 {
                    hot.set_hdb(Arc::new(delta.clone()));
                    removed += expired;
                }
            }
        }
        if removed > 0 {
            tracing::info!(target: "tiers::ttl", rows = removed, "expired rows past their TTL");
        }
        Ok(removed)
    }

    /// Background compaction: every table with a day of at least `min_files` small files.
    pub async fn compact_due(&self, min_files: usize) {
        for def in self.catalog.list() {
            if let Err(e) = self.optimize_table(def.name(), min_files).await {
                tracing::warn!(target: "tiers::compact", table = def.name(), "compaction failed, will retry: {e}");
            }
        }
    }

    /// Table `name` as the HDB held it at `as_of` (hot rows are not part of any version).
    pub async fn table_as_of(
        &self,
        name: &str,
        as_of: &AsOf,
    ) -> Result<(TableDefinition, HdbView)> {
        let durable = self.durable.as_ref().ok_or_else(|| {
            Error::InvalidData(
                "Time travel reads the HDB's history: start Strata with --hdb-dir or --hdb-uri"
                    .into(),
            )
        })?;
        let hdb = durable.table(name)?;
        let builder = deltalake::DeltaTableBuilder::from_url(hdb.url().clone())?;
        let builder = match as_of {
            AsOf::Version(v) => builder.with_version(*v),
            AsOf::Timestamp(t) => builder.with_datestring(t).map_err(|e| {
                Error::InvalidData(format!(
                    "TIMESTAMP AS OF '{t}': not an RFC 3339 time such as 2024-03-23T22:00:00Z ({e})"
                ))
            })?,
        };
        let table = builder.load().await.map_err(|e| {
            Error::InvalidData(format!("Table '{name}' has no version {as_of:?}: {e}"))
        })?;
        let def = strata_catalog::store::definition_of(name, &table)?;
        Ok((def, Arc::new(table)))
    }

    /// The commits of table `name`, newest first.
    pub async fn history(&self, name: &str) -> Result<Vec<HistoryEntry>> {
        let durable = self.durable.as_ref().ok_or_else(|| {
            Error::InvalidData(
                "DESCRIBE HISTORY reads the HDB: start Strata with --hdb-dir or --hdb-uri".into(),
            )
        })?;
        let hdb = durable.table(name)?;
        let table = deltalake::DeltaTableBuilder::from_url(hdb.url().clone())?
            .load()
            .await?;
        let latest = table.version().unwrap_or(0);
        let commits: Vec<_> = table.history(None).await?.collect();
        Ok(commits
            .into_iter()
            .enumerate()
            .map(|(i, c)| HistoryEntry {
                version: latest.saturating_sub(i as u64),
                timestamp_ms: c.timestamp,
                operation: c.operation.unwrap_or_default(),
                parameters: serde_json::to_string(&c.operation_parameters.unwrap_or_default())
                    .unwrap_or_default(),
            })
            .collect())
    }

    /// Syncs the WAL (shutdown).
    pub fn sync_wal(&self) -> Result<()> {
        if let Some(durable) = &self.durable {
            durable.wal.sync_all()?;
        }
        Ok(())
    }

    /// Deletes the WAL segments whose every record is in the HDB.
    fn remove_flushed_wal(&self, durable: &Durable) -> Result<()> {
        let oldest = self
            .hot
            .tables()
            .iter()
            .filter_map(|t| t.oldest_unflushed_seq())
            .min();
        let through = match oldest {
            Some(seq) => seq.saturating_sub(1),
            None => durable.wal.next_seq().saturating_sub(1),
        };
        durable.wal.remove_through(through)?;
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

/// Flushes `hot`'s rows into `delta` (whose lock the caller holds) and switches the hot table
/// to the new version. `version` is `None` when there was nothing to flush.
async fn flush_locked(hot: &HotTable, delta: &mut deltalake::DeltaTable) -> Result<FlushOutcome> {
    let Some(frozen) = hot.freeze() else {
        return Ok(FlushOutcome::default());
    };
    // A retry after a failure that happened *after* the commit must not commit twice.
    delta.update_state().await?;
    let committed = match frozen.seqs {
        Some(seqs) => flushed_seq(delta).await? >= seqs.last,
        None => false,
    };
    let outcome = if committed {
        FlushOutcome {
            rows: frozen.rows,
            files: 0,
            version: delta.version(),
        }
    } else {
        write_frozen(delta, &frozen).await?
    };
    hot.finish_flush(Arc::new(delta.clone()));
    Ok(outcome)
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
    /// The WAL and the table's HDB side, in tiered mode.
    wal: Option<(Arc<Wal>, Arc<HdbTable>)>,
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

    /// Appends batches built against `schema` (see [`HotTable::append`]); all or nothing. In
    /// tiered mode the rows are in the WAL, synced per its policy, before this returns.
    pub fn append(&self, schema: &SchemaRef, batches: Vec<RecordBatch>) -> Result<u64> {
        let start = Instant::now();
        let outcome = match &self.wal {
            None => self.hot.append(schema, batches)?,
            Some(_) if batches.iter().all(|b| b.num_rows() == 0) => Default::default(),
            Some((wal, hdb)) => {
                // WAL order is hot-tier order for each table: a flush covering sequence n then
                // holds every earlier record of the table.
                let seq = {
                    let _order = hdb.write_order().lock();
                    self.hot.ensure_schema(schema)?;
                    let seq = wal.append(self.hot.name(), hdb.id(), schema, &batches)?;
                    (self.hot.append_logged(schema, batches, Some(seq))?, seq)
                };
                wal.sync(seq.1)?;
                seq.0
            }
        };
        let rows = outcome.rows as u64;
        self.stats
            .record_ingest(rows, start.elapsed().as_nanos() as u64);
        self.stats
            .record_partitions_created(outcome.new_partitions as u64);
        Ok(rows)
    }

    /// Rewrites the table batch by batch (UPDATE, DELETE): `change` returns `None` for a batch
    /// it leaves alone, else the new batch and how many rows it touched. Returns the total.
    ///
    /// Memory-only: the hot tier is rewritten in place ([`HotTable::rewrite`]). Tiered: the hot
    /// rows are flushed first, then the HDB files holding touched rows are replaced in one Delta
    /// commit, so the change is durable the moment it is acknowledged.
    pub async fn rewrite(
        &self,
        schema: &SchemaRef,
        delete: bool,
        mut change: impl FnMut(&RecordBatch) -> Result<Option<(RecordBatch, u64)>>,
    ) -> Result<u64> {
        let mut touched = 0;
        let Some((_, hdb)) = &self.wal else {
            self.hot.rewrite(schema, |batch| {
                Ok(change(batch)?.map(|(batch, n)| {
                    touched += n;
                    batch
                }))
            })?;
            return Ok(touched);
        };
        self.hot.ensure_schema(schema)?;
        let mut delta = hdb.lock().await;
        let flushed = flush_locked(&self.hot, &mut delta).await?;
        if flushed.version.is_some() {
            self.stats
                .record_flush(flushed.rows as u64, flushed.files as u64);
        }
        touched = crate::hdb::dml::rewrite(&mut delta, schema, delete, change).await?;
        self.hot.set_hdb(Arc::new(delta.clone()));
        Ok(touched)
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
        handle.append(&schema, vec![batch]).unwrap();
        let changes = [
            add("b", ColumnType::Bool),
            drop("a"),
            add("a", ColumnType::Int64),
        ];
        tiers.alter_table("t", &changes).await.unwrap();
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
