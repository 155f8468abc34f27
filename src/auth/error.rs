//! What authentication and authorization can refuse, in the terms of identities and scope.
//!
//! Each front door maps these to its own answer (the ZeptoDB edge: 401 with `WWW-Authenticate`,
//! 403 with the reference's wording, 400 for ambiguous credentials); [`Error::kind`] is the part
//! every edge shares. Refusals never say whether a table exists, and never echo a credential.

use std::time::Duration;

use super::role::Permission;
use crate::error::ErrorKind;

/// Every refusal, and the key store's own failures.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No credential at all on a request that needs one.
    #[error("No Authorization header")]
    MissingCredentials,

    /// An `Authorization` value that is not `Bearer <token>`.
    #[error("Invalid Authorization header format: send `Authorization: Bearer <API key or JWT>`")]
    BadScheme,

    /// Two `Authorization` (or `Cookie`) headers: which one counts is ambiguous.
    #[error("Ambiguous duplicate credential headers")]
    DuplicateCredentials,

    /// No enabled, unexpired key has this value (one answer for unknown, revoked, disabled and
    /// expired keys alike).
    #[error("Invalid API key")]
    InvalidApiKey,

    /// A JWT that does not verify; `reason` names the check, never the token.
    #[error("Invalid token: {reason}")]
    InvalidToken {
        /// Which check failed.
        reason: &'static str,
    },

    /// A `zepto_sid` cookie that names no live session (unknown, ended, or its key revoked).
    #[error("Invalid or expired session")]
    InvalidSession,

    /// The identity provider (JWKS endpoint, OIDC discovery or token endpoint) failed or
    /// answered something unusable; the message says which.
    #[error("Identity provider request failed: {0}")]
    IdentityProvider(String),

    /// An OIDC endpoint was called on a server started without `--oidc-issuer`.
    #[error(
        "OIDC is not configured (start with --oidc-issuer, --oidc-client-id, --oidc-client-secret and --oidc-redirect-uri)"
    )]
    OidcUnconfigured,

    /// A login callback whose `state` was not issued by this server's `/auth/login` (or has
    /// expired): possibly a forged login.
    #[error("Unknown or expired login state: start again at /auth/login")]
    LoginState,

    /// A request that needs a Bearer token (or a session) for something else.
    #[error("{0}")]
    Unsupported(&'static str),

    /// Authenticated, but the identity carries a table, tenant or subject value that could
    /// not be a scope (empty entries, control characters, separators).
    #[error("Authenticated identity contains an invalid authorization scope")]
    InvalidScope,

    /// The role does not grant what the request needs.
    #[error("{}", permission_message(*.permission, .what))]
    PermissionRequired {
        /// What was needed.
        permission: Permission,
        /// What needed it (`SQL statement`), or empty for an endpoint.
        what: &'static str,
    },

    /// SQL that cannot be classified (it does not parse): refused while authentication is on.
    #[error("SQL statement could not be authorized ({reason})")]
    Unclassified {
        /// Why it could not be classified.
        reason: String,
    },

    /// A table outside the identity's `allowed_tables`.
    #[error("Access denied: table '{table}' not in allowed list")]
    TableNotAllowed {
        /// The table.
        table: String,
    },

    /// A table outside the tenant's namespace.
    #[error("Tenant '{tenant}' cannot access table '{table}'")]
    TenantTable {
        /// The tenant.
        tenant: String,
        /// The table.
        table: String,
    },

    /// The identity names a tenant this server was not started with (`--tenant`).
    #[error("Authenticated tenant scope is not configured")]
    TenantUnconfigured,

    /// The tenant already runs its `max_concurrent_queries`.
    #[error("Tenant query concurrency limit exceeded")]
    TenantBusy,

    /// A symbol-scoped identity tried to change rows.
    #[error("Symbol-scoped identities cannot write: their writes could touch other symbols' rows")]
    SymbolScopedWrite,

    /// A symbol-scoped identity on a surface whose rows carry no symbol.
    #[error("Symbol-scoped data access is not available on this endpoint")]
    SymbolScopeUnavailable,

    /// A symbol-scoped identity read a table whose rows carry no symbol.
    #[error("Table '{table}' has no SYMBOL column: a symbol-scoped identity cannot read it")]
    NoSymbolColumn {
        /// The table.
        table: String,
    },

    /// Over the identity's or the client address's request rate.
    #[error("Rate limit exceeded")]
    RateLimited {
        /// When a request will be accepted again.
        retry_after: Duration,
        /// Whether the address's bucket (charged before any credential is checked) refused.
        before_authentication: bool,
    },

    /// A key field that cannot be stored; the message names it.
    #[error("{0}")]
    InvalidKeyField(String),

    /// No key with this id.
    #[error("Key not found")]
    KeyNotFound,

    /// The key file could not be read or written.
    #[error("API key file {path}: {source}")]
    KeyFile {
        /// The file.
        path: String,
        /// The failure.
        #[source]
        source: std::io::Error,
    },

    /// The key file does not hold what Strata writes there.
    #[error("API key file {path} is malformed: {reason}")]
    MalformedKeyFile {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },

    /// The operating system's random source failed.
    #[error("the system random source failed")]
    Random,
}

/// `WRITE permission required for SQL statement`; for an endpoint, `METRICS permission
/// required`, and `Admin permission required` as the reference capitalises that one.
fn permission_message(p: Permission, what: &str) -> String {
    match (p, what) {
        (Permission::Admin, "") => "Admin permission required".into(),
        (p, "") => format!("{p} permission required"),
        (p, what) => format!("{p} permission required for {what}"),
    }
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whose fault the refusal is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::MissingCredentials
            | Error::BadScheme
            | Error::InvalidApiKey
            | Error::InvalidToken { .. }
            | Error::InvalidSession => ErrorKind::Unauthenticated,
            Error::InvalidScope
            | Error::PermissionRequired { .. }
            | Error::Unclassified { .. }
            | Error::TableNotAllowed { .. }
            | Error::TenantTable { .. }
            | Error::TenantUnconfigured
            | Error::SymbolScopedWrite
            | Error::SymbolScopeUnavailable
            | Error::NoSymbolColumn { .. }
            | Error::RateLimited { .. } => ErrorKind::Forbidden,
            Error::DuplicateCredentials
            | Error::InvalidKeyField(_)
            | Error::TenantBusy
            | Error::LoginState
            | Error::Unsupported(_) => ErrorKind::InvalidInput,
            Error::IdentityProvider(_) => ErrorKind::Upstream,
            Error::OidcUnconfigured => ErrorKind::Unavailable,
            Error::KeyNotFound => ErrorKind::NotFound,
            Error::KeyFile { .. } | Error::MalformedKeyFile { .. } | Error::Random => {
                ErrorKind::Internal
            }
        }
    }

    /// The audit log's word for a refusal (`sql-WRITE-forbidden`, `admin-forbidden`, …).
    pub fn audit_detail(&self) -> String {
        match self {
            Error::MissingCredentials => "missing-credentials".into(),
            Error::BadScheme => "bad-authorization-scheme".into(),
            Error::DuplicateCredentials => "duplicate-credentials".into(),
            Error::InvalidApiKey => "apikey-invalid".into(),
            Error::InvalidToken { reason } => format!("jwt-invalid: {reason}"),
            Error::InvalidSession => "session-invalid".into(),
            Error::LoginState => "oidc-state-invalid".into(),
            Error::InvalidScope => "invalid-scope-forbidden".into(),
            Error::PermissionRequired {
                permission: Permission::Admin,
                what: "",
            } => "admin-forbidden".into(),
            Error::PermissionRequired {
                permission,
                what: "",
            } => {
                format!("{}-forbidden", permission.as_str().to_ascii_lowercase())
            }
            Error::PermissionRequired { permission, .. } => format!("sql-{permission}-forbidden"),
            Error::Unclassified { .. } => "sql-unclassified-forbidden".into(),
            Error::TableNotAllowed { table } => format!("sql-table-forbidden: {table}"),
            Error::TenantTable { table, .. } => format!("sql-tenant-table-forbidden: {table}"),
            Error::TenantUnconfigured => "tenant-scope-unconfigured-forbidden".into(),
            Error::TenantBusy => "tenant-concurrency-refused".into(),
            Error::SymbolScopedWrite => "symbol-write-forbidden".into(),
            Error::SymbolScopeUnavailable => "symbol-scope-forbidden".into(),
            Error::NoSymbolColumn { table } => format!("symbol-scope-forbidden: {table}"),
            Error::RateLimited {
                before_authentication: true,
                ..
            } => "pre-auth-rate-limit-forbidden".into(),
            Error::RateLimited { .. } => "rate-limit-forbidden".into(),
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_the_references() {
        let sql = Error::PermissionRequired {
            permission: Permission::Ingest,
            what: "SQL statement",
        };
        assert_eq!(
            sql.to_string(),
            "WRITE permission required for SQL statement"
        );
        assert_eq!(sql.audit_detail(), "sql-WRITE-forbidden");
        let admin = Error::PermissionRequired {
            permission: Permission::Admin,
            what: "",
        };
        assert_eq!(admin.to_string(), "Admin permission required");
        assert_eq!(admin.audit_detail(), "admin-forbidden");
        let metrics = Error::PermissionRequired {
            permission: Permission::Metrics,
            what: "",
        };
        assert_eq!(metrics.to_string(), "METRICS permission required");
        assert_eq!(
            Error::TenantTable {
                tenant: "deska".into(),
                table: "deskb_t".into()
            }
            .to_string(),
            "Tenant 'deska' cannot access table 'deskb_t'"
        );
        assert_eq!(
            Error::TableNotAllowed {
                table: "secret".into()
            }
            .to_string(),
            "Access denied: table 'secret' not in allowed list"
        );
    }
}
