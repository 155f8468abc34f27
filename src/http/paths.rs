//! Every path the server answers, in one place (tests and docs use the same constants).

/// SQL: `POST /` with the statement as body, `GET /?query=` for reads.
pub const ROOT: &str = "/";
/// Liveness in ClickHouse style: `Ok.\n`.
pub const PING: &str = "/ping";
/// Kubernetes liveness probe.
pub const HEALTH: &str = "/health";
/// Kubernetes readiness probe.
pub const READY: &str = "/ready";
/// The caller's role and subject.
pub const WHOAMI: &str = "/whoami";
/// Server figures as JSON.
pub const STATS: &str = "/stats";
/// Prometheus exposition.
pub const METRICS: &str = "/metrics";
/// Arrow IPC stream ingest.
pub const INSERT_ARROW: &str = "/insert/arrow";
/// Flush every table's hot rows to the HDB.
pub const ADMIN_FLUSH: &str = "/admin/flush";
/// Cluster overview (one standalone node) with the tier figures.
pub const ADMIN_CLUSTER: &str = "/admin/cluster";
/// Agent Memory counts, evictions, ANN and persistence figures.
pub const AI_STATS: &str = "/api/ai/stats";
/// Store or update a memory.
pub const AI_MEMORIES: &str = "/api/ai/memories";
/// Fetch or delete one memory.
pub const AI_MEMORY: &str = "/api/ai/memories/{memory_id}";
/// Ranked memory search.
pub const AI_MEMORY_SEARCH: &str = "/api/ai/memories/search";
/// Ranked memories under a token budget.
pub const AI_CONTEXT: &str = "/api/ai/context";
/// Store a prompt-cache entry.
pub const AI_CACHE_STORE: &str = "/api/ai/cache/store";
/// Exact, then semantic, prompt-cache lookup.
pub const AI_CACHE_LOOKUP: &str = "/api/ai/cache/lookup";
/// Delete a prompt-cache entry by prompt.
pub const AI_CACHE: &str = "/api/ai/cache";
/// The caller's identity (the reference's SSO form of `/whoami`).
pub const AUTH_ME: &str = "/auth/me";
/// List (GET) or create (POST) API keys.
pub const ADMIN_KEYS: &str = "/admin/keys";
/// Change (PATCH) or revoke (DELETE) one API key.
pub const ADMIN_KEY: &str = "/admin/keys/{id}";
/// Recent audit events (`?n=`).
pub const ADMIN_AUDIT: &str = "/admin/audit";
/// Clients seen recently.
pub const ADMIN_SESSIONS: &str = "/admin/sessions";
/// Statements running now.
pub const ADMIN_QUERIES: &str = "/admin/queries";
/// Cancel one running statement (DELETE).
pub const ADMIN_QUERY: &str = "/admin/queries/{id}";
/// Engine and version.
pub const ADMIN_VERSION: &str = "/admin/version";
/// The edition and its features (public).
pub const API_LICENSE: &str = "/api/license";
/// Turn a Bearer token into a `zepto_sid` session cookie.
pub const AUTH_SESSION: &str = "/auth/session";
/// End the session of the cookie sent (public).
pub const AUTH_LOGOUT: &str = "/auth/logout";
/// Send the browser to the OIDC provider (public).
pub const AUTH_LOGIN: &str = "/auth/login";
/// Where the OIDC provider sends the browser back (public).
pub const AUTH_CALLBACK: &str = "/auth/callback";
/// Refresh an OIDC session's tokens.
pub const AUTH_REFRESH: &str = "/auth/refresh";
/// Fetch the JWKS now.
pub const ADMIN_AUTH_RELOAD: &str = "/admin/auth/reload";
/// Snapshots of the server's counters, every 3 s over the last hour.
pub const ADMIN_METRICS_HISTORY: &str = "/admin/metrics/history";
