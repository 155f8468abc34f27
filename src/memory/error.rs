//! What Agent Memory can fail with, in its own terms. The HTTP edge maps these to statuses
//! (`crate::http::error`); nothing here knows a protocol.

use crate::error::ErrorKind;

/// Everything an Agent Memory operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A field of a request has a value the operation cannot take; the message names it.
    #[error("{message}")]
    InvalidField {
        /// The field, as the API spells it.
        field: String,
        /// What is wrong, naming the field.
        message: String,
    },

    /// A request as a whole cannot be read (not JSON, unknown fields or parameters).
    #[error("{0}")]
    InvalidRequest(String),

    /// A vector whose length is not the store's embedding dimension.
    #[error(
        "{field} dimension mismatch: expected {expected}, got {got}{}",
        if *.stored { " (the first embedding stored fixes the dimension for the whole store)" } else { "" }
    )]
    DimensionMismatch {
        /// The field holding the vector.
        field: &'static str,
        /// The store's dimension.
        expected: usize,
        /// The vector's length.
        got: usize,
        /// Whether the vector was to be stored (rather than a query).
        stored: bool,
    },

    /// The tenant header and the request's `tenant_id` disagree.
    #[error("Tenant header does not match request tenant_id")]
    TenantConflict,

    /// A memory id another tenant already uses.
    #[error("memory_id '{id}' is already used by another tenant; choose another id")]
    IdTaken {
        /// The id.
        id: String,
    },

    /// The WAL could not take or sync a change; the change was not applied.
    #[error("{context}: {source}")]
    Wal {
        /// What was being done.
        context: &'static str,
        /// The failure.
        #[source]
        source: strata_tiers::wal::WalError,
    },

    /// A Lance dataset or its vector index could not be read or written.
    #[error("Lance dataset {uri}: {source}")]
    Lance {
        /// The dataset.
        uri: String,
        /// The failure.
        #[source]
        source: lance::Error,
    },

    /// A record could not be converted to or from its Arrow form.
    #[error("Agent Memory record encoding: {0}")]
    Encoding(String),

    /// The storage location cannot be used, or a dataset there is not Agent Memory's.
    #[error("{0}")]
    Storage(String),

    /// A background task died.
    #[error("Agent Memory task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Result alias for Agent Memory.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whose fault the failure is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidField { .. }
            | Error::InvalidRequest(_)
            | Error::DimensionMismatch { .. }
            | Error::TenantConflict
            | Error::IdTaken { .. } => ErrorKind::InvalidInput,
            Error::Lance { .. } => ErrorKind::Unavailable,
            Error::Wal { .. } | Error::Encoding(_) | Error::Storage(_) | Error::Task(_) => {
                ErrorKind::Internal
            }
        }
    }

    /// An invalid value of `field`.
    pub(crate) fn field(field: &str, message: impl Into<String>) -> Self {
        Error::InvalidField {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// A Lance failure on the dataset at `uri`.
    pub(crate) fn lance(uri: &str) -> impl Fn(lance::Error) -> Self + '_ {
        move |source| Error::Lance {
            uri: uri.to_string(),
            source,
        }
    }
}
