//! [`AppState`]: what every handler can reach.

use std::sync::Arc;

use strata_tiers::Tiers;

use crate::config::Config;
use crate::memory::AgentMemory;
use crate::metrics::Metrics;
use crate::sql::QueryService;

/// Shared server state; cloning is cheap (`Arc`s).
#[derive(Debug, Clone)]
pub struct AppState {
    /// Flags the server started with.
    pub config: Arc<Config>,
    /// Tables and their data.
    pub tiers: Arc<Tiers>,
    /// SQL execution.
    pub queries: Arc<QueryService>,
    /// Agent Memory (`/api/ai/*`).
    pub memory: Arc<AgentMemory>,
    /// Prometheus registry.
    pub metrics: Arc<Metrics>,
}
