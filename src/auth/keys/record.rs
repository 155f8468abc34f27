//! One API key as stored, what creating or changing one asks for, and the checks every field
//! passes before it is stored (so a key file only ever holds values a scope can be built from).

use serde::{Deserialize, Serialize};

use crate::auth::error::Error;
use crate::auth::role::Role;

/// The prefix of every key (the reference's format: `zepto_` + 64 lowercase hex digits).
pub const KEY_PREFIX: &str = "zepto_";
/// Length of a key.
pub const KEY_LEN: usize = KEY_PREFIX.len() + 64;
/// Longest name, table or symbol accepted.
const MAX_FIELD: usize = 256;

/// A key as the key file holds it: everything but the key itself, which is kept only as its
/// SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRecord {
    /// `ak_` + 8 hex digits.
    pub id: String,
    /// A label.
    pub name: String,
    /// The role's name.
    pub role: String,
    /// SHA-256 of the key, lowercase hex.
    pub sha256: String,
    /// Disabled keys are refused until enabled again.
    pub enabled: bool,
    /// Creation time, ns since the epoch.
    pub created_at_ns: i64,
    /// Last successful use, ns since the epoch (0: never).
    pub last_used_ns: i64,
    /// Expiry, ns since the epoch (0: never).
    pub expires_at_ns: i64,
    /// The tenant it acts for (empty: none).
    pub tenant_id: String,
    /// The only symbols it sees (empty: all).
    pub allowed_symbols: Vec<String>,
    /// The only tables it touches (empty: all).
    pub allowed_tables: Vec<String>,
}

/// A key as listings show it: never the key, never its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    /// `ak_…`.
    pub id: String,
    /// Label.
    pub name: String,
    /// Role.
    pub role: String,
    /// Enabled.
    pub enabled: bool,
    /// Created, ns.
    pub created_at_ns: i64,
    /// Last used, ns (0: never).
    pub last_used_ns: i64,
    /// Expiry, ns (0: never).
    pub expires_at_ns: i64,
    /// Tenant (empty: none).
    pub tenant_id: String,
    /// Symbols (empty: all).
    pub allowed_symbols: Vec<String>,
    /// Tables (empty: all).
    pub allowed_tables: Vec<String>,
}

impl From<&KeyRecord> for KeyInfo {
    fn from(r: &KeyRecord) -> Self {
        KeyInfo {
            id: r.id.clone(),
            name: r.name.clone(),
            role: r.role.clone(),
            enabled: r.enabled,
            created_at_ns: r.created_at_ns,
            last_used_ns: r.last_used_ns,
            expires_at_ns: r.expires_at_ns,
            tenant_id: r.tenant_id.clone(),
            allowed_symbols: r.allowed_symbols.clone(),
            allowed_tables: r.allowed_tables.clone(),
        }
    }
}

/// What creating a key asks for (`POST /admin/keys`, `strata keys create`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// Required label.
    pub name: Option<String>,
    /// Role name (default `reader`).
    pub role: Option<String>,
    /// Symbol whitelist.
    #[serde(default)]
    pub symbols: Vec<String>,
    /// Table whitelist.
    #[serde(default)]
    pub tables: Vec<String>,
    /// Tenant.
    #[serde(default)]
    pub tenant_id: String,
    /// Expiry, ns (0: never).
    #[serde(default)]
    pub expires_at_ns: i64,
}

/// What changing a key asks for (`PATCH /admin/keys/{id}`): only the fields given change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyUpdate {
    /// New symbol whitelist.
    pub symbols: Option<Vec<String>>,
    /// New table whitelist.
    pub tables: Option<Vec<String>>,
    /// Enable or disable.
    pub enabled: Option<bool>,
    /// New tenant.
    pub tenant_id: Option<String>,
    /// New expiry (0: never).
    pub expires_at_ns: Option<i64>,
}

impl NewKey {
    /// The checked role and fields, or a message naming the first bad field.
    pub fn validate(&self) -> Result<Role, Error> {
        let name = self
            .name
            .as_deref()
            .ok_or_else(|| Error::InvalidKeyField("Missing 'name' field".into()))?;
        check_value("name", name)?;
        let role = match self.role.as_deref() {
            None => Role::Reader,
            Some(r) => parse_role(r)?,
        };
        check_list("symbols", &self.symbols)?;
        check_list("tables", &self.tables)?;
        check_tenant(&self.tenant_id)?;
        check_expiry(self.expires_at_ns)?;
        Ok(role)
    }
}

impl KeyUpdate {
    /// Checks every field given, before any is applied.
    pub fn validate(&self) -> Result<(), Error> {
        if let Some(s) = &self.symbols {
            check_list("symbols", s)?;
        }
        if let Some(t) = &self.tables {
            check_list("tables", t)?;
        }
        if let Some(t) = &self.tenant_id {
            check_tenant(t)?;
        }
        if let Some(e) = self.expires_at_ns {
            check_expiry(e)?;
        }
        Ok(())
    }

    /// Applies the (checked) changes to `record`.
    pub fn apply(&self, record: &mut KeyRecord) {
        if let Some(s) = &self.symbols {
            record.allowed_symbols = s.clone();
        }
        if let Some(t) = &self.tables {
            record.allowed_tables = t.clone();
        }
        if let Some(e) = self.enabled {
            record.enabled = e;
        }
        if let Some(t) = &self.tenant_id {
            record.tenant_id = t.clone();
        }
        if let Some(e) = self.expires_at_ns {
            record.expires_at_ns = e;
        }
    }
}

impl KeyRecord {
    /// Checks a record read from the key file: the same rules as creation, plus the id and
    /// hash formats.
    pub fn validate(&self) -> Result<Role, String> {
        let hex = |s: &str, n: usize| {
            s.len() == n && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        };
        if !(self.id.starts_with("ak_") && hex(&self.id[3.min(self.id.len())..], 8)) {
            return Err(format!("key id {:?} is not ak_ + 8 hex digits", self.id));
        }
        if !hex(&self.sha256, 64) {
            return Err(format!(
                "key {}: sha256 is not 64 lowercase hex digits",
                self.id
            ));
        }
        let checks = || -> Result<Role, Error> {
            check_value("name", &self.name)?;
            check_list("allowed_symbols", &self.allowed_symbols)?;
            check_list("allowed_tables", &self.allowed_tables)?;
            check_tenant(&self.tenant_id)?;
            check_expiry(self.expires_at_ns)?;
            parse_role(&self.role)
        };
        checks().map_err(|e| format!("key {}: {e}", self.id))
    }
}

fn parse_role(name: &str) -> Result<Role, Error> {
    Role::parse(name).ok_or_else(|| {
        let names: Vec<_> = Role::ASSIGNABLE.iter().map(|r| r.as_str()).collect();
        Error::InvalidKeyField(format!(
            "Unknown role '{name}': one of {}",
            names.join(", ")
        ))
    })
}

/// A name, table, symbol or tenant: non-empty, short, printable, and free of the separators
/// of the reference's key file (`|`, `,`).
fn check_value(field: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::InvalidKeyField(format!(
            "'{field}' must not be empty"
        )));
    }
    if value.len() > MAX_FIELD {
        return Err(Error::InvalidKeyField(format!(
            "'{field}' is longer than {MAX_FIELD} bytes"
        )));
    }
    if value
        .chars()
        .any(|c| c.is_control() || c == '|' || c == ',')
    {
        return Err(Error::InvalidKeyField(format!(
            "'{field}' must not contain control characters, '|' or ','"
        )));
    }
    Ok(())
}

fn check_list(field: &str, values: &[String]) -> Result<(), Error> {
    values.iter().try_for_each(|v| check_value(field, v))
}

fn check_tenant(tenant: &str) -> Result<(), Error> {
    if tenant.is_empty() {
        Ok(())
    } else {
        check_value("tenant_id", tenant)
    }
}

fn check_expiry(ns: i64) -> Result<(), Error> {
    if ns < 0 {
        Err(Error::InvalidKeyField(
            "'expires_at_ns' must be 0 (never) or a time in nanoseconds since the epoch".into(),
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(json: &str) -> Result<Role, String> {
        let key: NewKey = serde_json::from_str(json).map_err(|e| e.to_string())?;
        key.validate().map_err(|e| e.to_string())
    }

    #[test]
    fn creation_rules() {
        assert_eq!(new(r#"{"name":"r1"}"#), Ok(Role::Reader));
        assert_eq!(
            new(
                r#"{"name":"w","role":"writer","tables":["trades"],"symbols":["AAPL"],"tenant_id":"d","expires_at_ns":5}"#
            ),
            Ok(Role::Writer)
        );
        assert_eq!(
            new(r#"{"role":"reader"}"#).unwrap_err(),
            "Missing 'name' field"
        );
        assert!(
            new(r#"{"name":"x","role":"superuser"}"#)
                .unwrap_err()
                .contains("Unknown role")
        );
        assert!(new(r#"{"name":"x","role":"unknown"}"#).is_err());
        for bad in [
            r#"{"name":"x","tables":[""]}"#,
            r#"{"name":"a|b"}"#,
            r#"{"name":"a,b"}"#,
            r#"{"name":"a\nb"}"#,
            r#"{"name":""}"#,
            r#"{"name":"x","expires_at_ns":-1}"#,
            r#"{"name":"x","symbols":["A,B"]}"#,
            r#"{"name":"x","tenant_id":"t\u0000"}"#,
            r#"{"name":"x","colour":"red"}"#,
        ] {
            assert!(new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn updates_are_checked_before_applied() {
        let bad: KeyUpdate = serde_json::from_str(r#"{"enabled":false,"tables":[""]}"#).unwrap();
        assert!(bad.validate().is_err());
        let good: KeyUpdate = serde_json::from_str(r#"{"enabled":false,"tables":["t"]}"#).unwrap();
        assert!(good.validate().is_ok());
    }
}
