//! The server's error type, and the one place errors become HTTP statuses ([`Error::status`]).
//!
//! Engine errors are classified here too: a DataFusion error caused by the query (syntax, unknown
//! column, bad cast) is the client's fault and becomes a 400 with DataFusion's message; anything
//! else is ours and becomes a 500.

use axum::http::StatusCode;
use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::parser::ParserError;

/// Everything a request or the server start-up can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed or asks for something impossible.
    #[error("{0}")]
    BadRequest(String),

    /// SQL that does not parse.
    #[error("Parse error: {0}")]
    Parse(String),

    /// A table that does not exist.
    #[error("Unknown table: {0}")]
    UnknownTable(String),

    /// The right path with the wrong method (e.g. DML over `GET /?query=`).
    #[error("{message}")]
    MethodNotAllowed {
        /// What to do instead.
        message: String,
        /// Methods the resource accepts, for the `Allow` header.
        allow: &'static str,
    },

    /// A body or result over the configured limit.
    #[error("{0}")]
    PayloadTooLarge(String),

    /// The query ran past `--query-timeout-ms`.
    #[error("Query timed out after {0} ms (limit set by --query-timeout-ms)")]
    Timeout(u64),

    /// Temporarily unable to serve (back-pressure, shutting down).
    #[error("{0}")]
    Unavailable(String),

    /// No such resource.
    #[error("{0}")]
    NotFound(String),

    /// A fault on our side.
    #[error("Internal error: {0}")]
    Internal(String),

    /// Start-up failure (bind, configuration).
    #[error("{0}")]
    Startup(String),
}

/// Result alias for the server crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The HTTP status of this error. The only mapping from errors to statuses in the server.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest(_) | Error::Parse(_) | Error::UnknownTable(_) => {
                StatusCode::BAD_REQUEST
            }
            Error::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Error::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Internal(_) | Error::Startup(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<strata_catalog::Error> for Error {
    fn from(e: strata_catalog::Error) -> Self {
        catalog_error(&e)
    }
}

impl From<strata_tiers::Error> for Error {
    fn from(e: strata_tiers::Error) -> Self {
        match e {
            strata_tiers::Error::DataFusion(e) => e.into(),
            other => tiers_error(&other),
        }
    }
}

impl From<DataFusionError> for Error {
    fn from(e: DataFusionError) -> Self {
        classify(e.find_root())
    }
}

fn classify(e: &DataFusionError) -> Error {
    use arrow::error::ArrowError;
    match e {
        DataFusionError::SQL(parse, _) => Error::Parse(strip_parser_prefix(&parse.to_string())),
        DataFusionError::External(inner) => {
            if let Some(tiers) = inner.downcast_ref::<strata_tiers::Error>() {
                return tiers_error(tiers);
            }
            if let Some(cat) = inner.downcast_ref::<strata_catalog::Error>() {
                return catalog_error(cat);
            }
            Error::Internal(e.to_string())
        }
        DataFusionError::ArrowError(arrow, _) => match arrow.as_ref() {
            ArrowError::CastError(_)
            | ArrowError::ParseError(_)
            | ArrowError::InvalidArgumentError(_)
            | ArrowError::ComputeError(_)
            | ArrowError::DivideByZero
            | ArrowError::ArithmeticOverflow(_) => Error::BadRequest(e.strip_backtrace()),
            _ => Error::Internal(e.strip_backtrace()),
        },
        DataFusionError::Plan(_)
        | DataFusionError::SchemaError(_, _)
        | DataFusionError::NotImplemented(_)
        | DataFusionError::Configuration(_)
        | DataFusionError::Execution(_) => Error::BadRequest(e.strip_backtrace()),
        DataFusionError::ResourcesExhausted(_) => Error::Unavailable(e.strip_backtrace()),
        _ => Error::Internal(e.strip_backtrace()),
    }
}

/// sqlparser prefixes its messages with "sql parser error: "; ours say "Parse error: " instead.
fn strip_parser_prefix(msg: &str) -> String {
    msg.strip_prefix("sql parser error: ")
        .unwrap_or(msg)
        .to_string()
}

// Errors arrive by reference inside DataFusion's error tree; rebuild the variant from its message.
/// Storage failures are ours: the WAL's disk is a 500; the object store (down, throttling,
/// a commit race) is a 503 the client may retry. Everything else is about the request.
fn tiers_error(e: &strata_tiers::Error) -> Error {
    match e {
        strata_tiers::Error::Catalog(c) => catalog_error(c),
        strata_tiers::Error::Wal(_) | strata_tiers::Error::Parquet(_) => {
            Error::Internal(e.to_string())
        }
        strata_tiers::Error::Delta(_) | strata_tiers::Error::Backpressure(_) => {
            Error::Unavailable(e.to_string())
        }
        other => Error::BadRequest(other.to_string()),
    }
}

fn catalog_error(e: &strata_catalog::Error) -> Error {
    match e {
        strata_catalog::Error::TableNotFound(t) => Error::UnknownTable(t.clone()),
        strata_catalog::Error::Delta(_) | strata_catalog::Error::Store(_) => {
            Error::Unavailable(e.to_string())
        }
        other => Error::BadRequest(other.to_string()),
    }
}

impl From<ParserError> for Error {
    fn from(e: ParserError) -> Self {
        Error::Parse(strip_parser_prefix(&e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_are_classified() {
        let plan = DataFusionError::Plan("No field named x".into());
        assert_eq!(Error::from(plan).status(), StatusCode::BAD_REQUEST);
        let internal = DataFusionError::Internal("bug".into());
        assert_eq!(
            Error::from(internal).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let wrapped = DataFusionError::Context(
            "ctx".into(),
            Box::new(DataFusionError::External(Box::new(
                strata_catalog::Error::TableNotFound("t".into()),
            ))),
        );
        let e = Error::from(wrapped);
        assert_eq!(e.to_string(), "Unknown table: t");
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn parse_errors_say_parse_error() {
        let e = Error::Parse(strip_parser_prefix("sql parser error: Expected: x"));
        assert_eq!(e.to_string(), "Parse error: Expected: x");
    }
}
