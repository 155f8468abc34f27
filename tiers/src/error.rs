//! The tiers crate's error type.

use datafusion::error::DataFusionError;

/// Everything that can go wrong writing to or reading from the tiers.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Table registry errors (unknown table, bad definition, …).
    #[error(transparent)]
    Catalog(#[from] strata_catalog::Error),

    /// Data that does not fit the table: unknown columns, uncastable values.
    #[error("{0}")]
    InvalidData(String),

    /// The table was altered between planning a write and applying it.
    #[error("Table '{0}' was altered while the statement ran; retry it")]
    SchemaChanged(String),

    /// Arrow kernel failure while reshaping data.
    #[error("Arrow error: {0}")]
    Arrow(#[from] arrow::error::ArrowError),

    /// The hot tier's memory budget is full and flushing could not make room: retry later.
    #[error("{0}")]
    Backpressure(String),

    /// The write-ahead log failed; the write was not acknowledged.
    #[error(transparent)]
    Wal(#[from] crate::wal::WalError),

    /// A Delta Lake operation on the HDB failed.
    #[error("HDB error: {0}")]
    Delta(#[from] deltalake::DeltaTableError),

    /// Parquet encoding failed during a flush.
    #[error("Parquet error: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),

    /// Expression evaluation failure in UPDATE/DELETE.
    #[error(transparent)]
    DataFusion(#[from] DataFusionError),
}

/// Result alias for the tiers crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Error> for DataFusionError {
    /// Keeps the typed error inside DataFusion's error so the server can classify it again.
    fn from(e: Error) -> Self {
        match e {
            Error::DataFusion(e) => e,
            other => DataFusionError::External(Box::new(other)),
        }
    }
}
