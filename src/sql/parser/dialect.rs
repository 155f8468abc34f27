//! The SQL dialect Strata parses: sqlparser's generic dialect plus table versions
//! (`t VERSION AS OF 3`, `t TIMESTAMP AS OF '…'`, as Databricks spells Delta time travel); for
//! ClickHouse clients, also ClickHouse's backslash escapes in string literals (`'a\tb'`).
//!
//! The generic dialect is what DataFusion plans, and parser code branches on the dialect's type
//! (`dialect_of!`), so [`StrataDialect`] reports itself as the generic dialect and forwards every
//! setting the generic dialect changes; only `supports_table_versioning` differs.

use std::any::TypeId;

use datafusion::sql::sqlparser::dialect::{Dialect, GenericDialect};

/// The generic dialect with table versions turned on.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct StrataDialect {
    /// Whether string literals take ClickHouse's backslash escapes.
    clickhouse: bool,
}

impl StrataDialect {
    /// The dialect of ClickHouse requests.
    pub(crate) fn clickhouse() -> Self {
        Self { clickhouse: true }
    }
}

/// Forwards each named setting to the generic dialect.
macro_rules! generic {
    ($($name:ident)*) => {
        $(fn $name(&self) -> bool {
            GenericDialect.$name()
        })*
    };
}

impl Dialect for StrataDialect {
    fn dialect(&self) -> TypeId {
        TypeId::of::<GenericDialect>()
    }

    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        GenericDialect.is_delimited_identifier_start(ch)
    }

    fn is_identifier_start(&self, ch: char) -> bool {
        GenericDialect.is_identifier_start(ch)
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        GenericDialect.is_identifier_part(ch)
    }

    fn supports_table_versioning(&self) -> bool {
        true
    }

    fn supports_string_literal_backslash_escape(&self) -> bool {
        self.clickhouse
    }

    generic! {
        supports_unicode_string_literal
        supports_group_by_expr
        supports_group_by_with_modifier
        supports_left_associative_joins_without_parens
        supports_connect_by
        supports_match_recognize
        supports_pipe_operator
        supports_start_transaction_modifier
        supports_window_function_null_treatment_arg
        supports_dictionary_syntax
        supports_window_clause_named_window_reference
        supports_parenthesized_set_variables
        supports_select_wildcard_except
        support_map_literal_syntax
        allow_extract_custom
        allow_extract_single_quotes
        supports_extract_comma_syntax
        supports_create_view_comment_syntax
        supports_parens_around_table_factor
        supports_values_as_table_factor
        supports_create_index_with_clause
        supports_explain_with_utility_options
        supports_limit_comma
        supports_from_first_select
        supports_projection_trailing_commas
        supports_asc_desc_in_column_definition
        supports_try_convert
        supports_bitwise_shift_operators
        supports_comment_on
        supports_load_extension
        supports_named_fn_args_with_assignment_operator
        supports_struct_literal
        supports_empty_projections
        supports_nested_comments
        supports_multiline_comment_hints
        supports_user_host_grantee
        supports_string_escape_constant
        supports_array_typedef_with_brackets
        supports_match_against
        supports_set_names
        supports_comma_separated_set_assignments
        supports_filter_during_aggregation
        supports_select_wildcard_exclude
        supports_data_type_signed_suffix
        supports_interval_options
        supports_quote_delimited_string
        supports_lambda_functions
        supports_select_wildcard_replace
        supports_select_wildcard_ilike
        supports_select_wildcard_rename
        supports_optimize_table
        supports_install
        supports_detach
        supports_prewhere
        supports_with_fill
        supports_limit_by
        supports_interpolate
        supports_settings
        supports_select_format
        supports_comment_optimizer_hint
        supports_constraint_keyword_without_name
    }
}

#[cfg(test)]
mod tests {
    use datafusion::sql::sqlparser::ast::{SetExpr, Statement, TableFactor, TableVersion};
    use datafusion::sql::sqlparser::parser::Parser;

    use super::*;

    #[test]
    fn table_versions_parse_and_the_rest_stays_generic() {
        let parsed =
            Parser::parse_sql(&StrataDialect::default(), "SELECT * FROM t VERSION AS OF 3")
                .unwrap();
        let Statement::Query(q) = &parsed[0] else {
            panic!("not a query")
        };
        let SetExpr::Select(select) = q.body.as_ref() else {
            panic!("not a select")
        };
        let TableFactor::Table { version, .. } = &select.from[0].relation else {
            panic!("not a table")
        };
        assert!(matches!(version, Some(TableVersion::VersionAsOf(_))));
        // Generic-only syntax still parses the same way.
        for sql in ["SELECT * EXCLUDE (a) FROM t", "SELECT a FROM t LIMIT 1, 2"] {
            assert_eq!(
                Parser::parse_sql(&StrataDialect::default(), sql).unwrap(),
                Parser::parse_sql(&GenericDialect, sql).unwrap(),
                "{sql}"
            );
        }
    }
}
