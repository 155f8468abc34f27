//! Moving rows out of memory: flushes (by policy, on demand, under the memory budget) with retry
//! and backoff, WAL segment removal, compaction, vacuum and TTL expiry.

use std::sync::Arc;

use super::{Durable, Tiers};
use crate::error::{Error, Result};
use crate::hdb::flush::{FlushOutcome, write_frozen};
use crate::hdb::flushed_seq;
use crate::hdb::layout::FileLayout;
use crate::hdb::maintenance::{CompactOutcome, Compaction, compact, expire, vacuum};
use crate::hdb::policy::FlushPolicy;
use crate::hot::{HotTable, NANOS_PER_DAY};

/// When a table whose flush failed is tried again.
#[derive(Debug, Clone, Copy)]
pub(super) struct Retry {
    next: std::time::Instant,
    wait: std::time::Duration,
}

/// First wait after a failed flush; doubles per failure up to [`RETRY_MAX`].
const RETRY_FIRST: std::time::Duration = std::time::Duration::from_millis(500);
const RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(60);

impl Tiers {
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

    /// Moves a table's hot rows to the HDB (no-op in memory-only mode).
    pub async fn flush_table(&self, table: &str) -> Result<FlushOutcome> {
        let Some(durable) = &self.durable else {
            return Ok(FlushOutcome::default());
        };
        let hot = self.hot_table(table)?;
        let hdb = durable.table(table)?;
        let mut delta = hdb.lock().await;
        let outcome = flush_locked(&hot, &mut delta, hdb.layout()).await?;
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
            // A failed flush leaves its rows frozen: they are due until they are in the HDB.
            if !policy.due(&table.pending(), now) && !table.has_frozen() {
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

    /// Merges each day's small HDB files of `table` (at least `min_files` of them) into one; with
    /// `relayout` (`OPTIMIZE`) also rewrites every file of an older layout. A no-op in
    /// memory-only mode.
    pub async fn optimize_table(
        &self,
        table: &str,
        min_files: usize,
        relayout: bool,
    ) -> Result<CompactOutcome> {
        let Some(durable) = &self.durable else {
            return Ok(CompactOutcome::default());
        };
        let hot = self.hot_table(table)?;
        let hdb = durable.table(table)?;
        let mut delta = hdb.lock().await;
        let schema = hot.schema();
        let plan = Compaction {
            sort_key: &hot.sort_key(),
            min_files,
            relayout,
            layout: hdb.layout(),
        };
        let outcome = compact(&mut delta, &schema, &plan).await?;
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
            if let Err(e) = self.optimize_table(def.name(), min_files, false).await {
                tracing::warn!(target: "tiers::compact", table = def.name(), "compaction failed, will retry: {e}");
            }
        }
    }
}

/// Flushes `hot`'s rows into `delta` (whose lock the caller holds) as files in `layout`, and
/// switches the hot table to the new version. `version` is `None` when there was nothing to
/// flush.
pub(super) async fn flush_locked(
    hot: &HotTable,
    delta: &mut deltalake::DeltaTable,
    layout: FileLayout,
) -> Result<FlushOutcome> {
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
        write_frozen(delta, &frozen, layout).await?
    };
    hot.finish_flush(Arc::new(delta.clone()));
    Ok(outcome)
}
