//! Time travel: `DESCRIBE HISTORY t` (the table's Delta commits), and the table versions of a
//! query, `FROM t VERSION AS OF 3` and `FROM t TIMESTAMP AS OF '<RFC 3339>'`, which read the
//! table as the HDB held it then.
//!
//! The dialect parses the versions into the table reference; [`check`] refuses the forms Strata
//! does not read (another dialect's `FOR SYSTEM_TIME AS OF`, `AT(…)`), and [`fold`] turns each
//! versioned reference into the table name the schema provider resolves (`t@v3`, `t@t2024-…`;
//! table names are plain identifiers, so `@` cannot clash with a real table).

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, Ident, ObjectName, Statement as Ast, TableFactor, TableVersion, Value, ValueWithSpan,
    Visit, VisitMut, Visitor, VisitorMut,
};
use datafusion::sql::sqlparser::parser::Parser;
use strata_tiers::AsOf;

use super::{expect_word, parse_table, table_name_lossy};
use crate::sql::error::{Error, Result};
use crate::sql::statement::Statement;

/// `DESCRIBE|DESC HISTORY name`.
pub(crate) fn describe_history(parser: &mut Parser<'_>) -> Result<Statement> {
    if !super::eat_word(parser, "DESCRIBE") {
        expect_word(parser, "DESC")?;
    }
    expect_word(parser, "HISTORY")?;
    let table = parse_table(parser)?;
    Ok(Statement::DescribeHistory { table })
}

/// The version a table reference asks for, if it is one Strata reads.
fn as_of(version: &TableVersion) -> Result<AsOf> {
    let refuse = || {
        Error::Invalid(format!(
            "Unsupported table version '{version}': use VERSION AS OF n or TIMESTAMP AS OF '<RFC 3339 time>'"
        ))
    };
    match version {
        TableVersion::VersionAsOf(Expr::Value(ValueWithSpan {
            value: Value::Number(n, _),
            ..
        })) => n.parse().map(AsOf::Version).map_err(|_| {
            Error::Invalid(format!(
                "VERSION AS OF {n}: not a version number (a whole number from 0)"
            ))
        }),
        TableVersion::TimestampAsOf(Expr::Value(ValueWithSpan {
            value: Value::SingleQuotedString(s),
            ..
        })) => Ok(AsOf::Timestamp(s.clone())),
        _ => Err(refuse()),
    }
}

/// Refuses table versions Strata cannot read, before planning.
pub(crate) fn check(statement: &Ast) -> Result<()> {
    struct Check;
    impl Visitor for Check {
        type Break = Error;
        fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<Error> {
            if let TableFactor::Table {
                version: Some(version),
                ..
            } = factor
                && let Err(e) = as_of(version)
            {
                return ControlFlow::Break(e);
            }
            ControlFlow::Continue(())
        }
    }
    match Visit::visit(statement, &mut Check) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// Replaces every versioned table reference by the name [`versioned_name`] reads back.
pub(crate) fn fold(statement: &mut Ast) -> Result<()> {
    struct Fold;
    impl VisitorMut for Fold {
        type Break = Error;
        fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<Error> {
            if let TableFactor::Table { name, version, .. } = factor
                && let Some(v) = version.take()
            {
                let encoded = match as_of(&v) {
                    Ok(AsOf::Version(n)) => format!("v{n}"),
                    Ok(AsOf::Timestamp(t)) => format!("t{t}"),
                    Err(e) => return ControlFlow::Break(e),
                };
                let table = table_name_lossy(name);
                *name =
                    ObjectName::from(vec![Ident::with_quote('"', format!("{table}@{encoded}"))]);
            }
            ControlFlow::Continue(())
        }
    }
    match VisitMut::visit(statement, &mut Fold) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// A table name made by [`fold`]: the table and the version it asks for. `Err` for a version
/// that is not a number.
pub(crate) fn versioned_name(name: &str) -> Option<(&str, Result<AsOf, String>)> {
    let (table, version) = name.split_once('@')?;
    let as_of = if let Some(n) = version.strip_prefix('v') {
        n.parse()
            .map(AsOf::Version)
            .map_err(|_| format!("VERSION AS OF {n}: not a version number"))
    } else if let Some(t) = version.strip_prefix('t') {
        Ok(AsOf::Timestamp(t.to_string()))
    } else {
        Err(format!("unknown table version '{version}'"))
    };
    Some((table, as_of))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::parser::StrataDialect;

    fn folded(sql: &str) -> String {
        let mut ast = Parser::parse_sql(&StrataDialect::default(), sql)
            .unwrap()
            .remove(0);
        fold(&mut ast).unwrap();
        ast.to_string()
    }

    #[test]
    fn versions_fold_into_the_table_name() {
        assert_eq!(
            folded("SELECT * FROM Trades VERSION AS OF 3 WHERE x = 1"),
            "SELECT * FROM \"trades@v3\" WHERE x = 1"
        );
        assert_eq!(
            folded("SELECT count(*) FROM t TIMESTAMP AS OF '2024-03-23T22:00:00Z' AS old"),
            "SELECT count(*) FROM \"t@t2024-03-23T22:00:00Z\" AS old"
        );
        let untouched = "SELECT 'FROM t VERSION AS OF 3' FROM t";
        assert_eq!(folded(untouched), untouched);
    }

    #[test]
    fn other_version_forms_are_refused() {
        let ast = Parser::parse_sql(
            &StrataDialect::default(),
            "SELECT * FROM t FOR SYSTEM_TIME AS OF '2024-01-01'",
        )
        .unwrap()
        .remove(0);
        let err = check(&ast).unwrap_err().to_string();
        assert!(err.contains("VERSION AS OF n"), "{err}");
        let ast = Parser::parse_sql(
            &StrataDialect::default(),
            "SELECT * FROM t TIMESTAMP AS OF 5",
        )
        .unwrap()
        .remove(0);
        assert!(check(&ast).is_err());
    }

    #[test]
    fn names_decode() {
        assert_eq!(
            versioned_name("t@v3").map(|(t, v)| (t, v.unwrap())),
            Some(("t", AsOf::Version(3)))
        );
        assert!(versioned_name("t").is_none());
        assert!(versioned_name("t@vx").unwrap().1.is_err());
    }
}
