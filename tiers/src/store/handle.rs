//! [`TableHandle`]: one table's read and write paths.

use std::sync::Arc;
use std::time::Instant;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

use super::flushing::flush_locked;
use crate::error::Result;
use crate::hdb::HdbTable;
use crate::hot::{HotTable, Selection, Snapshot};
use crate::stats::TierStats;
use crate::wal::Wal;

/// One table's read and write paths.
#[derive(Debug, Clone)]
pub struct TableHandle {
    pub(super) hot: Arc<HotTable>,
    pub(super) stats: Arc<TierStats>,
    /// The WAL and the table's HDB side, in tiered mode.
    pub(super) wal: Option<(Arc<Wal>, Arc<HdbTable>)>,
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

    /// Appends batches built against `schema` (see [`HotTable::append`]), all or nothing, and
    /// waits until they are durable: in tiered mode the rows are in the WAL, synced per its
    /// policy, before this returns.
    pub async fn append(&self, schema: &SchemaRef, batches: Vec<RecordBatch>) -> Result<u64> {
        self.write(schema, batches)?.durable().await
    }

    /// The first half of [`TableHandle::append`]: the rows are logged (not yet synced) and in
    /// the hot tier when this returns; acknowledge them only after [`Written::durable`]. It
    /// does no waiting of its own, so a small write can run on an async worker and a large one
    /// on a blocking thread, and either awaits the group commit without holding a thread.
    pub fn write(&self, schema: &SchemaRef, batches: Vec<RecordBatch>) -> Result<Written> {
        let start = Instant::now();
        let (outcome, wal) = match &self.wal {
            None => (self.hot.append(schema, batches)?, None),
            Some(_) if batches.iter().all(|b| b.num_rows() == 0) => (Default::default(), None),
            Some((wal, hdb)) => {
                // WAL order is hot-tier order for each table: a flush covering sequence n then
                // holds every earlier record of the table.
                let _order = hdb.write_order().lock();
                self.hot.ensure_schema(schema)?;
                let seq = wal.append(self.hot.name(), hdb.id(), schema, &batches)?;
                let appended = self.hot.append_logged(schema, batches, Some(seq));
                wal.applied(seq);
                (appended?, Some((Arc::clone(wal), seq)))
            }
        };
        let rows = outcome.rows as u64;
        self.stats
            .record_ingest(rows, start.elapsed().as_nanos() as u64);
        self.stats
            .record_partitions_created(outcome.new_partitions as u64);
        Ok(Written { rows, wal })
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
        let flushed = flush_locked(&self.hot, &mut delta, hdb.layout()).await?;
        if flushed.version.is_some() {
            self.stats
                .record_flush(flushed.rows as u64, flushed.files as u64);
        }
        touched =
            crate::hdb::dml::rewrite(&mut delta, schema, hdb.layout(), delete, change).await?;
        self.hot.set_hdb(Arc::new(delta.clone()));
        Ok(touched)
    }

    /// What a scan of `selection` reads; counts the rows as scanned.
    pub fn snapshot(&self, selection: &Selection) -> Result<Snapshot> {
        let snap = self.hot.snapshot(selection)?;
        self.stats.record_scan(snap.rows as u64);
        Ok(snap)
    }
}

/// Rows [`TableHandle::write`] stored, not yet known to be durable.
#[derive(Debug)]
#[must_use = "rows are acknowledged only once they are durable"]
pub struct Written {
    rows: u64,
    /// The WAL record holding them, in tiered mode.
    wal: Option<(Arc<Wal>, u64)>,
}

impl Written {
    /// Waits for the WAL's sync policy (group commit under `--wal-sync always`) without holding
    /// a thread; returns how many rows were written.
    pub async fn durable(self) -> Result<u64> {
        if let Some((wal, seq)) = &self.wal {
            wal.durable(*seq).await?;
        }
        Ok(self.rows)
    }
}
