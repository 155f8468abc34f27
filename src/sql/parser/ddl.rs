//! Catalog statements: `DROP TABLE`, `ALTER TABLE` (with Strata's `SET TTL`), `SHOW TABLES`,
//! `DESCRIBE` (`CREATE TABLE` is `create.rs`). All but `SHOW TABLES` and `DESCRIBE` are admin
//! statements.

use datafusion::sql::sqlparser::ast::{ObjectType, Statement as Ast};
use datafusion::sql::sqlparser::parser::Parser;

use super::{eat_word, expect_word, parse_table, table_name};
use crate::sql::error::{Error, Result};
use crate::sql::statement::Statement;

const HOUR_NANOS: i64 = 3_600_000_000_000;

/// `ALTER TABLE name SET TTL n DAYS|HOURS` (0: keep forever).
pub(crate) fn set_ttl(parser: &mut Parser<'_>) -> Result<Statement> {
    expect_word(parser, "ALTER")?;
    expect_word(parser, "TABLE")?;
    let table = parse_table(parser)?;
    expect_word(parser, "SET")?;
    expect_word(parser, "TTL")?;
    let usage = "ALTER TABLE name SET TTL n DAYS|HOURS";
    let n = parser
        .parse_literal_uint()
        .map_err(|_| super::expected(usage, &parser.peek_token()))?;
    let per = if eat_word(parser, "DAYS") || eat_word(parser, "DAY") {
        24 * HOUR_NANOS
    } else if eat_word(parser, "HOURS") || eat_word(parser, "HOUR") {
        HOUR_NANOS
    } else {
        return Err(super::expected(usage, &parser.peek_token()));
    };
    let ttl_nanos = i64::try_from(n)
        .ok()
        .and_then(|n| n.checked_mul(per))
        .ok_or_else(|| Error::Invalid(format!("TTL {n} is too long")))?;
    Ok(Statement::SetTtl { table, ttl_nanos })
}

/// The catalog statement `ast` is, if it is one.
pub(crate) fn from_ast(ast: Box<Ast>) -> std::result::Result<Result<Statement>, Box<Ast>> {
    let statement = match *ast {
        Ast::Drop {
            object_type: ObjectType::Table,
            if_exists,
            names,
            ..
        } => names
            .iter()
            .map(table_name)
            .collect::<Result<Vec<_>>>()
            .map(|names| Statement::DropTables { names, if_exists }),
        Ast::AlterTable(alter) => table_name(&alter.name).map(|name| Statement::AlterTable {
            name,
            if_exists: alter.if_exists,
            operations: alter.operations,
        }),
        Ast::ShowTables { .. } => Ok(Statement::ShowTables),
        Ast::ExplainTable { table_name: t, .. } => {
            table_name(&t).map(|table| Statement::Describe { table })
        }
        other => return Err(Box::new(other)),
    };
    Ok(statement)
}
