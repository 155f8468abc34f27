//! Strata: a lakehouse server for time-series data.
//!
//! Writes go through a WAL into an in-memory columnar tier and flush to Delta + Parquet on a local
//! directory or S3 (the tiers, [`strata_tiers`]); every query is planned by DataFusion over both
//! ([`sql`]); the ZeptoDB HTTP API is served on one port ([`http`]). [`run`] opens the storage
//! the flags ask for, starts the background flush/compaction/TTL task, and flushes at shutdown.
//!
//! | module | what it holds |
//! |---|---|
//! | [`config`] | flags and `STRATA_*` environment variables |
//! | [`http`] | routes, middleware, error responses |
//! | [`sql`] | statement parsing, DDL, DataFusion session, time-series functions |
//! | [`format`](mod@format) | result encodings (ZeptoDB JSON, Arrow IPC) |
//! | [`ingest`] | Arrow IPC bulk ingest |
//! | [`memory`] | Agent Memory: memories, context, prompt cache (`/api/ai/*`) |
//! | [`metrics`] | `/stats` and Prometheus figures |
//! | [`demo`] | the quick-start table and demo ticks |
//! | [`error`] | the error type and its HTTP statuses |

pub mod config;
pub mod demo;
pub mod error;
pub mod format;
pub mod http;
pub mod ingest;
pub mod memory;
pub mod metrics;
pub mod sql;
pub mod state;
pub mod telemetry;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use strata_catalog::Catalog;
use strata_tiers::Tiers;
use strata_tiers::hdb::policy::FlushPolicy;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::sql::{QueryLimits, QueryService};
use crate::state::AppState;

/// Runs the server until SIGINT or SIGTERM.
pub async fn run(config: Config) -> Result<()> {
    let tiers = Arc::new(match config.tiered().map_err(Error::Startup)? {
        Some(tiered) => {
            tracing::info!(hdb = %tiered.location.root(), wal = %tiered.wal.dir.display(), "tiered storage");
            Tiers::open(tiered)
                .await
                .map_err(|e| Error::Startup(format!("cannot open the HDB and WAL: {e}")))?
        }
        None => {
            tracing::info!("pure storage: everything in memory, nothing survives a restart");
            Tiers::new(Arc::new(Catalog::new()))
        }
    });
    tiers.set_memory_budget(config.rdb_max_bytes);
    demo::seed(&tiers, config.ticks).await?;
    let background = spawn_background(Arc::clone(&tiers), &config);
    let limits = QueryLimits {
        timeout: Duration::from_millis(config.query_timeout_ms),
    };
    let queries = Arc::new(QueryService::new(
        Arc::clone(&tiers),
        config.parallelism(),
        limits,
    ));
    let memory = open_agent_memory(&config).await?;
    let committer =
        memory::persist::spawn_committer(Arc::clone(&memory), config.agent_memory.flush_every);
    let listener = TcpListener::bind((config.bind, config.port))
        .await
        .map_err(|e| {
            Error::Startup(format!(
                "cannot listen on {}:{}: {e}",
                config.bind, config.port
            ))
        })?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Startup(e.to_string()))?;
    let state = AppState {
        config: Arc::new(config),
        tiers,
        queries,
        memory,
        metrics: Arc::new(Metrics::new()?),
    };
    announce(addr);
    let tiers = Arc::clone(&state.tiers);
    let memory = Arc::clone(&state.memory);
    axum::serve(listener, http::router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| Error::Startup(format!("server failed: {e}")))?;
    background.abort();
    committer.stop().await;
    memory::persist::shutdown(&memory).await;
    if tiers.is_tiered() {
        // Rows that do not make it stay in the WAL and come back at the next start.
        match tiers.flush_all().await {
            Ok(rows) => tracing::info!(rows, "flushed the hot tier at shutdown"),
            Err(e) => tracing::warn!("flush at shutdown failed; the WAL keeps the rows: {e}"),
        }
        tiers.sync_wal()?;
    }
    tracing::info!("stopped");
    Ok(())
}

/// Agent Memory: persisted where the flags say (its datasets loaded and WAL replayed), or in
/// memory only.
async fn open_agent_memory(config: &Config) -> Result<Arc<memory::AgentMemory>> {
    let limits = memory::service::Limits {
        max_memories: config.agent_memory.max_memories,
        max_cache_entries: config.agent_memory.max_cache_entries,
    };
    match config.agent_memory_storage().map_err(Error::Startup)? {
        Some(storage) => {
            let ann = memory::persist::ann::AnnSettings {
                mode: config.agent_memory.ann,
                min_records: config.agent_memory.ann_min_records,
                max_candidates: config.agent_memory.ann_max_candidates,
            };
            let memory = memory::persist::open(&storage, limits, ann, config.wal_sync()).await?;
            Ok(Arc::new(memory))
        }
        None => {
            tracing::info!("agent memory in memory only (no --agent-memory-dir and no HDB)");
            Ok(Arc::new(memory::AgentMemory::new(limits)))
        }
    }
}

/// Every `--flush-interval-ms`, until aborted: flushes the tables that are due and compacts days
/// with many small files after a flush (tiered mode), and removes rows past their table's TTL.
fn spawn_background(tiers: Arc<Tiers>, config: &Config) -> tokio::task::JoinHandle<()> {
    let policy = FlushPolicy {
        rows: config.flush_rows,
        bytes: config.flush_bytes,
        age: Duration::from_secs(config.flush_age_secs),
    };
    let period = Duration::from_millis(config.flush_interval_ms.max(1));
    let compact_min_files = config.compact_min_files;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            // Small files come from flushes; look for days to compact only after one.
            if tiers.is_tiered() && tiers.flush_due(&policy).await > 0 && compact_min_files > 0 {
                tiers.compact_due(compact_min_files).await;
            }
            if let Err(e) = tiers.enforce_ttl(now_nanos()).await {
                tracing::warn!("TTL expiry failed, will retry: {e}");
            }
        }
    })
}

fn now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// Tells whoever started us where we listen: a log line, and one line on standard output that
/// scripts and tests read to learn the port (`--port 0` picks a free one).
fn announce(addr: SocketAddr) {
    tracing::info!(%addr, "Strata listening");
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "Strata listening on http://{addr}");
    let _ = out.flush();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
