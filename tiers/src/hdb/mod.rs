//! The HDB: each table's history as Parquet files under a Delta Lake log in the object
//! store (a local directory or S3).
//!
//! - [`flush`] turns frozen hot rows into one Parquet file per day and one Delta commit that
//!   records the last WAL sequence it covers (invariant 3).
//! - [`layout`] is how every file is cut and encoded: time clusters, each sorted by (symbol,
//!   time), with page indexes, so scans prune by time and by symbol at once.
//! - `commit` is the one commit path every writer below uses.
//! - [`dml`] applies UPDATE and DELETE to the HDB by replacing the files that hold touched rows.
//! - [`maintenance`] compacts a day's small files into one (and, for `OPTIMIZE`, rewrites files
//!   of an older layout), expires rows past their TTL and vacuums old files.
//! - [`policy`] decides when a table's hot rows are due (rows, bytes, age).
//! - [`scan`] reads a table's Delta version for a query: projection and the time and value
//!   filters it can take are pushed into the Delta scan (file-statistics pruning), and its
//!   columns are cast back to the table's Arrow types (`TIMESTAMP_NS` is a Delta `long`, see
//!   `strata_catalog::delta`).

mod commit;
pub mod dml;
pub mod flush;
pub mod layout;
pub mod maintenance;
pub mod policy;
mod relabel;
pub mod scan;

use std::sync::Arc;

use deltalake::DeltaTable;

/// A Delta table at one version, shared by the scans that read it.
pub type HdbView = Arc<DeltaTable>;

/// Application id of the Delta transactions that record flushed WAL sequences.
pub const WAL_APP_ID: &str = "strata-wal";

/// The HDB side of one table.
#[derive(Debug)]
pub struct HdbTable {
    /// The Delta metadata id: the table's identity in WAL records.
    id: String,
    /// The writer's handle. Its lock serialises commits: one writer per table.
    writer: tokio::sync::Mutex<DeltaTable>,
    /// Held while a write is logged and applied, so WAL order is hot-tier order.
    write_order: parking_lot::Mutex<()>,
    /// Where the table lives (for loading older versions).
    url: url::Url,
    /// How its files are written.
    layout: layout::FileLayout,
}

impl HdbTable {
    /// Wraps a loaded Delta table whose files are written in `layout`.
    pub fn new(table: DeltaTable, layout: layout::FileLayout) -> crate::error::Result<Self> {
        let id = table_id(&table)?;
        Ok(Self {
            id,
            layout,
            url: table.table_url().clone(),
            writer: tokio::sync::Mutex::new(table),
            write_order: parking_lot::Mutex::new(()),
        })
    }

    /// The table's identity.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The table's location.
    pub fn url(&self) -> &url::Url {
        &self.url
    }

    /// How the table's files are written.
    pub fn layout(&self) -> layout::FileLayout {
        self.layout
    }

    /// The lock that keeps WAL order and hot-tier order the same.
    pub(crate) fn write_order(&self) -> &parking_lot::Mutex<()> {
        &self.write_order
    }

    /// The writer's handle, locked.
    pub async fn lock(&self) -> tokio::sync::MutexGuard<'_, DeltaTable> {
        self.writer.lock().await
    }
}

/// Every row of the data file at `path` (relative to the table root), in the table's Arrow
/// types (`schema`).
pub(crate) async fn read_file(
    store: &deltalake::logstore::ObjectStoreRef,
    path: &str,
    schema: &arrow::datatypes::SchemaRef,
) -> crate::error::Result<Vec<arrow::array::RecordBatch>> {
    use object_store::ObjectStoreExt;
    let path = deltalake::Path::parse(path)
        .map_err(|e| crate::error::Error::InvalidData(e.to_string()))?;
    let bytes = store
        .get(&path)
        .await
        .map_err(deltalake::DeltaTableError::from)?
        .bytes()
        .await
        .map_err(deltalake::DeltaTableError::from)?;
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes)?
        .build()?
        .map(|batch| Ok(relabel::relabel(batch?, schema)?))
        .collect()
}

/// The metadata id of a Delta table.
pub fn table_id(table: &DeltaTable) -> crate::error::Result<String> {
    Ok(table.snapshot()?.metadata().id().to_string())
}

/// The highest WAL sequence a table's commits have recorded.
pub async fn flushed_seq(table: &DeltaTable) -> crate::error::Result<u64> {
    let snapshot = table.snapshot()?;
    let version = snapshot
        .transaction_version(table.log_store().as_ref(), WAL_APP_ID)
        .await?;
    Ok(version.map_or(0, |v| v.max(0) as u64))
}
