//! Who sends a request ([`Identity`]), what it may reach ([`AccessScope`]), and the per-request
//! [`Caller`] every authorization decision is asked of.
//!
//! A caller is built once per request by the front door that authenticated it (or, with
//! authentication off, as the anonymous administrator) and passed down to the services; nothing
//! reads identity from client headers after that.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;

use super::audit::{Audit, Event};
use super::error::{Error, Result};
use super::role::{Permission, Role};
use super::tenants::{Tenant, TenantSlot};

/// How the identity was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Authentication is off: every caller is the anonymous administrator.
    Open,
    /// An API key (`zepto_…`).
    ApiKey,
    /// A JSON Web Token.
    Jwt,
}

impl Source {
    /// The source's name (`open`, `apikey`, `jwt`).
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Open => "open",
            Source::ApiKey => "apikey",
            Source::Jwt => "jwt",
        }
    }
}

/// What an identity may reach beyond its role. `None` everywhere means unrestricted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessScope {
    /// The only tables it may touch.
    pub tables: Option<BTreeSet<String>>,
    /// The only symbols whose rows it may see.
    pub symbols: Option<BTreeSet<String>>,
    /// The tenant it acts for.
    pub tenant: Option<String>,
}

impl AccessScope {
    /// Whether every value could be a table name, symbol or tenant id: no empty entries, no
    /// control characters, no list separators. A token carrying anything else is refused
    /// rather than read as some other scope.
    pub fn is_well_formed(&self) -> bool {
        let entry = |s: &str| !s.is_empty() && !s.chars().any(|c| c.is_control() || c == ',');
        self.tables.iter().flatten().all(|t| entry(t))
            && self.symbols.iter().flatten().all(|s| entry(s))
            && self.tenant.as_deref().is_none_or(entry)
    }
}

/// An authenticated principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Who: the key id (`ak_…`), the token's `sub`, or `anonymous`.
    pub subject: String,
    /// The key's name, for keys.
    pub name: Option<String>,
    /// What it may do.
    pub role: Role,
    /// How it was established.
    pub source: Source,
    /// What it may reach.
    pub scope: AccessScope,
    /// When the credential that proved it ends (a JWT's `exp`, a key's expiry); a session
    /// made from it ends then too.
    pub expires_at: Option<std::time::SystemTime>,
}

impl Identity {
    /// The anonymous administrator of open mode, acting for `tenant` when the client named one.
    pub fn anonymous(tenant: Option<String>) -> Self {
        Identity {
            subject: "anonymous".into(),
            name: None,
            role: Role::Admin,
            source: Source::Open,
            scope: AccessScope {
                tenant,
                ..AccessScope::default()
            },
            expires_at: None,
        }
    }
}

/// The tenant a request acts for, resolved against the tenants this server was started with.
#[derive(Debug, Clone)]
pub enum TenantBinding {
    /// No tenant.
    None,
    /// A registered tenant.
    Registered(Arc<Tenant>),
    /// A tenant this server does not know. Authenticated: refused on every data surface; open
    /// mode: the client's own label, with no table restriction (as the reference).
    Unregistered(String),
}

/// One request's identity, where it came from, and the audit log its refusals go to.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who.
    pub identity: Arc<Identity>,
    /// Its tenant.
    pub tenant: TenantBinding,
    /// The client's address, when known.
    pub from: Option<IpAddr>,
    /// What the request is, for the audit log (`POST /`).
    pub action: String,
    audit: Arc<Audit>,
}

impl Caller {
    /// A caller for `identity`.
    pub fn new(
        identity: Arc<Identity>,
        tenant: TenantBinding,
        from: Option<IpAddr>,
        action: String,
        audit: Arc<Audit>,
    ) -> Self {
        Caller {
            identity,
            tenant,
            from,
            action,
            audit,
        }
    }

    /// The anonymous administrator, for callers inside the server (tests, tools) with no
    /// request behind them.
    pub fn internal(audit: Arc<Audit>) -> Self {
        Caller::new(
            Arc::new(Identity::anonymous(None)),
            TenantBinding::None,
            None,
            "internal".into(),
            audit,
        )
    }

    /// Whether authentication is on for this request.
    pub fn is_authenticated(&self) -> bool {
        self.identity.source != Source::Open
    }

    /// The tenant id Agent Memory scopes the request to.
    pub fn tenant_id(&self) -> Option<&str> {
        match &self.tenant {
            TenantBinding::None => None,
            TenantBinding::Registered(t) => Some(&t.id),
            TenantBinding::Unregistered(id) => Some(id),
        }
    }

    /// The symbols whose rows the caller may see (`None`: all).
    pub fn symbols(&self) -> Option<&BTreeSet<String>> {
        self.identity.scope.symbols.as_ref()
    }

    /// Records `event_detail` for this caller.
    pub fn audit(&self, detail: impl Into<String>) {
        self.audit.record(Event::new(
            &self.identity,
            &self.action,
            detail.into(),
            self.from,
        ));
    }

    /// `error`, recorded in the audit log first.
    pub fn refuse(&self, error: Error) -> Error {
        self.audit(error.audit_detail());
        error
    }

    /// Refuses unless the role grants `permission`; `what` names what needs it in the message
    /// (`SQL statement`, or empty for an endpoint).
    pub fn require(&self, permission: Permission, what: &'static str) -> Result<()> {
        if self.identity.role.grants(permission) {
            Ok(())
        } else {
            Err(self.refuse(Error::PermissionRequired { permission, what }))
        }
    }

    /// Refuses unless the identity's tenant is usable: a registered tenant, or any label in
    /// open mode.
    pub fn require_tenant(&self) -> Result<()> {
        match &self.tenant {
            TenantBinding::Unregistered(_) if self.is_authenticated() => {
                Err(self.refuse(Error::TenantUnconfigured))
            }
            _ => Ok(()),
        }
    }

    /// Refuses unless every table is inside the identity's allowed tables and its tenant's
    /// namespace. Checked before anything looks the tables up, so a refusal says nothing about
    /// whether a table exists; every table is checked against the allowed list before any
    /// against the namespace (the reference's order).
    pub fn check_tables<'a>(
        &self,
        tables: impl IntoIterator<Item = &'a str> + Clone,
    ) -> Result<()> {
        self.require_tenant()?;
        if let Some(allowed) = &self.identity.scope.tables
            && let Some(table) = tables.clone().into_iter().find(|t| !allowed.contains(*t))
        {
            return Err(self.refuse(Error::TableNotAllowed {
                table: table.to_string(),
            }));
        }
        if let TenantBinding::Registered(tenant) = &self.tenant
            && let Some(table) = tables.into_iter().find(|t| !tenant.owns(t))
        {
            return Err(self.refuse(Error::TenantTable {
                tenant: tenant.id.clone(),
                table: table.to_string(),
            }));
        }
        Ok(())
    }

    /// Whether `table` is one the caller may see (what `SHOW TABLES` lists).
    pub fn may_see(&self, table: &str) -> bool {
        let listed = self
            .identity
            .scope
            .tables
            .as_ref()
            .is_none_or(|allowed| allowed.contains(table));
        let owned = match &self.tenant {
            TenantBinding::Registered(tenant) => tenant.owns(table),
            TenantBinding::Unregistered(_) => !self.is_authenticated(),
            TenantBinding::None => true,
        };
        listed && owned
    }

    /// Refuses writes by a symbol-scoped identity.
    pub fn require_unscoped_write(&self) -> Result<()> {
        if self.symbols().is_some() {
            Err(self.refuse(Error::SymbolScopedWrite))
        } else {
            Ok(())
        }
    }

    /// A query slot of the caller's tenant, held while the statement runs (none needed without
    /// a tenant limit).
    pub fn tenant_slot(&self) -> Result<Option<TenantSlot>> {
        match &self.tenant {
            TenantBinding::Registered(tenant) => tenant.acquire().map_err(|e| self.refuse(e)),
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::tenants::Tenants;

    fn caller(scope: AccessScope, role: Role, tenants: &Tenants) -> Caller {
        let tenant = tenants.bind(scope.tenant.as_deref());
        Caller::new(
            Arc::new(Identity {
                subject: "ak_00000000".into(),
                name: None,
                role,
                source: Source::ApiKey,
                scope,
                expires_at: None,
            }),
            tenant,
            None,
            "POST /".into(),
            Arc::new(Audit::new(16, None)),
        )
    }

    fn set(items: &[&str]) -> Option<BTreeSet<String>> {
        Some(items.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn tables_then_namespace() {
        let tenants = Tenants::parse(&["deska:deska_".to_string()]).unwrap();
        let t1 = caller(
            AccessScope {
                tables: set(&["trades"]),
                ..AccessScope::default()
            },
            Role::Reader,
            &tenants,
        );
        assert!(t1.check_tables(["trades"]).is_ok());
        let e = t1.check_tables(["trades", "secret"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Access denied: table 'secret' not in allowed list"
        );
        assert!(t1.may_see("trades") && !t1.may_see("secret"));

        let ten = caller(
            AccessScope {
                tenant: Some("deska".into()),
                tables: set(&["deska_t", "deskb_t"]),
                ..AccessScope::default()
            },
            Role::Writer,
            &tenants,
        );
        assert!(ten.check_tables(["deska_t"]).is_ok());
        let e = ten.check_tables(["deskb_t", "other"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Access denied: table 'other' not in allowed list"
        );
        let e = ten.check_tables(["deskb_t"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Tenant 'deska' cannot access table 'deskb_t'"
        );
        assert!(ten.may_see("deska_t") && !ten.may_see("deskb_t"));

        let lost = caller(
            AccessScope {
                tenant: Some("missing".into()),
                ..AccessScope::default()
            },
            Role::Admin,
            &tenants,
        );
        assert!(matches!(
            lost.check_tables(["t"]),
            Err(Error::TenantUnconfigured)
        ));
        assert!(!lost.may_see("t"));
    }

    #[test]
    fn scope_values_must_be_names() {
        let ok = AccessScope {
            tables: set(&["trades"]),
            symbols: set(&["AAPL"]),
            tenant: Some("desk".into()),
        };
        assert!(ok.is_well_formed());
        for bad in [
            AccessScope {
                tables: set(&[""]),
                ..AccessScope::default()
            },
            AccessScope {
                tables: set(&["a,b"]),
                ..AccessScope::default()
            },
            AccessScope {
                symbols: set(&["A\n"]),
                ..AccessScope::default()
            },
            AccessScope {
                tenant: Some("t\u{0}".into()),
                ..AccessScope::default()
            },
        ] {
            assert!(!bad.is_well_formed(), "{bad:?}");
        }
    }

    #[test]
    fn refusals_are_audited() {
        let tenants = Tenants::default();
        let reader = caller(AccessScope::default(), Role::Reader, &tenants);
        assert!(reader.require(Permission::Query, "SQL statement").is_ok());
        let e = reader
            .require(Permission::Admin, "SQL statement")
            .unwrap_err();
        assert_eq!(e.to_string(), "ADMIN permission required for SQL statement");
        let events = reader.audit.recent(10);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].detail, "sql-ADMIN-forbidden");
        assert_eq!(events[0].role, "reader");
    }
}
