//! Strata's storage statements: `FLUSH TABLE a[, b]`, `OPTIMIZE [TABLE] t`,
//! `VACUUM [TABLE] t [RETAIN n HOURS]`. All are admin statements on the tables they name.

use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::Token;

use super::{eat_word, expect_word, parse_table};
use crate::sql::error::{Error, Result};
use crate::sql::statement::Statement;

/// `FLUSH TABLE[S] a[, b]`.
pub(crate) fn flush(parser: &mut Parser<'_>) -> Result<Statement> {
    expect_word(parser, "FLUSH")?;
    if !(eat_word(parser, "TABLE") || eat_word(parser, "TABLES")) || at_end(parser) {
        return Err(Error::Invalid(
            "FLUSH takes a table: FLUSH TABLE name (or POST /admin/flush for every table)".into(),
        ));
    }
    let mut tables = vec![parse_table(parser)?];
    while parser.consume_token(&Token::Comma) {
        tables.push(parse_table(parser)?);
    }
    Ok(Statement::Flush { tables })
}

/// `OPTIMIZE [TABLE] name`.
pub(crate) fn optimize(parser: &mut Parser<'_>) -> Result<Statement> {
    expect_word(parser, "OPTIMIZE")?;
    eat_word(parser, "TABLE");
    let table = parse_table(parser)?;
    Ok(Statement::Optimize { table })
}

/// `VACUUM [TABLE] name [RETAIN n HOURS]`.
pub(crate) fn vacuum(parser: &mut Parser<'_>) -> Result<Statement> {
    expect_word(parser, "VACUUM")?;
    eat_word(parser, "TABLE");
    let table = parse_table(parser)?;
    let retain_hours = if eat_word(parser, "RETAIN") {
        let hours = parser.parse_literal_uint()?;
        if !(eat_word(parser, "HOURS") || eat_word(parser, "HOUR")) {
            return Err(super::expected("HOURS", &parser.peek_token()));
        }
        Some(hours)
    } else {
        None
    };
    Ok(Statement::Vacuum {
        table,
        retain_hours,
    })
}

/// Whether the statement ends here.
pub(crate) fn at_end(parser: &Parser<'_>) -> bool {
    matches!(parser.peek_token().token, Token::EOF | Token::SemiColon)
}
