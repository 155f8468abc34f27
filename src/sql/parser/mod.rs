//! The SQL front end: request text in, one checked [`Statement`] out.
//!
//! Every statement but the plain-literal `INSERT … VALUES` of the fast path (`values`, which
//! declines whatever it is not sure of) goes through sqlparser's own parser (`StrataDialect`): the leading keyword
//! picks a family, Strata's statements are read token by token with sqlparser's helpers, and
//! everything else is sqlparser's standard statement, then classified and checked before any
//! planning. No other code looks at the raw SQL.
//!
//! | module | statements |
//! |---|---|
//! | `maintenance` | `FLUSH TABLE`, `OPTIMIZE`, `VACUUM` |
//! | `history` | `DESCRIBE HISTORY`, `VERSION AS OF` / `TIMESTAMP AS OF` table versions |
//! | `create` | `CREATE TABLE`, Strata's and ClickHouse's (`ENGINE`, `ORDER BY`, `TTL`, typed columns) |
//! | `ddl` | `DROP`, `ALTER` (and `SET TTL`), `SHOW TABLES`, `DESCRIBE` |
//! | `query` | `SELECT`, `INSERT`, `UPDATE`, `DELETE`, `EXPLAIN`: classification and checks |
//! | `tables` | the tables a statement touches (CTE scopes, table functions, time travel) |
//! | `values` | the fast path: `INSERT … VALUES` of plain literals read in one pass, before sqlparser |
//! | `dialect` | the generic dialect plus table versions |
//! | `joins` | kdb+'s joins (`ASOF`, `AJ0`, `WINDOW`, `UNION`, `PLUS`), marked for the planner |
//! | `clickhouse` | ClickHouse requests: `FORMAT`, `SETTINGS`, `{name:Type}` parameters, inserts with rows, `SHOW DATABASES`, `EXISTS`, … |

pub mod clickhouse;
pub(crate) mod create;
pub(crate) mod ddl;
pub(crate) mod dialect;
pub(crate) mod history;
pub(crate) mod joins;
pub(crate) mod maintenance;
pub(crate) mod query;
pub(crate) mod tables;
pub(crate) mod values;

use datafusion::sql::sqlparser::ast::{Ident, ObjectName, ObjectNamePart};
use datafusion::sql::sqlparser::dialect::{ClickHouseDialect, Dialect};
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use super::error::{Error, Result};
use super::statement::Statement;
pub(crate) use dialect::StrataDialect;

/// Deepest expression nesting accepted; deeper SQL is refused instead of exhausting the stack.
const MAX_NESTING: usize = 128;

/// Parses exactly one statement (a trailing `;` is fine).
pub fn parse(sql: &str) -> Result<Statement> {
    parse_with(sql, &StrataDialect::default())
}

/// [`parse`] in `dialect`.
pub(crate) fn parse_with(sql: &str, dialect: &StrataDialect) -> Result<Statement> {
    if let Some(insert) = values::scan(sql) {
        return Ok(insert);
    }
    if sql.trim().is_empty() {
        return Err(Error::Empty);
    }
    match parse_in(sql, dialect) {
        // ALTER TABLE's column types may be spelled as ClickHouse spells them (`Array(T)`),
        // which only sqlparser's ClickHouse dialect reads: an ALTER the generic dialect cannot
        // read is read again in that one, and its first error stands if neither can.
        Err(Error::Parse(e)) if is_alter_table(sql) => {
            parse_in(sql, &ClickHouseDialect {}).map_err(|_| Error::Parse(e))
        }
        parsed => parsed,
    }
}

/// [`parse`] with sqlparser's `dialect`.
fn parse_in(sql: &str, dialect: &dyn Dialect) -> Result<Statement> {
    let tokens = Tokenizer::new(dialect, sql)
        .tokenize_with_location()
        .map_err(datafusion::sql::sqlparser::parser::ParserError::from)?;
    let (tokens, marked) = joins::mark(tokens);
    let mut parser = Parser::new(dialect)
        .with_recursion_limit(MAX_NESTING)
        .with_tokens_with_locations(tokens);
    let mut statements = Vec::new();
    loop {
        while parser.consume_token(&Token::SemiColon) {}
        if parser.peek_token().token == Token::EOF {
            break;
        }
        statements.push(parse_one(&mut parser)?);
        let next = parser.peek_token();
        if !matches!(next.token, Token::SemiColon | Token::EOF) {
            return Err(expected("end of statement", &next));
        }
    }
    if statements.len() > 1 {
        return Err(Error::MultipleStatements(statements.len()));
    }
    let mut statement = statements.pop().ok_or(Error::Empty)?;
    match statement.planned_mut() {
        Some(planned) => joins::nest(&mut planned.ast, marked)?,
        None if marked > 0 => return Err(joins::misplaced()),
        None => {}
    }
    Ok(statement)
}

/// Whether `sql` starts with `ALTER TABLE`.
fn is_alter_table(sql: &str) -> bool {
    let mut words = sql.split_whitespace();
    matches!(
        (words.next(), words.next()),
        (Some(a), Some(t)) if a.eq_ignore_ascii_case("ALTER") && t.eq_ignore_ascii_case("TABLE")
    )
}

/// One statement, chosen by its leading keyword(s).
fn parse_one(parser: &mut Parser<'_>) -> Result<Statement> {
    if word_at(parser, 0, "OPTIMIZE") {
        maintenance::optimize(parser)
    } else if word_at(parser, 0, "VACUUM") {
        maintenance::vacuum(parser)
    } else if word_at(parser, 0, "FLUSH") {
        maintenance::flush(parser)
    } else if (word_at(parser, 0, "DESCRIBE") || word_at(parser, 0, "DESC"))
        && word_at(parser, 1, "HISTORY")
    {
        history::describe_history(parser)
    } else if word_at(parser, 0, "ALTER")
        && word_at(parser, 1, "TABLE")
        && word_at(parser, 3, "SET")
        && word_at(parser, 4, "TTL")
    {
        ddl::set_ttl(parser)
    } else if create::is_create_table(parser) {
        create::create_table(parser)
    } else {
        query::standard(parser.parse_statement()?)
    }
}

/// Whether the `n`th token ahead is the unquoted word `word` (any case).
fn word_at(parser: &Parser<'_>, n: usize, word: &str) -> bool {
    match parser.peek_nth_token(n).token {
        Token::Word(w) => w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word),
        _ => false,
    }
}

/// Consumes the unquoted word `word` if it is next.
fn eat_word(parser: &mut Parser<'_>, word: &str) -> bool {
    let here = word_at(parser, 0, word);
    if here {
        let _word = parser.next_token();
    }
    here
}

/// Expects the unquoted word `word` next.
fn expect_word(parser: &mut Parser<'_>, word: &str) -> Result<()> {
    if eat_word(parser, word) {
        Ok(())
    } else {
        Err(expected(word, &parser.peek_token()))
    }
}

/// sqlparser's wording for a token that does not fit.
fn expected(what: &str, found: &TokenWithSpan) -> Error {
    Error::parse(format!("Expected: {what}, found: {found}"))
}

/// A table name: one identifier (Strata has one namespace).
fn parse_table(parser: &mut Parser<'_>) -> Result<String> {
    let name = parser.parse_object_name(false)?;
    table_name(&name)
}

/// An identifier as SQL means it: unquoted names are case-insensitive (folded to lower case),
/// quoted names are taken as written. DataFusion folds the same way, so both agree.
pub fn ident_name(ident: &Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

/// The table a name refers to. Strata has one namespace, which ClickHouse clients know as the
/// database `default`: a bare name, or one in `default`.
pub fn table_name(name: &ObjectName) -> Result<String> {
    match name.0.as_slice() {
        [ObjectNamePart::Identifier(ident)] => Ok(ident_name(ident)),
        [
            ObjectNamePart::Identifier(db),
            ObjectNamePart::Identifier(ident),
        ] if ident_name(db) == crate::sql::system::DEFAULT_DATABASE => Ok(ident_name(ident)),
        _ => Err(Error::Invalid(format!(
            "Qualified table names are not supported: {name} (use the bare table name, or default.name)"
        ))),
    }
}

/// The table a name in a query resolves to: a bare name, or one qualified by Strata's own
/// catalog and schema (`public.t`, `strata.public.t`, as DataFusion resolves them); any other
/// qualified name is kept whole, dotted (it names no Strata table).
pub fn table_name_lossy(name: &ObjectName) -> String {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(ident) => ident_name(ident),
            other => other.to_string(),
        })
        .collect();
    match parts.as_slice() {
        [table] => table.clone(),
        [schema, table]
            if schema == super::session::SCHEMA || schema == super::system::DEFAULT_DATABASE =>
        {
            table.clone()
        }
        [catalog, schema, table]
            if catalog == super::session::CATALOG && schema == super::session::SCHEMA =>
        {
            table.clone()
        }
        _ => parts.join("."),
    }
}

#[cfg(test)]
mod tests;
