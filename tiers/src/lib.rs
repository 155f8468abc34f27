//! Strata's storage tiers.
//!
//! ```text
//! write (INSERT, Arrow ingest) ─► TableHandle::append ─► WAL record (synced) ─► HotTable
//! flush (policy, FLUSH TABLE, memory budget, shutdown) ─► Parquet per day + one Delta commit
//! read  (DataFusion scan) ─► TieredTable::scan ─► hot snapshot ∪ Delta scan of the same moment
//! ```
//!
//! - [`wal`] is the write-ahead log: CRC-framed segment files, group-commit sync, replay.
//! - [`hot`] is the RDB: per-table, per-day partitions of immutable Arrow record batches, appended
//!   under a short write lock and read through cheap `Arc` snapshots, so queries never block
//!   ingest for longer than a pointer copy; each chunk's symbol and time indexes
//!   ([`hot::index`]) are built on first use, so a scan reads only the rows a filter can match.
//! - [`hdb`] is the history: flush to Parquet + Delta, scans of a Delta version, copy-on-write
//!   UPDATE/DELETE, compaction, TTL expiry, vacuum.
//! - [`provider`] is the DataFusion [`TableProvider`](datafusion::catalog::TableProvider) over the
//!   tiers: projection, filter and limit pushdown, day-partition, chunk and file pruning,
//!   `INSERT`, `UPDATE` and `DELETE`; and time travel over older Delta versions.
//! - [`store`] is the facade the server talks to: opening (HDB load + WAL replay), table
//!   lifecycle kept in step with the catalog and the HDB, every write path, flushing, and the
//!   background maintenance loop (flush policy, compaction, TTL) with its graceful stop.
//! - [`clock`] is the one wall clock (nanoseconds since the epoch).

pub mod clock;
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
pub use store::{AsOf, HistoryEntry, Maintenance, MaintenanceSettings, TieredConfig, Tiers};

pub use provider::TieredTable;
pub use provider::history::HistoricalTable;
pub use store::{TableHandle, Written};
