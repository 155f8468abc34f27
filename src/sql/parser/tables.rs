//! The tables a statement touches, for authorization and the unknown-table check.
//!
//! Walks the whole statement (joins, subqueries in any clause, set operations, `INSERT … SELECT`,
//! `UPDATE … FROM`, `EXPLAIN`), keeping SQL's scoping of CTE names: a CTE name is not a table
//! where it is in scope, and a CTE that shadows a table hides it there but not in the CTE's own
//! body (`WITH t AS (SELECT * FROM t)` reads table `t`), unless the `WITH` is `RECURSIVE`. Table
//! functions (`generate_series(1, 3)`) are not tables. A versioned reference (`t VERSION AS OF 3`,
//! `t@v3`) touches `t`.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    ObjectName, Query, Statement as Ast, TableFactor, Visit, Visitor,
};

use super::{ident_name, table_name_lossy};

/// Every table `ast` touches, sorted, each once.
pub(crate) fn of_statement(ast: &Ast) -> Vec<String> {
    let mut walk = Walk::default();
    let _ = ast.visit(&mut walk);
    walk.found.into_iter().collect()
}

#[derive(Default)]
struct Walk {
    found: BTreeSet<String>,
    /// CTE names in scope, innermost last.
    ctes: Vec<String>,
    /// The next relation is the name of a table function.
    function_next: bool,
}

impl Visitor for Walk {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        let Some(with) = &query.with else {
            return ControlFlow::Continue(());
        };
        for cte in &with.cte_tables {
            if !with.recursive {
                // The body sees the CTEs before it, not itself: walk it now, before its name
                // is in scope. (It is walked again below with every name in scope, which can
                // only find fewer tables.)
                let _ = cte.query.visit(self);
            }
            self.ctes.push(ident_name(&cte.alias.name));
        }
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if let Some(with) = &query.with {
            let keep = self.ctes.len().saturating_sub(with.cte_tables.len());
            self.ctes.truncate(keep);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        // The factor's name is the next relation the walk meets.
        self.function_next = matches!(factor, TableFactor::Table { args: Some(_), .. });
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, name: &ObjectName) -> ControlFlow<()> {
        if std::mem::take(&mut self.function_next) {
            return ControlFlow::Continue(());
        }
        let mut table = table_name_lossy(name);
        if let Some(base) = super::history::versioned_name(&table).map(|(b, _)| b.to_string()) {
            table = base;
        }
        let is_cte = name.0.len() == 1 && self.ctes.contains(&table);
        if !is_cte {
            self.found.insert(table);
        }
        ControlFlow::Continue(())
    }
}
