//! What a statement can fail with, in the terms of SQL and the tables, not of any protocol.
//!
//! Each front door maps these to its own statuses and codes (the ZeptoDB JSON edge in
//! `crate::http::error`; the ClickHouse edge will map the same variants to ClickHouse codes).
//! [`Error::kind`] says whose fault a failure is, which is the part every edge needs.

use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::parser::ParserError;

use super::statement::Class;
use crate::error::{ErrorKind, engine_kind, engine_message};

/// Everything running one statement can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No statement at all.
    #[error("Empty query: send one SQL statement in the request body (or ?query=)")]
    Empty,

    /// SQL that does not parse, or a shape the front end refuses before planning.
    #[error("Parse error: {}", parse_message(.0))]
    Parse(#[from] ParserError),

    /// More than one statement in one request.
    #[error("Only one statement per request is allowed, got {0}")]
    MultipleStatements(usize),

    /// A statement Strata does not run.
    #[error(
        "Unsupported statement: {head} … (supported: SELECT, INSERT, UPDATE, DELETE, CREATE TABLE, DROP TABLE, ALTER TABLE, SHOW TABLES, DESCRIBE, EXPLAIN, FLUSH, OPTIMIZE, VACUUM, DESCRIBE HISTORY)"
    )]
    Unsupported {
        /// The statement's first words.
        head: String,
    },

    /// A statement that parses but cannot run as written; the message says what to do.
    #[error("{0}")]
    Invalid(String),

    /// A table that does not exist.
    #[error("Unknown table: {name}")]
    UnknownTable {
        /// The name as resolved (unquoted names folded to lower case).
        name: String,
    },

    /// The rows sent with an insert (`INSERT … FORMAT X`) do not parse as X; nothing is stored.
    #[error("{0}")]
    Rows(String),

    /// A database other than `default` and `system` (ClickHouse's `SHOW TABLES FROM db`).
    #[error("Unknown database: {name} (Strata's tables are in 'default'; 'system' describes them)")]
    UnknownDatabase {
        /// The name.
        name: String,
    },

    /// A statement that changes something, sent on a read-only request.
    #[error("This request is read-only; a {} statement needs a read-write request", .class.as_str())]
    ReadOnlyRequest {
        /// What the statement is.
        class: Class,
    },

    /// The statement ran past the query timeout.
    #[error("Query timed out after {ms} ms (limit set by {set_by})")]
    Timeout {
        /// The limit.
        ms: u64,
        /// The flag or setting that set it.
        set_by: &'static str,
    },

    /// The statement was cancelled (`DELETE /admin/queries/{id}`).
    #[error("Query cancelled")]
    Cancelled,

    /// The caller may not run the statement, or not on these tables.
    #[error(transparent)]
    Denied(#[from] crate::auth::Error),

    /// The result has more rows than the caller accepts.
    #[error("Result has more than {max} rows ({set_by}); add a LIMIT")]
    ResultTooLarge {
        /// The row cap.
        max: usize,
        /// The flag or setting that set it.
        set_by: &'static str,
    },

    /// A result could not be assembled (a fault on our side).
    #[error("could not build the result: {0}")]
    Output(#[source] arrow::error::ArrowError),

    /// The statement's task on the query threads panicked or was stopped (a fault on our side).
    #[error("the query did not finish: {0}")]
    QueryTask(String),

    /// The catalog refused or failed (unknown table, bad definition, storage).
    #[error(transparent)]
    Catalog(#[from] strata_catalog::Error),

    /// The tiers refused or failed (bad data, back-pressure, WAL, HDB).
    #[error(transparent)]
    Tiers(strata_tiers::Error),

    /// DataFusion refused or failed while planning or executing.
    #[error("{}", engine_message(.0))]
    Engine(#[from] DataFusionError),
}

/// Result alias for the SQL layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whose fault the failure is, and what a client can do about it.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Empty
            | Error::Parse(_)
            | Error::MultipleStatements(_)
            | Error::Unsupported { .. }
            | Error::Invalid(_)
            | Error::UnknownTable { .. }
            | Error::UnknownDatabase { .. }
            | Error::Rows(_) => ErrorKind::InvalidInput,
            Error::ReadOnlyRequest { .. } => ErrorKind::NotAllowed,
            Error::Timeout { .. } | Error::Cancelled => ErrorKind::Timeout,
            Error::Denied(e) => e.kind(),
            Error::ResultTooLarge { .. } => ErrorKind::TooLarge,
            Error::Output(_) | Error::QueryTask(_) => ErrorKind::Internal,
            Error::Catalog(e) => crate::error::catalog_kind(e),
            Error::Tiers(e) => crate::error::tiers_kind(e),
            Error::Engine(e) => engine_kind(e),
        }
    }

    /// A parse error of the front end's own.
    pub(crate) fn parse(message: impl Into<String>) -> Self {
        Error::Parse(ParserError::ParserError(message.into()))
    }
}

impl From<strata_tiers::Error> for Error {
    /// An engine error the tiers carry (UPDATE/DELETE expressions) is classified as one.
    fn from(e: strata_tiers::Error) -> Self {
        match e {
            strata_tiers::Error::DataFusion(e) => Error::Engine(e),
            other => Error::Tiers(other),
        }
    }
}

/// sqlparser prefixes its messages with "sql parser error: "; ours say "Parse error: " instead.
fn parse_message(e: &ParserError) -> String {
    let text = e.to_string();
    text.strip_prefix("sql parser error: ")
        .unwrap_or(&text)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_is_wrong() {
        assert_eq!(
            Error::parse("Expected: x").to_string(),
            "Parse error: Expected: x"
        );
        assert_eq!(
            Error::UnknownTable { name: "t".into() }.to_string(),
            "Unknown table: t"
        );
        let wrapped = DataFusionError::Context(
            "ctx".into(),
            Box::new(DataFusionError::External(Box::new(
                strata_catalog::Error::TableNotFound("t".into()),
            ))),
        );
        let e = Error::from(wrapped);
        assert_eq!(e.to_string(), "Unknown table: t");
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn engine_errors_are_classified() {
        let plan = Error::from(DataFusionError::Plan("No field named x".into()));
        assert_eq!(plan.kind(), ErrorKind::InvalidInput);
        let bug = Error::from(DataFusionError::Internal("bug".into()));
        assert_eq!(bug.kind(), ErrorKind::Internal);
        let full = Error::from(DataFusionError::ResourcesExhausted("memory".into()));
        assert_eq!(full.kind(), ErrorKind::Unavailable);
    }
}
