//! The catalog's error type. Variants are distinct per cause so the server can map each one to
//! the right HTTP status (not found vs. conflict vs. bad input).

/// Everything that can go wrong in the catalog.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A table or column name that is not a plain identifier.
    #[error("Invalid {kind} name '{name}': {reason}")]
    InvalidName {
        /// "table" or "column".
        kind: &'static str,
        /// The offending name.
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// No table of that name.
    #[error("Unknown table: {0}")]
    TableNotFound(String),

    /// `CREATE TABLE` of a name that is taken.
    #[error("Table '{0}' already exists")]
    TableExists(String),

    /// A column the table does not have.
    #[error("Unknown column '{column}' in table '{table}'")]
    ColumnNotFound {
        /// The table.
        table: String,
        /// The missing column.
        column: String,
    },

    /// `ADD COLUMN` of a name that is taken, or a duplicate in `CREATE TABLE`.
    #[error("Column '{column}' already exists in table '{table}'")]
    ColumnExists {
        /// The table.
        table: String,
        /// The duplicate column.
        column: String,
    },

    /// A type name the catalog does not know.
    #[error(
        "Unsupported column type '{0}' (supported: INT64/BIGINT, INT32/INT, FLOAT64/DOUBLE, FLOAT32/REAL, TIMESTAMP/TIMESTAMP_NS, SYMBOL, STRING/VARCHAR/TEXT, BOOL, INT8, INT16, UINT8…UINT64, DATE, DATE32, DATETIME, DATETIME64(p), DECIMAL(p, s), UUID, FIXEDSTRING(n), and ClickHouse's names for them)"
    )]
    UnsupportedType(String),

    /// A known type with arguments it cannot take (`DateTime64(4)`, an unknown zone, …).
    #[error("Invalid column type {0}")]
    InvalidType(String),

    /// A change that would leave the table unusable (no columns, dropping the time column, …).
    #[error("{0}")]
    InvalidDefinition(String),

    /// A Delta table holds something Strata cannot read (a column type it has no type for).
    #[error("Table '{table}' cannot be read by Strata: {reason}")]
    Unreadable {
        /// The table.
        table: String,
        /// What is wrong with it.
        reason: String,
    },

    /// An HDB location that is not usable (bad URI, unsupported scheme).
    #[error("Invalid HDB location '{location}': {reason}")]
    Location {
        /// The location as given.
        location: String,
        /// Why it was refused.
        reason: String,
    },

    /// A Delta Lake operation failed (schema, log, commit).
    #[error("Delta error: {0}")]
    Delta(#[from] deltalake::DeltaTableError),

    /// The HDB's object store could not be reached or refused an operation.
    #[error("HDB storage error: {0}")]
    Store(#[from] object_store::Error),

    /// A local HDB directory could not be created or read.
    #[error("HDB directory {path}: {source}")]
    Io {
        /// The directory.
        path: String,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
}

/// Result alias for the catalog.
pub type Result<T, E = Error> = std::result::Result<T, E>;
