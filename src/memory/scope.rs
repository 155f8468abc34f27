//! Where a memory belongs, and what a search asks for: tenant, namespace, user, session, agent
//! and type, defined once for the records, the search filter, the Lance columns, the index
//! filter and the API's field names.

/// Namespace of records and queries that name none.
pub const DEFAULT_NAMESPACE: &str = "default";
/// `type` of memories that name none.
pub const DEFAULT_TYPE: &str = "memory";

/// How many scope fields there are.
pub const SCOPE_LEN: usize = 6;

/// The scope fields in [`Scope::values`] order, as the API's JSON fields, the Lance columns and
/// the index filters name them.
pub const SCOPE_FIELDS: [&str; SCOPE_LEN] = [
    "tenant_id",
    "namespace",
    "user_id",
    "session_id",
    "agent_id",
    "type",
];

/// The six scope fields of a memory. In a search filter an empty field is a wildcard, except
/// the namespace, which a search always names (defaulted to [`DEFAULT_NAMESPACE`]); an empty
/// tenant there means every tenant (single-tenant use).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Owner; empty for single-tenant use.
    pub tenant_id: String,
    /// Sub-scope within the tenant.
    pub namespace: String,
    /// Optional scope.
    pub user_id: String,
    /// Optional scope.
    pub session_id: String,
    /// Optional scope.
    pub agent_id: String,
    /// `type` in the API: `preference`, `fact`, ...
    pub kind: String,
}

impl Scope {
    /// The fields in [`SCOPE_FIELDS`] order.
    pub fn values(&self) -> [&str; SCOPE_LEN] {
        [
            &self.tenant_id,
            &self.namespace,
            &self.user_id,
            &self.session_id,
            &self.agent_id,
            &self.kind,
        ]
    }

    /// A scope from its fields in [`SCOPE_FIELDS`] order.
    pub fn from_values(values: [String; SCOPE_LEN]) -> Self {
        let [tenant_id, namespace, user_id, session_id, agent_id, kind] = values;
        Self {
            tenant_id,
            namespace,
            user_id,
            session_id,
            agent_id,
            kind,
        }
    }

    /// A stored memory's scope: the namespace and type defaulted when absent or empty.
    pub fn with_defaults(mut self) -> Self {
        self.namespace = namespace(Some(self.namespace));
        if self.kind.is_empty() {
            self.kind = DEFAULT_TYPE.into();
        }
        self
    }
}

/// `namespace`, defaulted.
pub fn namespace(given: Option<String>) -> String {
    given
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| DEFAULT_NAMESPACE.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_follow_the_field_names() {
        let names = SCOPE_FIELDS.map(String::from);
        let scope = Scope::from_values(names.clone());
        assert_eq!(scope.values(), SCOPE_FIELDS);
        assert_eq!(scope.kind, "type");
        assert_eq!(Scope::from_values(names).tenant_id, "tenant_id");
    }

    #[test]
    fn defaults_fill_namespace_and_type_only() {
        let scope = Scope {
            user_id: "u".into(),
            ..Scope::default()
        }
        .with_defaults();
        assert_eq!(scope.values(), ["", "default", "u", "", "", "memory"]);
    }
}
