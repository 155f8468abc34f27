//! `SETTINGS additional_table_filters = {'table' : 'condition', …}`: what Grafana's ad hoc
//! filters send (ClickHouse 22.7 and later). Every read of a named table becomes a read of
//! `(SELECT * FROM table WHERE condition) AS table`, so the filter holds wherever the table is
//! used (joins, subqueries) and the query's own names still resolve. The conditions are SQL
//! parsed like the statement, and the tables they touch are authorized with it.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Ident, Query, SetExpr, TableAlias, TableFactor, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::parser::Parser;

use super::super::{StrataDialect, table_name_lossy};
use super::lexer::{self, Kind};
use crate::sql::error::{Error, Result};
use crate::sql::statement::{Planned, Statement};

/// The setting's name.
pub(super) const SETTING: &str = "additional_table_filters";

/// `statement` with the filters of `value` (the setting's map literal) applied.
pub(super) fn apply(statement: Statement, value: &str) -> Result<Statement> {
    let filters = parse_map(value)?;
    if filters.is_empty() {
        return Ok(statement);
    }
    let Statement::Query(Planned { mut ast, .. }) = statement else {
        return Err(Error::Invalid(format!(
            "SETTINGS {SETTING} applies to SELECT statements only"
        )));
    };
    let dialect = StrataDialect::clickhouse();
    let mut wrapped = Vec::with_capacity(filters.len());
    for (table, condition) in filters {
        let sql = format!(
            "SELECT * FROM \"{}\" WHERE {condition}",
            table.replace('"', "\"\"")
        );
        let parsed = Parser::new(&dialect)
            .try_with_sql(&sql)?
            .parse_query()
            .map_err(|e| {
                Error::Invalid(format!(
                    "SETTINGS {SETTING}: the filter of '{table}' does not parse: {e}"
                ))
            })?;
        if !matches!(parsed.body.as_ref(), SetExpr::Select(_)) {
            return Err(Error::Invalid(format!(
                "SETTINGS {SETTING}: bad filter for '{table}'"
            )));
        }
        wrapped.push((table, parsed));
    }
    let mut rewriter = Rewriter { filters: wrapped };
    let _ = ast.as_mut().visit(&mut rewriter);
    super::super::query::standard(*ast)
}

struct Rewriter {
    filters: Vec<(String, Box<Query>)>,
}

impl VisitorMut for Rewriter {
    type Break = ();

    // After the children: the subquery put in place is not visited again.
    fn post_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        let TableFactor::Table {
            name,
            alias,
            args: None,
            ..
        } = factor
        else {
            return ControlFlow::Continue(());
        };
        let table = table_name_lossy(name);
        if let Some((_, query)) = self.filters.iter().find(|(t, _)| *t == table) {
            let alias = alias.take().unwrap_or_else(|| TableAlias {
                explicit: true,
                name: Ident::with_quote('"', table.clone()),
                columns: Vec::new(),
            });
            *factor = TableFactor::Derived {
                lateral: false,
                subquery: query.clone(),
                alias: Some(alias),
                sample: None,
            };
        }
        ControlFlow::Continue(())
    }
}

/// `{'t' : 'cond', 'default.u' : 'cond'}` → (`t`, `cond`), (`u`, `cond`).
fn parse_map(value: &str) -> Result<Vec<(String, String)>> {
    let bad = || {
        Error::Invalid(format!(
            "SETTINGS {SETTING} must be a map: {{'table' : 'condition', …}}"
        ))
    };
    let inner = value
        .trim()
        .strip_prefix('{')
        .and_then(|v| v.strip_suffix('}'))
        .ok_or_else(bad)?;
    let pieces: Vec<_> = lexer::pieces(inner.as_bytes())
        .map_err(super::unterminated)?
        .into_iter()
        .filter(|p| p.kind != Kind::Blank)
        .collect();
    let mut out = Vec::new();
    for entry in pieces.split(|p| p.kind == Kind::Punct && &inner[p.start..p.end] == ",") {
        match entry {
            [] if pieces.is_empty() => {}
            [key, colon, cond]
                if key.kind == Kind::String
                    && cond.kind == Kind::String
                    && &inner[colon.start..colon.end] == ":" =>
            {
                let key = lexer::unquote(&inner.as_bytes()[key.start..key.end]);
                let key = key.strip_prefix("default.").unwrap_or(&key).to_string();
                out.push((key, lexer::unquote(&inner.as_bytes()[cond.start..cond.end])));
            }
            _ => return Err(bad()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_wrap_every_read_of_their_table() {
        let statement = super::super::super::parse(
            "SELECT t.a, count() FROM t JOIN u ON t.a = u.a GROUP BY t.a",
        )
        .unwrap();
        let Statement::Query(p) =
            apply(statement, "{'default.t' : 'b = \\'x\\'', 'u': 'c > 1'}").unwrap()
        else {
            panic!("not a query")
        };
        let sql = p.ast.to_string();
        assert!(
            sql.contains("FROM (SELECT * FROM \"t\" WHERE b = 'x') AS \"t\""),
            "{sql}"
        );
        assert!(
            sql.contains("JOIN (SELECT * FROM \"u\" WHERE c > 1) AS \"u\""),
            "{sql}"
        );
        assert_eq!(p.tables, ["t", "u"]);
        let statement = super::super::super::parse("SELECT 1").unwrap();
        assert!(apply(statement.clone(), "{}").is_ok());
        assert!(apply(statement, "{'t' 'x'}").is_err());
        let insert = super::super::super::parse("INSERT INTO t VALUES (1)").unwrap();
        assert!(apply(insert, "{'t' : 'a = 1'}").is_err());
        // A condition's own tables are authorized with the statement.
        let statement = super::super::super::parse("SELECT * FROM t").unwrap();
        let Statement::Query(p) =
            apply(statement, "{'t' : 'a IN (SELECT a FROM secret)'}").unwrap()
        else {
            panic!("not a query")
        };
        assert_eq!(p.tables, ["secret", "t"]);
    }
}
