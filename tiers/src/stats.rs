//! Counters the tiers keep for `/stats` and `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

/// Process-wide tier counters. Monotonic counters only; per-table gauges are computed on demand
/// from the partitions themselves ([`TableStats`]), so they can never drift from the data.
#[derive(Debug, Default)]
pub struct TierStats {
    rows_ingested: AtomicU64,
    rows_scanned: AtomicU64,
    partitions_created: AtomicU64,
    last_ingest_latency_ns: AtomicU64,
    flushes: AtomicU64,
    rows_flushed: AtomicU64,
    hdb_files_written: AtomicU64,
    flush_failures: AtomicU64,
    /// Why the latest flush attempt failed; cleared by the next success.
    flush_error: parking_lot::Mutex<Option<String>>,
}

impl TierStats {
    pub(crate) fn record_ingest(&self, rows: u64, latency_ns: u64) {
        self.rows_ingested.fetch_add(rows, Ordering::Relaxed);
        self.last_ingest_latency_ns
            .store(latency_ns, Ordering::Relaxed);
    }

    pub(crate) fn record_flush(&self, rows: u64, files: u64) {
        *self.flush_error.lock() = None;
        self.flushes.fetch_add(1, Ordering::Relaxed);
        self.rows_flushed.fetch_add(rows, Ordering::Relaxed);
        self.hdb_files_written.fetch_add(files, Ordering::Relaxed);
    }

    pub(crate) fn record_flush_failure(&self, error: String) {
        self.flush_failures.fetch_add(1, Ordering::Relaxed);
        *self.flush_error.lock() = Some(error);
    }

    /// Why the latest flush failed, while no flush has succeeded since: the server is degraded
    /// (rows stay in memory and in the WAL, nothing is lost).
    pub fn flush_error(&self) -> Option<String> {
        self.flush_error.lock().clone()
    }

    /// Flushes that failed (and will be retried) since start.
    pub fn flush_failures(&self) -> u64 {
        self.flush_failures.load(Ordering::Relaxed)
    }

    /// Flushes to the HDB since start.
    pub fn flushes(&self) -> u64 {
        self.flushes.load(Ordering::Relaxed)
    }

    /// Rows moved to the HDB since start.
    pub fn rows_flushed(&self) -> u64 {
        self.rows_flushed.load(Ordering::Relaxed)
    }

    /// Parquet files written to the HDB since start.
    pub fn hdb_files_written(&self) -> u64 {
        self.hdb_files_written.load(Ordering::Relaxed)
    }

    pub(crate) fn record_scan(&self, rows: u64) {
        self.rows_scanned.fetch_add(rows, Ordering::Relaxed);
    }

    pub(crate) fn record_partitions_created(&self, n: u64) {
        self.partitions_created.fetch_add(n, Ordering::Relaxed);
    }

    /// Rows accepted by every write path since start.
    pub fn rows_ingested(&self) -> u64 {
        self.rows_ingested.load(Ordering::Relaxed)
    }

    /// Rows handed to queries by table scans since start (after partition pruning).
    pub fn rows_scanned(&self) -> u64 {
        self.rows_scanned.load(Ordering::Relaxed)
    }

    /// Day partitions created since start.
    pub fn partitions_created(&self) -> u64 {
        self.partitions_created.load(Ordering::Relaxed)
    }

    /// Wall time of the most recent write, in nanoseconds.
    pub fn last_ingest_latency_ns(&self) -> u64 {
        self.last_ingest_latency_ns.load(Ordering::Relaxed)
    }
}

/// One table's size in both tiers, as `/stats` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct TableStats {
    /// Table name.
    pub name: String,
    /// Rows held.
    pub rows: u64,
    /// Bytes of Arrow memory held.
    pub bytes: u64,
    /// Day partitions held.
    pub partitions: u64,
    /// Rows in the HDB (from the Delta log's per-file statistics; 0 in memory-only mode).
    pub hdb_rows: u64,
    /// Parquet files in the HDB.
    pub hdb_files: u64,
    /// Delta version scans read (`None` in memory-only mode).
    #[serde(rename = "delta_version")]
    pub hdb_version: Option<u64>,
}

impl TableStats {
    /// Rows in both tiers: what `SHOW TABLES` reports.
    pub fn total_rows(&self) -> u64 {
        self.rows + self.hdb_rows
    }
}
