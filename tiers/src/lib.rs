//! Strata's storage tiers.
//!
//! Data flow, as far as it is built today:
//!
//! ```text
//! write (INSERT, Arrow ingest) ──► Tiers::append ──► HotTable: day partitions of Arrow batches
//! read  (DataFusion scan)      ──► TieredTable::scan ──► snapshot of the pruned partitions
//! ```
//!
//! - [`hot`] is the RDB: per-table, per-day partitions of immutable Arrow record batches, appended
//!   under a short write lock and read through cheap `Arc` snapshots, so queries never block
//!   ingest for longer than a pointer copy.
//! - [`provider`] is the DataFusion [`TableProvider`](datafusion::catalog::TableProvider) over the
//!   tiers: projection and limit pushdown, day-partition and chunk pruning on the time column,
//!   `INSERT`, `UPDATE` and `DELETE`.
//! - [`store`] is the facade the server talks to: table lifecycle kept in step with the catalog,
//!   and every write path.
//!
//! The WAL and the flush of day partitions into Delta/Parquet (the HDB) attach at [`store`]; the
//! provider then unions the hot snapshot with the Delta scan.

pub mod conform;
pub mod error;
pub mod hdb;
pub mod hot;
pub mod provider;
pub mod stats;
pub mod store;
pub mod wal;

pub use error::{Error, Result};
pub use stats::{TableStats, TierStats};
pub use store::{AsOf, HistoryEntry, TieredConfig, Tiers};

pub use provider::TieredTable;
pub use provider::history::HistoricalTable;
pub use store::TableHandle;
