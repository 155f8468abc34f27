//! Logging: `tracing` to standard error, filtered by `STRATA_LOG` (or `RUST_LOG`), default
//! [`DEFAULT_FILTER`].

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Strata at `info`; the storage libraries only when something is wrong (Lance and the Delta
/// kernel log every commit and snapshot at `info`).
pub const DEFAULT_FILTER: &str =
    "info,lance=warn,lance_index=warn,lance_io=warn,lance_table=warn,buoyant_kernel=warn";

/// Installs the global subscriber. Call once, before anything logs.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_env("STRATA_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
