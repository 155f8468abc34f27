//! Standard statements: `SELECT` (and `VALUES`, `WITH`), `INSERT`, `UPDATE`, `DELETE`,
//! `EXPLAIN [ANALYZE]`, classified and checked here before DataFusion ever sees them.
//!
//! The checks turn shapes DataFusion cannot plan (and some it would panic on) into clear
//! parse errors: a typed literal without a string (`timestamp 1000`, where a comma was meant),
//! `SELECT … INTO`, a table version Strata does not read.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Expr, Query, SetExpr, Statement as Ast, Visit, Visitor};

use super::{ddl, history, tables};
use crate::sql::error::{Error, Result};
use crate::sql::statement::{DmlKind, Planned, Statement};

/// The statement sqlparser parsed, as Strata runs it.
pub(crate) fn standard(ast: Ast) -> Result<Statement> {
    let ast = match ddl::from_ast(Box::new(ast)) {
        Ok(statement) => return statement,
        Err(ast) => *ast,
    };
    let dml = |kind, ast: Ast| -> Result<Statement> {
        check(&ast)?;
        Ok(Statement::Dml {
            kind,
            planned: planned(ast),
        })
    };
    match ast {
        Ast::Query(_) => {
            check(&ast)?;
            Ok(Statement::Query(planned(ast)))
        }
        Ast::Insert(_) => dml(DmlKind::Insert, ast),
        Ast::Update(_) => dml(DmlKind::Update, ast),
        Ast::Delete(_) => dml(DmlKind::Delete, ast),
        Ast::Explain {
            ref statement,
            analyze,
            ..
        } => {
            let inner = standard(statement.as_ref().clone())?;
            if !matches!(inner, Statement::Query(_) | Statement::Dml { .. }) {
                return Err(Error::Invalid(format!(
                    "EXPLAIN takes a SELECT, INSERT, UPDATE or DELETE, not {}",
                    inner.name()
                )));
            }
            Ok(Statement::Explain {
                analyze,
                inner: inner.class(),
                planned: planned(ast),
            })
        }
        other => Err(unsupported(&other)),
    }
}

fn planned(ast: Ast) -> Planned {
    Planned {
        tables: tables::of_statement(&ast),
        ast: Box::new(ast),
    }
}

fn unsupported(ast: &Ast) -> Error {
    let text = ast.to_string();
    let head = text
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    Error::Unsupported { head }
}

/// Refuses, before planning, what the planner cannot run.
fn check(ast: &Ast) -> Result<()> {
    struct Check;
    impl Visitor for Check {
        type Break = Error;

        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<Error> {
            if let Expr::TypedString(typed) = expr
                && typed.value.clone().into_string().is_none()
            {
                return ControlFlow::Break(Error::parse(format!(
                    "{typed}: a typed literal takes a quoted string ({} '…'); to pass two arguments to a function, separate them with a comma",
                    typed.data_type
                )));
            }
            ControlFlow::Continue(())
        }

        fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<Error> {
            if let SetExpr::Select(select) = query.body.as_ref()
                && select.into.is_some()
            {
                return ControlFlow::Break(Error::Invalid(
                    "SELECT … INTO is not supported: CREATE TABLE, then INSERT INTO … SELECT"
                        .into(),
                ));
            }
            ControlFlow::Continue(())
        }
    }
    if let ControlFlow::Break(e) = ast.visit(&mut Check) {
        return Err(e);
    }
    history::check(ast)
}
