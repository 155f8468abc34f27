//! Roles and what they allow: the reference's table, one row per role.
//!
//! | role | Query | Ingest | Stats | Metrics | Admin |
//! |---|---|---|---|---|---|
//! | admin | ✓ | ✓ | ✓ | ✓ | ✓ |
//! | writer | ✓ | ✓ | ✓ | | |
//! | reader | ✓ | | | | |
//! | analyst | ✓ | | ✓ | ✓ | |
//! | metrics | | | ✓ | ✓ | |
//!
//! `analyst` follows the reference's documentation (its code grants nothing). A token whose role
//! claim is missing or names no role is [`Role::Unknown`]: authenticated, allowed nothing.

use std::fmt;

/// One capability a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read statements, Agent Memory reads.
    Query,
    /// INSERT/UPDATE/DELETE, `/insert/*`, Agent Memory writes.
    Ingest,
    /// `/stats`, `/api/ai/stats`.
    Stats,
    /// `/metrics`.
    Metrics,
    /// DDL, storage maintenance, `/admin/*`.
    Admin,
}

impl Permission {
    /// The permission's name in denial messages, as the reference spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Query => "READ",
            Permission::Ingest => "WRITE",
            Permission::Stats => "STATS",
            Permission::Metrics => "METRICS",
            Permission::Admin => "ADMIN",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an identity is allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Everything.
    Admin,
    /// Query, ingest, stats.
    Writer,
    /// Query.
    Reader,
    /// Query, stats, metrics.
    Analyst,
    /// Stats, metrics.
    Metrics,
    /// A token naming no role: nothing.
    Unknown,
}

impl Role {
    /// Every role a key can be given.
    pub const ASSIGNABLE: [Role; 5] = [
        Role::Admin,
        Role::Writer,
        Role::Reader,
        Role::Analyst,
        Role::Metrics,
    ];

    /// Whether the role grants `permission`.
    pub fn grants(self, permission: Permission) -> bool {
        use Permission as P;
        match self {
            Role::Admin => true,
            Role::Writer => matches!(permission, P::Query | P::Ingest | P::Stats),
            Role::Reader => permission == P::Query,
            Role::Analyst => matches!(permission, P::Query | P::Stats | P::Metrics),
            Role::Metrics => matches!(permission, P::Stats | P::Metrics),
            Role::Unknown => false,
        }
    }

    /// The role named `name` (lower case, as the API writes it); `None` for anything else.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ASSIGNABLE.into_iter().find(|r| r.as_str() == name)
    }

    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Writer => "writer",
            Role::Reader => "reader",
            Role::Analyst => "analyst",
            Role::Metrics => "metrics",
            Role::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_table() {
        use Permission::*;
        let all = [Query, Ingest, Stats, Metrics, Admin];
        let table = [
            (Role::Admin, [true, true, true, true, true]),
            (Role::Writer, [true, true, true, false, false]),
            (Role::Reader, [true, false, false, false, false]),
            (Role::Analyst, [true, false, true, true, false]),
            (Role::Metrics, [false, false, true, true, false]),
            (Role::Unknown, [false; 5]),
        ];
        for (role, row) in table {
            for (p, want) in all.into_iter().zip(row) {
                assert_eq!(role.grants(p), want, "{role} {p}");
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for role in Role::ASSIGNABLE {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("unknown"), None);
        assert_eq!(Role::parse("Admin"), None);
        assert_eq!(Role::parse("superuser"), None);
    }
}
