//! Server figures: the `/stats` JSON and the Prometheus text of `/metrics`.
//!
//! Counters live where the work happens (tiers, query service); this module reads them when asked,
//! so the two endpoints always agree. Metric names follow the ZeptoDB reference (`zepto_*`);
//! figures the reference has no name for are `strata_*`.

mod agent_memory;
pub mod history;

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use prometheus::{Encoder, IntCounter, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder};
use serde::Serialize;
use strata_tiers::wal::WalStats;
use strata_tiers::{TableStats, Tiers};

use crate::error::Result;
use crate::memory::AgentMemory;
use crate::sql::QueryService;

static STARTED: LazyLock<Instant> = LazyLock::new(Instant::now);

/// Marks the server's start, from which [`uptime`] counts.
pub fn mark_started() {
    LazyLock::force(&STARTED);
}

/// How long the server has run (ClickHouse's `uptime()`).
pub fn uptime() -> Duration {
    STARTED.elapsed()
}

/// The `/stats` document.
#[derive(Debug, Serialize)]
pub struct Stats {
    /// Rows accepted by every write path since start.
    pub ticks_ingested: u64,
    /// Rows stored (every accepted row is stored: equal to `ticks_ingested`).
    pub ticks_stored: u64,
    /// Rows dropped (Strata acknowledges only stored rows: always 0).
    pub ticks_dropped: u64,
    /// Statements run since start.
    pub queries_executed: u64,
    /// Rows read by table scans since start, after partition pruning.
    pub total_rows_scanned: u64,
    /// Day partitions created since start.
    pub partitions_created: u64,
    /// Wall time of the latest write, in nanoseconds.
    pub last_ingest_latency_ns: u64,
    /// Rows held in memory (the RDB).
    pub rdb_rows: u64,
    /// Arrow bytes held in memory (the RDB).
    pub rdb_bytes: u64,
    /// `pure` or `tiered`.
    pub storage_mode: &'static str,
    /// Flushes to the HDB since start.
    pub flushes: u64,
    /// Rows moved to the HDB since start.
    pub rows_flushed: u64,
    /// Flushes that failed and will be retried.
    pub flush_failures: u64,
    /// Rows in the HDB, all tables.
    pub hdb_rows: u64,
    /// Parquet files in the HDB, all tables.
    pub hdb_files: u64,
    /// The write-ahead log (tiered mode).
    pub wal: Option<WalStats>,
    /// Per-table stats, sorted by name.
    pub tables: Vec<TableStats>,
}

/// Collects the figures of `tiers` and `queries`.
pub fn stats(tiers: &Tiers, queries: &QueryService) -> Stats {
    let t = tiers.stats();
    let tables = tiers.table_stats();
    Stats {
        ticks_ingested: t.rows_ingested(),
        ticks_stored: t.rows_ingested(),
        ticks_dropped: 0,
        queries_executed: queries.queries_executed(),
        total_rows_scanned: t.rows_scanned(),
        partitions_created: t.partitions_created(),
        last_ingest_latency_ns: t.last_ingest_latency_ns(),
        rdb_rows: tables.iter().map(|t| t.rows).sum(),
        rdb_bytes: tables.iter().map(|t| t.bytes).sum(),
        storage_mode: if tiers.is_tiered() { "tiered" } else { "pure" },
        flushes: t.flushes(),
        rows_flushed: t.rows_flushed(),
        flush_failures: t.flush_failures(),
        hdb_rows: tables.iter().map(|t| t.hdb_rows).sum(),
        hdb_files: tables.iter().map(|t| t.hdb_files).sum(),
        wal: tiers.wal_stats(),
        tables,
    }
}

/// The Prometheus registry and the metrics in it.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    http_requests: AtomicU64,
    counters: Counters,
    gauges: Gauges,
    table: TableGauges,
    agent: agent_memory::AgentMetrics,
    /// Scrapes compute counter increments from a snapshot; one at a time.
    scrape: Mutex<()>,
}

#[derive(Debug)]
struct Counters {
    ticks_ingested: IntCounter,
    ticks_stored: IntCounter,
    ticks_dropped: IntCounter,
    queries_executed: IntCounter,
    rows_scanned: IntCounter,
    http_requests: IntCounter,
    flushes: IntCounter,
    rows_flushed: IntCounter,
    flush_failures: IntCounter,
}

#[derive(Debug)]
struct Gauges {
    server_up: IntGauge,
    server_ready: IntGauge,
    partitions: IntGauge,
    last_ingest_latency_ns: IntGauge,
    rdb_rows: IntGauge,
    rdb_bytes: IntGauge,
    hdb_rows: IntGauge,
    hdb_files: IntGauge,
    wal_segments: IntGauge,
    wal_bytes: IntGauge,
    degraded: IntGauge,
}

#[derive(Debug)]
struct TableGauges {
    rows: IntGaugeVec,
    bytes: IntGaugeVec,
    partitions: IntGaugeVec,
    hdb_rows: IntGaugeVec,
    hdb_files: IntGaugeVec,
    delta_version: IntGaugeVec,
}

impl Metrics {
    /// A registry with every metric registered.
    pub fn new() -> Result<Self> {
        let registry = Registry::new();
        let counter = |name: &str, help: &str| -> Result<IntCounter> {
            let c = IntCounter::new(name, help).map_err(prom)?;
            registry.register(Box::new(c.clone())).map_err(prom)?;
            Ok(c)
        };
        let gauge = |name: &str, help: &str| -> Result<IntGauge> {
            let g = IntGauge::new(name, help).map_err(prom)?;
            registry.register(Box::new(g.clone())).map_err(prom)?;
            Ok(g)
        };
        let table_gauge = |name: &str, help: &str| -> Result<IntGaugeVec> {
            let g = IntGaugeVec::new(Opts::new(name, help), &["table"]).map_err(prom)?;
            registry.register(Box::new(g.clone())).map_err(prom)?;
            Ok(g)
        };
        let counters = Counters {
            ticks_ingested: counter("zepto_ticks_ingested_total", "Total ticks ingested")?,
            ticks_stored: counter(
                "zepto_ticks_stored_total",
                "Total ticks stored to column store",
            )?,
            ticks_dropped: counter(
                "zepto_ticks_dropped_total",
                "Total ticks dropped (queue overflow)",
            )?,
            queries_executed: counter(
                "zepto_queries_executed_total",
                "Total SQL queries executed",
            )?,
            rows_scanned: counter("zepto_rows_scanned_total", "Total rows scanned")?,
            http_requests: counter("zepto_http_requests_total", "Total HTTP requests served")?,
            flushes: counter(
                "strata_flushes_total",
                "Flushes of the in-memory tier to the HDB",
            )?,
            rows_flushed: counter("strata_rows_flushed_total", "Rows moved to the HDB")?,
            flush_failures: counter(
                "strata_flush_failures_total",
                "Flush attempts that failed (the rows stay in memory and the WAL; retried)",
            )?,
        };
        let gauges = Gauges {
            server_up: gauge("zepto_server_up", "1 while the server runs")?,
            server_ready: gauge("zepto_server_ready", "1 while the server accepts queries")?,
            partitions: gauge("zepto_partitions_total", "Day partitions held in memory")?,
            last_ingest_latency_ns: gauge(
                "zepto_last_ingest_latency_ns",
                "Last ingest latency in nanoseconds",
            )?,
            rdb_rows: gauge("strata_rdb_rows", "Rows held in the in-memory tier")?,
            rdb_bytes: gauge("strata_rdb_bytes", "Arrow bytes held in the in-memory tier")?,
            hdb_rows: gauge("strata_hdb_rows", "Rows in the HDB (Delta log statistics)")?,
            hdb_files: gauge(
                "strata_hdb_files",
                "Parquet files in the HDB's current versions",
            )?,
            wal_segments: gauge("strata_wal_segments", "WAL segment files on disk")?,
            wal_bytes: gauge("strata_wal_bytes", "Bytes of WAL segments on disk")?,
            degraded: gauge(
                "strata_degraded",
                "1 while flushes to the HDB fail (see /health)",
            )?,
        };
        let table = TableGauges {
            rows: table_gauge("strata_table_rows", "Rows per table in the in-memory tier")?,
            bytes: table_gauge(
                "strata_table_bytes",
                "Arrow bytes per table in the in-memory tier",
            )?,
            partitions: table_gauge(
                "strata_table_partitions",
                "Day partitions per table in the in-memory tier",
            )?,
            hdb_rows: table_gauge("strata_table_hdb_rows", "Rows per table in the HDB")?,
            hdb_files: table_gauge(
                "strata_table_hdb_files",
                "Parquet files per table in the HDB",
            )?,
            delta_version: table_gauge(
                "strata_table_delta_version",
                "Delta version of each table that queries read",
            )?,
        };
        let agent = agent_memory::AgentMetrics::new(&registry)?;
        Ok(Self {
            registry,
            agent,
            http_requests: AtomicU64::new(0),
            counters,
            gauges,
            table,
            scrape: Mutex::new(()),
        })
    }

    /// Counts one HTTP request.
    pub fn count_request(&self) {
        self.http_requests.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition of every metric, current as of this call.
    pub fn render(
        &self,
        tiers: &Tiers,
        queries: &QueryService,
        memory: &AgentMemory,
    ) -> std::result::Result<String, prometheus::Error> {
        let _one_at_a_time = self.scrape.lock();
        let s = stats(tiers, queries);
        let c = &self.counters;
        advance(&c.ticks_ingested, s.ticks_ingested);
        advance(&c.ticks_stored, s.ticks_stored);
        advance(&c.ticks_dropped, s.ticks_dropped);
        advance(&c.queries_executed, s.queries_executed);
        advance(&c.rows_scanned, s.total_rows_scanned);
        advance(&c.http_requests, self.http_requests.load(Ordering::Relaxed));
        advance(&c.flushes, s.flushes);
        advance(&c.rows_flushed, s.rows_flushed);
        advance(&c.flush_failures, s.flush_failures);
        let g = &self.gauges;
        g.server_up.set(1);
        g.server_ready.set(1);
        g.partitions
            .set(s.tables.iter().map(|t| t.partitions as i64).sum());
        g.last_ingest_latency_ns
            .set(s.last_ingest_latency_ns as i64);
        g.rdb_rows.set(s.rdb_rows as i64);
        g.rdb_bytes.set(s.rdb_bytes as i64);
        g.hdb_rows.set(s.hdb_rows as i64);
        g.hdb_files.set(s.hdb_files as i64);
        let (segments, wal_bytes) = s.wal.as_ref().map_or((0, 0), |w| (w.segments, w.bytes));
        g.wal_segments.set(segments as i64);
        g.wal_bytes.set(wal_bytes as i64);
        g.degraded
            .set(i64::from(tiers.stats().flush_error().is_some()));
        // Reset so dropped tables disappear from the exposition.
        let t = &self.table;
        for vec in [
            &t.rows,
            &t.bytes,
            &t.partitions,
            &t.hdb_rows,
            &t.hdb_files,
            &t.delta_version,
        ] {
            vec.reset();
        }
        for table in &s.tables {
            let mut figures = vec![
                (&t.rows, table.rows as i64),
                (&t.bytes, table.bytes as i64),
                (&t.partitions, table.partitions as i64),
            ];
            // HDB series only for tables that have an HDB (tiered mode).
            if let Some(version) = table.hdb_version {
                figures.extend([
                    (&t.hdb_rows, table.hdb_rows as i64),
                    (&t.hdb_files, table.hdb_files as i64),
                    (&t.delta_version, version as i64),
                ]);
            }
            for (gauge, value) in figures {
                gauge.with_label_values(&[table.name.as_str()]).set(value);
            }
        }
        self.agent.update(memory);
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        // The text format is UTF-8 by construction.
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}

/// Moves a Prometheus counter up to `value` (the source counters only grow).
fn advance(counter: &IntCounter, value: u64) {
    let current = counter.get();
    if value > current {
        counter.inc_by(value - current);
    }
}

fn prom(e: prometheus::Error) -> crate::error::Error {
    crate::error::Error::Metrics(e)
}
