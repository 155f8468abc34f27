//! [`AppState`]: what handlers can reach, and the sub-states each router takes (`FromRef`), so a
//! route module depends only on what it uses.

use std::sync::Arc;

use axum::extract::FromRef;
use strata_tiers::Tiers;

use crate::auth::Auth;
pub use crate::config::server::HttpLimits;
use crate::memory::{AgentMemory, Settings as MemorySettings};
use crate::metrics::Metrics;
use crate::metrics::history::History;
use crate::sql::QueryService;

/// Shared server state; cloning is cheap (`Arc`s).
#[derive(Debug, Clone)]
pub struct AppState {
    /// Authentication, authorization, audit.
    pub auth: Arc<Auth>,
    /// Request and result limits.
    pub limits: HttpLimits,
    /// Tables and their data.
    pub tiers: Arc<Tiers>,
    /// SQL execution.
    pub queries: Arc<QueryService>,
    /// Agent Memory (`/api/ai/*`).
    pub memory: Arc<AgentMemory>,
    /// The settings Agent Memory runs with (shown by `/api/ai/stats`).
    pub memory_settings: Arc<MemorySettings>,
    /// Prometheus registry.
    pub metrics: Arc<Metrics>,
    /// Recent snapshots of the counters (`/admin/metrics/history`).
    pub history: Arc<History>,
}

impl FromRef<AppState> for HttpLimits {
    fn from_ref(state: &AppState) -> Self {
        state.limits
    }
}

/// What the Agent Memory routes use.
#[derive(Debug, Clone)]
pub struct MemoryState {
    /// The store.
    pub memory: Arc<AgentMemory>,
    /// Its settings.
    pub settings: Arc<MemorySettings>,
    /// Body limit.
    pub limits: HttpLimits,
}

impl FromRef<AppState> for MemoryState {
    fn from_ref(state: &AppState) -> Self {
        Self {
            memory: Arc::clone(&state.memory),
            settings: Arc::clone(&state.memory_settings),
            limits: state.limits,
        }
    }
}

impl AppState {
    /// A whole server held in memory (pure storage, Agent Memory unpersisted, no background
    /// work, authentication off): what in-process router tests and embedders start from.
    pub fn in_memory(
        limits: HttpLimits,
        timeout: std::time::Duration,
    ) -> crate::error::Result<Self> {
        let tiers = Arc::new(Tiers::new(Arc::new(strata_catalog::Catalog::new())));
        let queries = Arc::new(
            QueryService::new(Arc::clone(&tiers), 2, crate::sql::QueryLimits { timeout }).map_err(
                |source| crate::error::Error::Io {
                    context: "cannot start the query threads".into(),
                    source,
                },
            )?,
        );
        let settings = MemorySettings {
            limits: crate::memory::settings::Limits::default(),
            ann: crate::memory::settings::AnnSettings::default(),
            flush_every: 0,
            storage: None,
        };
        Ok(Self {
            auth: Arc::new(Auth::open()),
            limits,
            tiers,
            queries,
            memory: Arc::new(AgentMemory::new(settings.limits)),
            memory_settings: Arc::new(settings),
            metrics: Arc::new(Metrics::new()?),
            history: Arc::new(History::default()),
        })
    }
}
