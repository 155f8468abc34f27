//! `CREATE TABLE`, in Strata's form and ClickHouse's, read into a checked [`TableDefinition`].
//!
//! ```text
//! CREATE TABLE [IF NOT EXISTS] [default.]name (col type [NULL | NOT NULL] [CODEC(…)] [COMMENT '…'], …)
//!     [ENGINE = MergeTree[()]] [ORDER BY col | (col, …) | tuple()] [PARTITION BY expr]
//!     [PRIMARY KEY expr] [SAMPLE BY expr] [TTL col + INTERVAL n UNIT [DELETE]] [COMMENT '…']
//! ```
//!
//! Types are Strata's (`SYMBOL`, `TIMESTAMP_NS`, …) or ClickHouse's, with their parameters
//! (`DateTime('Europe/Paris')`, `Decimal(10, 2)`, `FixedString(3)`). A table declared with an
//! `ENGINE` follows ClickHouse: a column holds NULLs only if its type is `Nullable(…)` (or it is
//! declared `NULL`); without one, every column does unless declared `NOT NULL`.
//!
//! `ORDER BY` becomes the sort key of the table's stored files. `TTL` becomes the table's TTL
//! (counted from its time column, which the TTL names). Strata always writes one file per day of
//! the time column, so `PARTITION BY`, `PRIMARY KEY` and `SAMPLE BY` are read and not kept, as are
//! codecs (files are ZSTD Parquet) and comments. What Strata cannot honour — other engines,
//! `DEFAULT`/`MATERIALIZED`/`ALIAS` columns, indexes, `AS SELECT` — is refused, saying so.

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, DateTimeField, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments,
    Interval, Value, ValueWithSpan,
};
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::Token;
use strata_catalog::{ColumnDef, TableDefinition, types::parse_declared};

use super::{eat_word, expect_word, expected, ident_name, parse_table, word_at};
use crate::sql::error::{Error, Result};
use crate::sql::statement::Statement;

const DAY_NANOS: i64 = 86_400_000_000_000;

/// Engines whose meaning Strata's tables have: append-only storage, read whole.
const ENGINES: [&str; 5] = ["MergeTree", "Memory", "Log", "TinyLog", "StripeLog"];

/// Words that end a column's type and start its options.
const COLUMN_OPTIONS: [&str; 10] = [
    "NULL",
    "NOT",
    "DEFAULT",
    "MATERIALIZED",
    "ALIAS",
    "EPHEMERAL",
    "CODEC",
    "COMMENT",
    "TTL",
    "PRIMARY",
];

/// Whether the statement ahead is `CREATE [TEMPORARY] TABLE`.
pub(crate) fn is_create_table(parser: &Parser<'_>) -> bool {
    word_at(parser, 0, "CREATE")
        && (word_at(parser, 1, "TABLE")
            || (word_at(parser, 1, "TEMPORARY") && word_at(parser, 2, "TABLE"))
            || (word_at(parser, 1, "OR") && word_at(parser, 2, "REPLACE")))
}

/// `CREATE TABLE …` (see the module docs).
pub(crate) fn create_table(parser: &mut Parser<'_>) -> Result<Statement> {
    expect_word(parser, "CREATE")?;
    if eat_word(parser, "OR") {
        return Err(Error::Invalid(
            "CREATE OR REPLACE TABLE is not supported: DROP TABLE first".into(),
        ));
    }
    if eat_word(parser, "TEMPORARY") {
        return Err(Error::Invalid(
            "Temporary tables are not supported: create a table, and drop it when done".into(),
        ));
    }
    expect_word(parser, "TABLE")?;
    let if_not_exists = if eat_word(parser, "IF") {
        expect_word(parser, "NOT")?;
        expect_word(parser, "EXISTS")?;
        true
    } else {
        false
    };
    let name = parse_table(parser)?;
    if word_at(parser, 0, "ON") && word_at(parser, 1, "CLUSTER") {
        return Err(Error::Invalid(
            "ON CLUSTER is not supported: a Strata server is its own cluster".into(),
        ));
    }
    if word_at(parser, 0, "AS") {
        return Err(Error::Invalid(
            "CREATE TABLE … AS is not supported: create the table with its columns, then \
             INSERT INTO … SELECT"
                .into(),
        ));
    }
    parser.expect_token(&Token::LParen)?;
    let mut columns = Vec::new();
    loop {
        columns.push(column(parser)?);
        if !parser.consume_token(&Token::Comma) {
            break;
        }
    }
    parser.expect_token(&Token::RParen)?;
    let options = table_options(parser)?;
    let clickhouse = options.engine.is_some();
    let columns = columns
        .into_iter()
        .map(|c| {
            let nullable = match c.null {
                Some(null) => null,
                None => c.wrapped_nullable || !clickhouse,
            };
            Ok(ColumnDef::new(c.name, c.ty)?.with_nullable(nullable))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut definition = TableDefinition::new(&name, columns)?;
    if let Some(ttl) = &options.ttl {
        definition = definition.with_time_column(&ttl.column)?;
    } else if let Some(first) = options.order_by.first()
        && definition
            .column_index(first)
            .is_some_and(|i| definition.columns()[i].ty.is_instant())
    {
        // ClickHouse tables are commonly ordered by their time: that is their time column.
        definition = definition.with_time_column(first)?;
    }
    let definition = definition
        .with_sort_key(options.order_by)?
        .with_ttl(options.ttl.map(|t| t.nanos))?;
    Ok(Statement::CreateTable {
        definition: Box::new(definition),
        if_not_exists,
    })
}

/// One column as written.
struct Column {
    name: String,
    ty: strata_catalog::ColumnType,
    /// Inside `Nullable(…)`.
    wrapped_nullable: bool,
    /// `NULL` (`Some(true)`) or `NOT NULL` (`Some(false)`).
    null: Option<bool>,
}

fn column(parser: &mut Parser<'_>) -> Result<Column> {
    for word in ["INDEX", "PROJECTION", "CONSTRAINT", "PRIMARY"] {
        if word_at(parser, 0, word) {
            return Err(Error::Invalid(format!(
                "{word} in CREATE TABLE is not supported: Strata tables have no indexes, \
                 projections or constraints"
            )));
        }
    }
    let name = ident_name(&parser.parse_identifier()?);
    let type_text = type_text(parser)?;
    if type_text.is_empty() {
        return Err(expected(
            &format!("a type for column '{name}'"),
            &parser.peek_token(),
        ));
    }
    let (ty, wrapped_nullable) = parse_declared(&type_text)?;
    let mut null = None;
    loop {
        if eat_word(parser, "NOT") {
            expect_word(parser, "NULL")?;
            null = Some(false);
        } else if eat_word(parser, "NULL") {
            null = Some(true);
        } else if eat_word(parser, "CODEC") {
            skip_parenthesized(parser)?;
        } else if eat_word(parser, "COMMENT") {
            parser.parse_literal_string()?;
        } else if let Some(word) = ["DEFAULT", "MATERIALIZED", "ALIAS", "EPHEMERAL", "TTL"]
            .into_iter()
            .find(|w| word_at(parser, 0, w))
        {
            return Err(Error::Invalid(format!(
                "Column '{name}': {word} is not supported (a column without a value in a row \
                 holds NULL, or its type's default if it is not Nullable)"
            )));
        } else if word_at(parser, 0, "PRIMARY") {
            return Err(Error::Invalid(format!(
                "Column '{name}': PRIMARY KEY is not supported: Strata tables have no \
                 constraints (ORDER BY sets the sort key)"
            )));
        } else {
            break;
        }
    }
    Ok(Column {
        name,
        ty,
        wrapped_nullable,
        null,
    })
}

/// The tokens of a column's type, up to its options or the next column, as text: words are
/// separated by a space (`DOUBLE PRECISION`), everything else joined as written
/// (`DateTime64(3,'UTC')`).
fn type_text(parser: &mut Parser<'_>) -> Result<String> {
    let mut text = String::new();
    let mut depth = 0usize;
    let mut last_was_word = false;
    loop {
        let next = parser.peek_token();
        match &next.token {
            Token::EOF => break,
            Token::Comma | Token::RParen if depth == 0 => break,
            Token::Word(w)
                if depth == 0
                    && w.quote_style.is_none()
                    && COLUMN_OPTIONS
                        .iter()
                        .any(|o| w.value.eq_ignore_ascii_case(o)) =>
            {
                break;
            }
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            _ => {}
        }
        let token = parser.next_token().token;
        let is_word = matches!(token, Token::Word(_));
        if is_word && last_was_word {
            text.push(' ');
        }
        last_was_word = is_word;
        text.push_str(&token.to_string());
    }
    Ok(text)
}

/// Consumes `( … )`, nested parentheses included.
fn skip_parenthesized(parser: &mut Parser<'_>) -> Result<()> {
    parser.expect_token(&Token::LParen)?;
    let mut depth = 1usize;
    while depth > 0 {
        let token = parser.next_token();
        match token.token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            Token::EOF => return Err(expected(")", &token)),
            _ => {}
        }
    }
    Ok(())
}

/// What follows the column list.
#[derive(Default)]
struct TableOptions {
    engine: Option<String>,
    order_by: Vec<String>,
    ttl: Option<Ttl>,
}

struct Ttl {
    column: String,
    nanos: i64,
}

fn table_options(parser: &mut Parser<'_>) -> Result<TableOptions> {
    let mut options = TableOptions::default();
    loop {
        if eat_word(parser, "ENGINE") {
            let _ = parser.consume_token(&Token::Eq);
            let engine = parser.parse_identifier()?.value;
            if !ENGINES.iter().any(|e| e.eq_ignore_ascii_case(&engine)) {
                return Err(Error::Invalid(format!(
                    "ENGINE = {engine} is not supported: Strata tables keep every row as \
                     written, as ENGINE = MergeTree does"
                )));
            }
            if parser.peek_token().token == Token::LParen {
                skip_parenthesized(parser)?;
            }
            options.engine = Some(engine);
        } else if word_at(parser, 0, "ORDER") {
            let _ = parser.next_token();
            expect_word(parser, "BY")?;
            options.order_by = sort_key(parser)?;
        } else if word_at(parser, 0, "PARTITION")
            || word_at(parser, 0, "PRIMARY")
            || word_at(parser, 0, "SAMPLE")
        {
            let _ = parser.next_token();
            if !eat_word(parser, "BY") {
                expect_word(parser, "KEY")?;
            }
            parser.parse_expr()?;
        } else if eat_word(parser, "TTL") {
            options.ttl = Some(ttl(parser)?);
        } else if eat_word(parser, "COMMENT") {
            parser.parse_literal_string()?;
        } else if eat_word(parser, "SETTINGS") {
            // Storage settings (index_granularity, …) tune MergeTree parts Strata does not have.
            loop {
                parser.parse_identifier()?;
                parser.expect_token(&Token::Eq)?;
                parser.parse_expr()?;
                if !parser.consume_token(&Token::Comma) {
                    break;
                }
            }
        } else if word_at(parser, 0, "AS") {
            return Err(Error::Invalid(
                "CREATE TABLE … AS SELECT is not supported: create the table, then INSERT INTO \
                 … SELECT"
                    .into(),
            ));
        } else {
            return Ok(options);
        }
    }
}

/// `col`, `(col, …)` or `tuple()`: plain column names.
fn sort_key(parser: &mut Parser<'_>) -> Result<Vec<String>> {
    let expr = parser.parse_expr()?;
    let items = match expr {
        Expr::Tuple(items) => items,
        Expr::Nested(inner) => vec![*inner],
        Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("tuple") => Vec::new(),
        other => vec![other],
    };
    items
        .into_iter()
        .map(|item| match item {
            Expr::Identifier(ident) => Ok(ident_name(&ident)),
            other => Err(Error::Invalid(format!(
                "ORDER BY {other} is not supported: the sort key names columns"
            ))),
        })
        .collect()
}

/// `col + INTERVAL n UNIT [DELETE]` (also with `col` inside `toDateTime(…)`/`toDate(…)`, and
/// `toIntervalDay(n)`-style intervals).
fn ttl(parser: &mut Parser<'_>) -> Result<Ttl> {
    let usage = "TTL time_column + INTERVAL n DAY";
    let expr = parser.parse_expr()?;
    eat_word(parser, "DELETE");
    if parser.peek_token().token == Token::Comma {
        return Err(Error::Invalid(
            "Only one TTL rule is supported: rows are removed once their day is older than it"
                .into(),
        ));
    }
    let Expr::BinaryOp {
        left,
        op: BinaryOperator::Plus,
        right,
    } = expr
    else {
        return Err(Error::Invalid(format!(
            "Expected {usage}, found TTL {expr}"
        )));
    };
    let column = ttl_column(&left)
        .ok_or_else(|| Error::Invalid(format!("Expected {usage}: {left} is not a column")))?;
    let nanos = interval_nanos(&right).ok_or_else(|| {
        Error::Invalid(format!(
            "Expected {usage}: {right} is not a whole number of seconds, minutes, hours, days, \
             weeks, months, quarters or years"
        ))
    })?;
    Ok(Ttl { column, nanos })
}

fn ttl_column(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Identifier(ident) => Some(ident_name(ident)),
        Expr::Function(f) => {
            let name = f.name.to_string().to_ascii_lowercase();
            if !name.starts_with("todate") {
                return None;
            }
            ttl_column(only_argument(f)?)
        }
        _ => None,
    }
}

/// An interval as nanoseconds. Months, quarters and years are counted at their longest (31, 92
/// and 366 days): a TTL never removes a row before ClickHouse would.
fn interval_nanos(expr: &Expr) -> Option<i64> {
    let (count, unit) = match expr {
        Expr::Interval(Interval {
            value,
            leading_field: Some(unit),
            ..
        }) => (number(value)?, unit_nanos(unit)?),
        Expr::Function(f) => {
            let name = f.name.to_string().to_ascii_lowercase();
            let unit = match name.strip_prefix("tointerval")? {
                "second" => DateTimeField::Second,
                "minute" => DateTimeField::Minute,
                "hour" => DateTimeField::Hour,
                "day" => DateTimeField::Day,
                "week" => DateTimeField::Week(None),
                "month" => DateTimeField::Month,
                "quarter" => DateTimeField::Quarter,
                "year" => DateTimeField::Year,
                _ => return None,
            };
            (number(only_argument(f)?)?, unit_nanos(&unit)?)
        }
        _ => return None,
    };
    count.checked_mul(unit).filter(|n| *n > 0)
}

/// The one plain argument of `f(x)`.
fn only_argument(f: &Function) -> Option<&Expr> {
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    match list.args.as_slice() {
        [FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))] => Some(arg),
        _ => None,
    }
}

fn number(expr: &Expr) -> Option<i64> {
    match expr {
        Expr::Value(ValueWithSpan {
            value: Value::Number(n, _),
            ..
        }) => n.parse().ok(),
        _ => None,
    }
}

fn unit_nanos(unit: &DateTimeField) -> Option<i64> {
    Some(match unit {
        DateTimeField::Second | DateTimeField::Seconds => 1_000_000_000,
        DateTimeField::Minute | DateTimeField::Minutes => 60_000_000_000,
        DateTimeField::Hour | DateTimeField::Hours => 3_600_000_000_000,
        DateTimeField::Day | DateTimeField::Days => DAY_NANOS,
        DateTimeField::Week(_) | DateTimeField::Weeks => 7 * DAY_NANOS,
        DateTimeField::Month | DateTimeField::Months => 31 * DAY_NANOS,
        DateTimeField::Quarter => 92 * DAY_NANOS,
        DateTimeField::Year | DateTimeField::Years => 366 * DAY_NANOS,
        _ => return None,
    })
}
