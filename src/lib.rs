//! Strata: a lakehouse server for time-series data.
//!
//! Writes go through a WAL into an in-memory columnar tier and flush to Delta + Parquet on a local
//! directory or S3 (the tiers, [`strata_tiers`]); every query is planned by DataFusion over both
//! ([`sql`]); the ZeptoDB HTTP API is served on one port ([`http`]). [`run`] opens the storage
//! the flags ask for, starts each subsystem's background work (the tiers' maintenance loop,
//! Agent Memory's committer), and at shutdown stops them gracefully and flushes.
//!
//! Domain layers ([`sql`], [`memory`], [`ingest`], [`format`](mod@format)) return typed errors classified
//! by [`error::ErrorKind`] and know no protocol; only [`http`] turns them into statuses.
//!
//! | module | what it holds |
//! |---|---|
//! | [`config`] | flags and `STRATA_*` environment variables |
//! | [`auth`] | identities, API keys, JWT, roles, table/tenant/symbol scope, rate limits, audit |
//! | [`cli`] | subcommands (`strata keys …`) |
//! | [`http`] | routes, middleware, error responses |
//! | [`sql`] | statement parsing, DDL, DataFusion session, time-series functions |
//! | [`format`](mod@format) | result encodings (ZeptoDB JSON, Arrow IPC) |
//! | [`ingest`] | Arrow IPC bulk ingest |
//! | [`memory`] | Agent Memory: memories, context, prompt cache (`/api/ai/*`) |
//! | [`metrics`] | `/stats` and Prometheus figures |
//! | [`demo`] | the quick-start table and demo ticks |
//! | [`error`] | protocol-neutral error classes; the start-up error |

pub mod auth;
pub mod cli;
pub mod config;
pub mod demo;
pub mod error;
pub mod format;
pub mod http;
pub mod ingest;
pub mod memory;
pub mod metrics;
pub mod sql;
pub mod telemetry;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use strata_catalog::Catalog;
use strata_tiers::{Maintenance, Tiers};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::http::state::AppState;
use crate::metrics::Metrics;
use crate::metrics::history::History;
use crate::sql::QueryService;

/// Runs the server until SIGINT or SIGTERM.
pub async fn run(config: Config) -> Result<()> {
    metrics::mark_started();
    let settings = config.resolve().map_err(Error::Config)?;
    let auth = Arc::new(crate::auth::Auth::new(&settings.auth).map_err(Error::Config)?);
    let tls = match &settings.tls {
        Some(tls) => Some(http::tls::TlsListener::load(tls).map_err(Error::Config)?),
        None => None,
    };
    match auth.mode() {
        crate::auth::Mode::Open => {
            tracing::warn!("authentication is off: every caller is the administrator")
        }
        crate::auth::Mode::Enforced => tracing::info!("authentication is on"),
    }
    let memory_settings = settings.memory;
    let tiers = Arc::new(match settings.tiers.tiered {
        Some(tiered) => {
            tracing::info!(hdb = %tiered.location.root(), wal = %tiered.wal.dir.display(), "tiered storage");
            Tiers::open(tiered).await.map_err(|source| Error::Tiers {
                context: "cannot open the HDB and WAL",
                source: Box::new(source),
            })?
        }
        None => {
            tracing::info!("pure storage: everything in memory, nothing survives a restart");
            Tiers::new(Arc::new(Catalog::new()))
        }
    });
    tiers.set_memory_budget(settings.tiers.memory_budget);
    demo::seed(&tiers, settings.ticks).await?;
    let maintenance = Maintenance::spawn(Arc::clone(&tiers), settings.tiers.maintenance);
    let queries = Arc::new(
        QueryService::new(
            Arc::clone(&tiers),
            settings.query.parallelism,
            settings.query.limits,
        )
        .map_err(|source| Error::Io {
            context: "cannot start the query threads".into(),
            source,
        })?,
    );
    let memory = memory::open(&memory_settings)
        .await
        .map_err(|e| Error::Memory(Box::new(e)))?;
    let committer =
        memory::persist::spawn_committer(Arc::clone(&memory), memory_settings.flush_every);
    let listener = TcpListener::bind(settings.addr)
        .await
        .map_err(|source| Error::Io {
            context: format!("cannot listen on {}", settings.addr),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| Error::Io {
        context: "cannot read the listening address".into(),
        source,
    })?;
    let state = AppState {
        auth,
        limits: settings.http,
        tiers,
        queries,
        memory,
        memory_settings: Arc::new(memory_settings),
        metrics: Arc::new(Metrics::new()?),
        history: Arc::new(History::default()),
    };
    let collector = state
        .history
        .spawn_collector(Arc::clone(&state.tiers), Arc::clone(&state.queries));
    state.auth.start(settings.auth.jwt.jwks_refresh).await;
    announce(addr, tls.is_some());
    let tiers = Arc::clone(&state.tiers);
    let memory = Arc::clone(&state.memory);
    http::serve(listener, tls, state, shutdown_signal())
        .await
        .map_err(|source| Error::Io {
            context: "the server failed".into(),
            source,
        })?;
    collector.abort();
    maintenance.stop().await;
    committer.stop().await;
    memory::persist::shutdown(&memory).await;
    if tiers.is_tiered() {
        // Rows that do not make it stay in the WAL and come back at the next start.
        match tiers.flush_all().await {
            Ok(rows) => tracing::info!(rows, "flushed the hot tier at shutdown"),
            Err(e) => tracing::warn!("flush at shutdown failed; the WAL keeps the rows: {e}"),
        }
        tiers.sync_wal().map_err(|source| Error::Tiers {
            context: "cannot sync the WAL at shutdown",
            source: Box::new(source),
        })?;
    }
    tracing::info!("stopped");
    Ok(())
}

/// Tells whoever started us where we listen: a log line, and one line on standard output that
/// scripts and tests read to learn the port (`--port 0` picks a free one).
fn announce(addr: SocketAddr, tls: bool) {
    let scheme = if tls { "https" } else { "http" };
    tracing::info!(%addr, scheme, "Strata listening");
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "Strata listening on {scheme}://{addr}");
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
