//! Results of statements that read nothing and compute only with literals and operators
//! (`SELECT 1`: the health check of ClickHouse clients, Grafana data sources and load
//! balancers). DataFusion plans and runs such a statement once; its result is a function of the
//! statement's text alone, so later requests are answered from memory without planning, which
//! is most of what a trivial statement costs.
//!
//! Only what cannot change between runs qualifies: no table, table function or subquery over
//! one, no function call (`now()`, `random()`, `version()` are all refused, known or not), no
//! cast (a cast to a time type reads the session's time zone), no placeholder. Refusals go
//! through the planner as before; errors are never kept.

use std::collections::HashMap;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, Query, SetExpr, Statement, TableFactor, Value, Visit, Visitor,
};
use parking_lot::Mutex;

use super::QueryOutput;

/// How many distinct statements are kept; past it the memory starts over.
const KEPT: usize = 256;
/// Longer statements are not kept (their text is the key).
const MAX_TEXT: usize = 1024;

/// The results of literal-only statements already run, by statement text.
#[derive(Debug, Default)]
pub(super) struct ConstantResults {
    kept: Mutex<HashMap<String, QueryOutput>>,
}

impl ConstantResults {
    /// The key under which `statement`'s result can be kept, when it qualifies.
    pub(super) fn key(statement: &Statement) -> Option<String> {
        let Statement::Query(query) = statement else {
            return None;
        };
        if !reads_nothing(query) {
            return None;
        }
        let mut check = LiteralsOnly;
        if statement.visit(&mut check).is_break() {
            return None;
        }
        let text = statement.to_string();
        (text.len() <= MAX_TEXT).then_some(text)
    }

    /// The result kept for `key`.
    pub(super) fn get(&self, key: &str) -> Option<QueryOutput> {
        self.kept.lock().get(key).cloned()
    }

    /// Keeps `output` as the result of the statement of `key`.
    pub(super) fn keep(&self, key: String, output: &QueryOutput) {
        let mut kept = self.kept.lock();
        if kept.len() >= KEPT {
            kept.clear();
        }
        kept.insert(key, output.clone());
    }
}

/// Whether `query` is made of `SELECT`s (and set operations on them) without `FROM`, `INTO` or
/// `WITH`.
fn reads_nothing(query: &Query) -> bool {
    query.with.is_none() && body_reads_nothing(&query.body)
}

fn body_reads_nothing(body: &SetExpr) -> bool {
    match body {
        SetExpr::Select(select) => select.from.is_empty() && select.into.is_none(),
        SetExpr::SetOperation { left, right, .. } => {
            body_reads_nothing(left) && body_reads_nothing(right)
        }
        SetExpr::Query(query) => reads_nothing(query),
        _ => false,
    }
}

/// Stops at anything but literals and the operators over them.
struct LiteralsOnly;

impl Visitor for LiteralsOnly {
    type Break = ();

    fn pre_visit_table_factor(&mut self, _: &TableFactor) -> ControlFlow<()> {
        ControlFlow::Break(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        match expr {
            Expr::Value(v) if !matches!(v.value, Value::Placeholder(_)) => {
                ControlFlow::Continue(())
            }
            Expr::UnaryOp { .. } | Expr::BinaryOp { .. } | Expr::Nested(_) => {
                ControlFlow::Continue(())
            }
            _ => ControlFlow::Break(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::GenericDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn key(sql: &str) -> Option<String> {
        let statements = Parser::parse_sql(&GenericDialect {}, sql).unwrap();
        ConstantResults::key(&statements[0])
    }

    #[test]
    fn literals_and_operators_qualify() {
        for sql in [
            "SELECT 1",
            "select 1 as ok",
            "SELECT 1 + 2 * 3, 'a' || 'b', -4, NULL, true",
            "SELECT (1), 2 WHERE 1 = 1 LIMIT 1",
            "SELECT 1 UNION ALL SELECT 2",
        ] {
            assert!(key(sql).is_some(), "{sql}");
        }
        assert_eq!(
            key("select 1"),
            key("SELECT   1"),
            "the key is the statement, not its spacing"
        );
    }

    #[test]
    fn anything_that_can_change_between_runs_does_not() {
        for sql in [
            "SELECT now()",
            "SELECT random()",
            "SELECT version()",
            "SELECT CAST('2026-01-01' AS TIMESTAMP)",
            "SELECT TIMESTAMP '2026-01-01 00:00:00'",
            "SELECT x",
            "SELECT 1 FROM trades",
            "SELECT 1 FROM generate_series(1, 3)",
            "SELECT (SELECT count(*) FROM trades)",
            "SELECT 1 WHERE EXISTS (SELECT 1 FROM trades)",
            "WITH t AS (SELECT 1) SELECT 1",
            "SELECT $1",
            "SELECT 1 INTO t",
            "INSERT INTO t VALUES (1)",
        ] {
            assert!(key(sql).is_none(), "{sql}");
        }
    }

    #[test]
    fn a_full_memory_starts_over() {
        let results = ConstantResults::default();
        let output = QueryOutput::new(
            std::sync::Arc::new(arrow::datatypes::Schema::empty()),
            Vec::new(),
        );
        for i in 0..=KEPT {
            results.keep(format!("SELECT {i}"), &output);
        }
        assert_eq!(results.kept.lock().len(), 1);
        assert!(results.get(&format!("SELECT {KEPT}")).is_some());
    }
}
