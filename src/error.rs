//! Protocol-neutral error classes, and the server's start-up error.
//!
//! Every domain error (SQL in [`crate::sql::Error`], Agent Memory in [`crate::memory::Error`],
//! ingest, encodings) answers [`ErrorKind`]: whose fault it is and what a client can do. Each
//! protocol edge turns a kind (and, where it wants, the variant) into its own status or code in
//! one place; no domain module knows any protocol.
//!
//! Errors of the lower crates (catalog, tiers) and of DataFusion are classified here once, so
//! every layer that carries them agrees.

use datafusion::error::DataFusionError;

/// Whose fault a failure is, and what the client can do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is wrong (syntax, unknown table or column, bad value); fix it and resend.
    InvalidInput,
    /// What the request names does not exist.
    NotFound,
    /// The request may not do this (a write on a read-only request).
    NotAllowed,
    /// Who sends the request could not be established (no, malformed or invalid credentials).
    Unauthenticated,
    /// The caller is known but may not do this (role, table, tenant or symbol scope, rate).
    Forbidden,
    /// The request or its result is over a configured size.
    TooLarge,
    /// The work ran past its time limit.
    Timeout,
    /// The server cannot serve it now (back-pressure, storage unreachable); retry later.
    Unavailable,
    /// A service the request depends on (the identity provider) failed or answered nonsense.
    Upstream,
    /// A fault on our side.
    Internal,
}

impl ErrorKind {
    /// Whether the failure is the server's (its detail belongs in the log, not the answer).
    pub fn is_server_side(self) -> bool {
        matches!(self, ErrorKind::Unavailable | ErrorKind::Internal)
    }
}

/// The server failed to start or to stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A flag combination or value that cannot work.
    #[error("{0}")]
    Config(String),

    /// The port could not be bound or served.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The failure.
        #[source]
        source: std::io::Error,
    },

    /// The tiers could not be opened or closed.
    #[error("{context}: {source}")]
    Tiers {
        /// What was being done.
        context: &'static str,
        /// The failure.
        #[source]
        source: Box<strata_tiers::Error>,
    },

    /// Agent Memory could not be opened.
    #[error("cannot open Agent Memory: {0}")]
    Memory(#[source] Box<crate::memory::Error>),

    /// The demo rows could not be loaded.
    #[error("cannot load the demo rows: {0}")]
    Demo(#[source] Box<strata_tiers::Error>),

    /// The metrics registry could not be built.
    #[error("cannot set up metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

/// Result alias for start-up.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The class of a catalog error.
pub fn catalog_kind(e: &strata_catalog::Error) -> ErrorKind {
    use strata_catalog::Error as E;
    match e {
        E::Delta(_) | E::Store(_) | E::Io { .. } => ErrorKind::Unavailable,
        E::Unreadable { .. } => ErrorKind::Internal,
        _ => ErrorKind::InvalidInput,
    }
}

/// The class of a tiers error. The WAL's disk and Parquet encoding are ours; the object store
/// (down, throttling, a commit race) and a full memory budget pass, so a client may retry.
pub fn tiers_kind(e: &strata_tiers::Error) -> ErrorKind {
    use strata_tiers::Error as E;
    match e {
        E::Catalog(c) => catalog_kind(c),
        E::Wal(_) | E::Parquet(_) => ErrorKind::Internal,
        E::Delta(_) | E::Backpressure(_) => ErrorKind::Unavailable,
        E::DataFusion(d) => engine_kind(d),
        E::InvalidData(_) | E::SchemaChanged(_) | E::Arrow(_) => ErrorKind::InvalidInput,
    }
}

/// The class of a DataFusion error: what the query caused (syntax, unknown column, bad cast) is
/// the client's; a typed error of ours inside it keeps its own class; the rest is ours.
pub fn engine_kind(e: &DataFusionError) -> ErrorKind {
    use arrow::error::ArrowError;
    let root = e.find_root();
    match root {
        DataFusionError::SQL(..) => ErrorKind::InvalidInput,
        DataFusionError::External(inner) => {
            if let Some(tiers) = inner.downcast_ref::<strata_tiers::Error>() {
                tiers_kind(tiers)
            } else if let Some(catalog) = inner.downcast_ref::<strata_catalog::Error>() {
                catalog_kind(catalog)
            } else if let Some(auth) = inner.downcast_ref::<crate::auth::Error>() {
                auth.kind()
            } else {
                ErrorKind::Internal
            }
        }
        DataFusionError::ArrowError(arrow, _) => match arrow.as_ref() {
            ArrowError::CastError(_)
            | ArrowError::ParseError(_)
            | ArrowError::InvalidArgumentError(_)
            | ArrowError::ComputeError(_)
            | ArrowError::DivideByZero
            | ArrowError::ArithmeticOverflow(_) => ErrorKind::InvalidInput,
            _ => ErrorKind::Internal,
        },
        DataFusionError::Plan(_)
        | DataFusionError::SchemaError(..)
        | DataFusionError::NotImplemented(_)
        | DataFusionError::Configuration(_)
        | DataFusionError::Execution(_) => ErrorKind::InvalidInput,
        DataFusionError::ResourcesExhausted(_) => ErrorKind::Unavailable,
        _ => ErrorKind::Internal,
    }
}

/// The message of a DataFusion error: its root cause, without backtraces; a typed error of ours
/// inside it speaks for itself; a parse error says "Parse error:".
pub fn engine_message(e: &DataFusionError) -> String {
    let root = e.find_root();
    match root {
        DataFusionError::SQL(parse, _) => {
            let text = parse.to_string();
            let text = text.strip_prefix("sql parser error: ").unwrap_or(&text);
            format!("Parse error: {text}")
        }
        DataFusionError::External(inner)
            if inner.is::<strata_tiers::Error>()
                || inner.is::<strata_catalog::Error>()
                || inner.is::<crate::auth::Error>() =>
        {
            inner.to_string()
        }
        other => other.strip_backtrace(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_errors_inside_the_engine_keep_their_class() {
        let backpressure =
            DataFusionError::External(Box::new(strata_tiers::Error::Backpressure("full".into())));
        assert_eq!(engine_kind(&backpressure), ErrorKind::Unavailable);
        assert_eq!(engine_message(&backpressure), "full");
        let cast = DataFusionError::ArrowError(
            Box::new(arrow::error::ArrowError::CastError("x".into())),
            None,
        );
        assert_eq!(engine_kind(&cast), ErrorKind::InvalidInput);
        assert!(ErrorKind::Internal.is_server_side());
        assert!(!ErrorKind::InvalidInput.is_server_side());
    }
}
