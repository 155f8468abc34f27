//! ClickHouse's shape for a failure: the exception code and name for each of Strata's typed
//! errors, the HTTP status ClickHouse's own HTTP handler gives that code, and the body
//! `Code: N. DB::Exception: <message>. (NAME) (version V)` that every client parses (the JS
//! client needs the `(NAME)` tag, clickhouse-go the period after the number). The mapping is
//! here and nowhere else; the message is the same public text the ZeptoDB edge shows, so a
//! server-side failure never reveals internals here either.

use axum::http::StatusCode;
use datafusion::error::DataFusionError;

use super::VERSION;
use crate::error::ErrorKind;
use crate::http::error::ApiError;

/// A ClickHouse exception: what the client is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    /// ClickHouse's error code (`X-ClickHouse-Exception-Code`).
    pub code: u32,
    /// Its name, in the `(NAME)` tag.
    pub name: &'static str,
    /// What was wrong.
    pub message: String,
}

impl Exception {
    /// An exception of this edge's own (an unknown format, a setting it cannot honour).
    pub fn new(code: u32, name: &'static str, message: impl Into<String>) -> Self {
        Exception {
            code,
            name,
            message: message.into(),
        }
    }

    /// A fault on our side: logged in full, reported without internals.
    pub fn internal(error: &dyn std::fmt::Display) -> Self {
        tracing::error!(%error, "ClickHouse response failed");
        Exception::new(
            1002,
            "UNKNOWN_EXCEPTION",
            format!(
                "Internal error: the request could not be completed (request {}; the server log has the details)",
                crate::http::middleware::current_request_id()
            ),
        )
    }

    /// The whole HTTP answer: status, body, `X-ClickHouse-Exception-Code`.
    pub fn response(&self) -> axum::response::Response {
        self.response_with_body(self.body())
    }

    /// The response with `body` in place of the plain text (the text in compressed blocks).
    pub fn response_with_body(
        &self,
        body: impl Into<axum::body::Body>,
    ) -> axum::response::Response {
        use axum::response::IntoResponse;
        (
            self.status(),
            [
                (
                    axum::http::header::CONTENT_TYPE,
                    "text/plain; charset=UTF-8".to_string(),
                ),
                (
                    axum::http::HeaderName::from_static("x-clickhouse-exception-code"),
                    self.code.to_string(),
                ),
            ],
            body.into(),
        )
            .into_response()
    }

    /// The exception for `error`.
    pub fn from_error(error: &ApiError) -> Self {
        let (code, name) = code_of(error);
        Exception {
            code,
            name,
            message: error.public_message(),
        }
    }

    /// The status ClickHouse's HTTP handler answers this code with.
    pub fn status(&self) -> StatusCode {
        match self.code {
            // BAD_ARGUMENTS (36) is Strata's code for input no more specific code names: a
            // client's error, so a 400 like ClickHouse's parse errors.
            6 | 25 | 26 | 27 | 36 | 38 | 41 | 53 | 62 | 72 | 117 => StatusCode::BAD_REQUEST,
            // A body that does not decompress is the client's error (ClickHouse answers 500).
            40 | 89 | 271 => StatusCode::BAD_REQUEST,
            307 => StatusCode::PAYLOAD_TOO_LARGE,
            194 => StatusCode::UNAUTHORIZED,
            192 | 193 | 497 | 516 => StatusCode::FORBIDDEN,
            46 | 47 | 50 | 60 | 73 | 81 | 115 | 372 => StatusCode::NOT_FOUND,
            48 => StatusCode::NOT_IMPLEMENTED,
            201 => StatusCode::TOO_MANY_REQUESTS,
            209 => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The response body.
    pub fn body(&self) -> String {
        let message = self.message.trim_end().trim_end_matches('.');
        format!(
            "Code: {}. DB::Exception: {message}. ({}) (version {VERSION})\n",
            self.code, self.name
        )
    }
}

impl From<ApiError> for Exception {
    fn from(error: ApiError) -> Self {
        if error.kind() == ErrorKind::Internal {
            return Exception::internal(&error);
        }
        Exception::from_error(&error)
    }
}

impl From<&super::compression::Error> for Exception {
    /// A body that could not be decompressed.
    fn from(error: &super::compression::Error) -> Self {
        use super::compression::Error as C;
        let (code, name) = match error {
            C::Unknown(_) | C::UnknownBlockMethod { .. } => (89, "UNKNOWN_COMPRESSION_METHOD"),
            C::Checksum { .. } => (40, "CHECKSUM_DOESNT_MATCH"),
            C::Corrupt { .. } => (271, "CANNOT_DECOMPRESS"),
            C::TooLarge { .. } => (307, "TOO_MANY_BYTES"),
        };
        Exception::new(code, name, error.to_string())
    }
}

impl From<crate::sql::Error> for Exception {
    fn from(error: crate::sql::Error) -> Self {
        ApiError::Sql(error).into()
    }
}

fn code_of(error: &ApiError) -> (u32, &'static str) {
    use crate::sql::Error as Sql;
    match error {
        ApiError::Sql(Sql::UnknownDatabase { .. }) => (81, "UNKNOWN_DATABASE"),
        ApiError::Sql(Sql::Rows(_)) => (27, "CANNOT_PARSE_INPUT_ASSERTION_FAILED"),
        ApiError::Sql(Sql::Tiers(strata_tiers::Error::InvalidData(_))) => (53, "TYPE_MISMATCH"),
        ApiError::Sql(Sql::Empty | Sql::Parse(_) | Sql::MultipleStatements(_)) => {
            (62, "SYNTAX_ERROR")
        }
        ApiError::Sql(Sql::Unsupported { .. }) => (48, "NOT_IMPLEMENTED"),
        ApiError::Sql(Sql::UnknownTable { .. }) => (60, "UNKNOWN_TABLE"),
        ApiError::Sql(Sql::ReadOnlyRequest { .. }) => (164, "READONLY"),
        ApiError::Sql(Sql::Timeout { .. }) => (159, "TIMEOUT_EXCEEDED"),
        ApiError::Sql(Sql::Cancelled) => (394, "QUERY_WAS_CANCELLED"),
        ApiError::Sql(Sql::ResultTooLarge { .. }) => (396, "TOO_MANY_ROWS_OR_BYTES"),
        ApiError::Sql(Sql::Denied(e)) | ApiError::Auth(e) => auth_code(e),
        ApiError::Sql(Sql::Catalog(e)) => catalog_code(e).unwrap_or_else(|| by_kind(error.kind())),
        ApiError::Sql(Sql::Engine(e)) => engine_code(e).unwrap_or_else(|| by_kind(error.kind())),
        _ => by_kind(error.kind()),
    }
}

fn auth_code(e: &crate::auth::Error) -> (u32, &'static str) {
    match (e, e.kind()) {
        (crate::auth::Error::RateLimited { .. }, _) => (201, "QUOTA_EXCEEDED"),
        // Credentials sent two ways at once: ClickHouse refuses them as a failed login.
        (crate::auth::Error::DuplicateCredentials, _) => (516, "AUTHENTICATION_FAILED"),
        (_, ErrorKind::Unauthenticated) => (516, "AUTHENTICATION_FAILED"),
        (_, ErrorKind::Forbidden) => (497, "ACCESS_DENIED"),
        (_, kind) => by_kind(kind),
    }
}

fn catalog_code(e: &strata_catalog::Error) -> Option<(u32, &'static str)> {
    use strata_catalog::Error as C;
    Some(match e {
        C::TableNotFound(_) => (60, "UNKNOWN_TABLE"),
        C::TableExists(_) => (57, "TABLE_ALREADY_EXISTS"),
        C::ColumnNotFound { .. } => (16, "NO_SUCH_COLUMN_IN_TABLE"),
        C::ColumnExists { .. } => (15, "DUPLICATE_COLUMN"),
        C::UnsupportedType(_) => (50, "UNKNOWN_TYPE"),
        _ => return None,
    })
}

fn engine_code(e: &DataFusionError) -> Option<(u32, &'static str)> {
    use datafusion::common::SchemaError;
    Some(match e.find_root() {
        DataFusionError::SchemaError(err, _) => match err.as_ref() {
            SchemaError::FieldNotFound { .. } => (47, "UNKNOWN_IDENTIFIER"),
            _ => return None,
        },
        DataFusionError::SQL(..) => (62, "SYNTAX_ERROR"),
        DataFusionError::Plan(message) if message.contains("function") => (46, "UNKNOWN_FUNCTION"),
        DataFusionError::ArrowError(..) => (53, "TYPE_MISMATCH"),
        _ => return None,
    })
}

/// The code for a failure no more specific rule names.
fn by_kind(kind: ErrorKind) -> (u32, &'static str) {
    match kind {
        ErrorKind::InvalidInput => (36, "BAD_ARGUMENTS"),
        ErrorKind::NotFound => (60, "UNKNOWN_TABLE"),
        ErrorKind::NotAllowed => (164, "READONLY"),
        ErrorKind::Unauthenticated => (516, "AUTHENTICATION_FAILED"),
        ErrorKind::Forbidden => (497, "ACCESS_DENIED"),
        ErrorKind::TooLarge => (396, "TOO_MANY_ROWS_OR_BYTES"),
        ErrorKind::Timeout => (159, "TIMEOUT_EXCEEDED"),
        ErrorKind::Unavailable => (209, "SOCKET_TIMEOUT"),
        ErrorKind::Upstream => (1002, "UNKNOWN_EXCEPTION"),
        ErrorKind::Internal => (1002, "UNKNOWN_EXCEPTION"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exception(e: ApiError) -> Exception {
        Exception::from_error(&e)
    }

    #[test]
    fn bodies_are_in_the_modern_form_clients_parse() {
        let e = exception(ApiError::Sql(crate::sql::Error::UnknownTable {
            name: "nope".into(),
        }));
        assert_eq!(
            (e.code, e.name, e.status()),
            (60, "UNKNOWN_TABLE", StatusCode::NOT_FOUND)
        );
        let body = e.body();
        assert!(body.starts_with("Code: 60. DB::Exception: "), "{body}");
        assert!(
            body.ends_with(". (UNKNOWN_TABLE) (version 24.8.1.1)\n"),
            "{body}"
        );
        assert!(body.contains("nope"), "{body}");
        let syntax = exception(ApiError::Sql(crate::sql::Error::parse("Expected: SELECT")));
        assert_eq!(
            (syntax.code, syntax.status()),
            (62, StatusCode::BAD_REQUEST)
        );
    }

    #[test]
    fn refusals_are_clickhouse_refusals() {
        let who = exception(ApiError::Auth(crate::auth::Error::InvalidApiKey));
        assert_eq!((who.code, who.status()), (516, StatusCode::FORBIDDEN));
        let denied = exception(ApiError::Sql(crate::sql::Error::Denied(
            crate::auth::Error::TableNotAllowed {
                table: "secret".into(),
            },
        )));
        assert_eq!((denied.code, denied.name), (497, "ACCESS_DENIED"));
        assert!(
            denied
                .body()
                .contains("Access denied: table 'secret' not in allowed list")
        );
        let twice = exception(ApiError::Auth(crate::auth::Error::DuplicateCredentials));
        assert_eq!((twice.code, twice.status()), (516, StatusCode::FORBIDDEN));
        let cancelled = exception(ApiError::Sql(crate::sql::Error::Cancelled));
        assert_eq!(cancelled.code, 394);
    }

    #[test]
    fn server_faults_reveal_nothing() {
        let e = exception(ApiError::Encode(crate::format::Error::Arrow(
            arrow::error::ArrowError::ComputeError("state at secret.rs:1".into()),
        )));
        assert_eq!(
            (e.code, e.status()),
            (1002, StatusCode::INTERNAL_SERVER_ERROR)
        );
        assert!(!e.body().contains("secret.rs"), "{}", e.body());
    }
}
