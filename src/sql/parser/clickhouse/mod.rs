//! The ClickHouse dialect of the front end: what a ClickHouse client's request text means.
//!
//! A ClickHouse request is one statement, optionally followed by `SETTINGS k = v, …` and
//! `FORMAT Name` (the result's encoding), with `{name:Type}` parameters bound from the URL
//! (`param_name=`). `INSERT INTO t [(cols)] FORMAT Name` is followed by its rows, which are
//! never tokenized: they may be binary. The statement itself goes through the same parser and
//! checks as every other (`super::parse_with`), with ClickHouse's string escapes, and a few
//! ClickHouse-only statements are read here: `SHOW DATABASES`, `SHOW TABLES [FROM db]`,
//! `SHOW CREATE TABLE`, `EXISTS [TABLE]`, `DESC[RIBE] [TABLE]`, and `SET name = value, …` (the
//! settings of the request's session).
//!
//! `SETTINGS additional_table_filters` (Grafana's ad hoc filters) is applied here (`filters.rs`).
//! Result shapes follow ClickHouse where its clients depend on them: `count()` is `UInt64`, and
//! a bare literal in the result is typed as ClickHouse types it (`SELECT 1` is `UInt8`).

mod date_format;
mod filters;
mod functions;
mod lexer;
mod params;
mod rewrite;

use datafusion::sql::sqlparser::parser::Parser;

use self::lexer::{Kind, Piece, Scanner};
use super::{StrataDialect, eat_word, ident_name, parse_table, word_at};
use crate::sql::error::{Error, Result};
use crate::sql::statement::Statement;
use crate::sql::system::DEFAULT_DATABASE;

/// One ClickHouse request, understood.
#[derive(Debug)]
pub struct Request<'a> {
    /// The statement.
    pub statement: Statement,
    /// The `FORMAT` clause's format name (for an insert: the rows' format).
    pub format: Option<String>,
    /// The `SETTINGS` clause, values as text (string literals unquoted).
    pub settings: Vec<(String, String)>,
    /// The rows after `INSERT … FORMAT X`.
    pub rows: Option<&'a [u8]>,
}

/// Reads `text` (the `query` parameter and the body, joined) with `params` bound to its
/// `{name:Type}` placeholders.
pub fn parse<'a>(text: &'a [u8], params: &[(String, String)]) -> Result<Request<'a>> {
    let (head, insert) = match split_rows(text)? {
        Some((end, format, rows)) => (&text[..end], Some((format, &text[rows..]))),
        None => (text, None),
    };
    let head =
        std::str::from_utf8(head).map_err(|_| Error::parse("The query text is not valid UTF-8"))?;
    let sql = params::bind(head, params)?;
    if let Some((format, rows)) = insert {
        let statement = insert_rows(&sql)?;
        return Ok(Request {
            statement,
            format: Some(format),
            settings: Vec::new(),
            rows: Some(rows),
        });
    }
    let (end, format, settings) = trailer(&sql)?;
    if let Some(assigned) = set_statement(&sql[..end])? {
        return Ok(Request {
            statement: Statement::SetSettings { settings: assigned },
            format,
            settings,
            rows: None,
        });
    }
    let mut statement = statement(&sql[..end])?;
    if let Some((_, filters)) = settings.iter().find(|(name, _)| name == filters::SETTING) {
        statement = filters::apply(statement, filters)?;
    }
    let statement = rewrite::clickhouse_shapes(statement);
    Ok(Request {
        statement,
        format,
        settings,
        rows: None,
    })
}

/// Whether `text` ends in a `FORMAT` clause or is an `INSERT … FORMAT`: a request only
/// ClickHouse clients send.
pub fn has_format_clause(text: &[u8]) -> bool {
    if matches!(split_rows(text), Ok(Some(_))) {
        return true;
    }
    std::str::from_utf8(text)
        .ok()
        .and_then(|sql| trailer(sql).ok())
        .is_some_and(|(_, format, _)| format.is_some())
}

fn is_word(text: &[u8], piece: &Piece, word: &str) -> bool {
    piece.kind == Kind::Word && text[piece.start..piece.end].eq_ignore_ascii_case(word.as_bytes())
}

fn unterminated(at: lexer::Unterminated) -> Error {
    Error::parse(format!(
        "Unterminated quoted text or comment at byte {}",
        at.at
    ))
}

/// For `INSERT … FORMAT Name` followed by rows: where the statement ends, the format, and
/// where the rows start (after the name, its spaces and one line break).
fn split_rows(text: &[u8]) -> Result<Option<(usize, String, usize)>> {
    let mut scanner = Scanner::new(text);
    let mut first = true;
    let mut depth = 0usize;
    while let Some(piece) = scanner.next_piece().map_err(unterminated)? {
        match piece.kind {
            Kind::Blank => continue,
            Kind::Word if first && !is_word(text, &piece, "INSERT") => return Ok(None),
            Kind::Word if first => {}
            Kind::Word if depth == 0 => {
                if ["VALUES", "SELECT", "WITH"]
                    .iter()
                    .any(|w| is_word(text, &piece, w))
                {
                    return Ok(None);
                }
                if is_word(text, &piece, "FORMAT") {
                    let name = loop {
                        match scanner.next_piece().map_err(unterminated)? {
                            Some(p)
                                if p.kind == Kind::Blank
                                    && !text[p.start..p.end].contains(&b'\n') => {}
                            Some(p) if p.kind == Kind::Word => break p,
                            _ => return Err(Error::parse("Expected a format name after FORMAT")),
                        }
                    };
                    let format = String::from_utf8_lossy(&text[name.start..name.end]).into_owned();
                    let mut rows = name.end;
                    while rows < text.len() && matches!(text[rows], b' ' | b'\t') {
                        rows += 1;
                    }
                    if text[rows..].starts_with(b"\r\n") {
                        rows += 2;
                    } else if text.get(rows) == Some(&b'\n') {
                        rows += 1;
                    }
                    return Ok(Some((piece.start, format, rows)));
                }
            }
            Kind::Punct => match text[piece.start] {
                b'(' => depth += 1,
                b')' => depth = depth.saturating_sub(1),
                _ => {}
            },
            _ => {}
        }
        first = false;
    }
    Ok(None)
}

/// The trailing `[SETTINGS …] [FORMAT Name] [;]` of `sql`: where the statement ends, the
/// format, and the settings.
#[allow(clippy::type_complexity)]
fn trailer(sql: &str) -> Result<(usize, Option<String>, Vec<(String, String)>)> {
    let text = sql.as_bytes();
    let pieces = words(text)?;
    let mut end = pieces.len();
    while end > 0 && pieces[end - 1].kind == Kind::Punct && text[pieces[end - 1].start] == b';' {
        end -= 1;
    }
    let mut format = None;
    if end >= 2 && is_word(text, &pieces[end - 2], "FORMAT") && pieces[end - 1].kind == Kind::Word {
        let name = &pieces[end - 1];
        format = Some(sql[name.start..name.end].to_string());
        end -= 2;
    }
    // SETTINGS at the top level, the last one.
    let mut depth = 0usize;
    let mut settings_at = None;
    for (i, piece) in pieces[..end].iter().enumerate() {
        match (piece.kind, text[piece.start]) {
            (Kind::Punct, b'(') => depth += 1,
            (Kind::Punct, b')') => depth = depth.saturating_sub(1),
            (Kind::Word, _) if depth == 0 && is_word(text, piece, "SETTINGS") => {
                settings_at = Some(i);
            }
            _ => {}
        }
    }
    let mut settings = Vec::new();
    if let Some(at) = settings_at {
        settings = setting_list(sql, &pieces[at + 1..end])?;
        end = at;
    }
    let end_byte = if end == 0 { 0 } else { pieces[end - 1].end };
    Ok((end_byte, format, settings))
}

/// The pieces of `text` without the blanks (spaces, comments).
fn words(text: &[u8]) -> Result<Vec<Piece>> {
    Ok(lexer::pieces(text)
        .map_err(unterminated)?
        .into_iter()
        .filter(|p| p.kind != Kind::Blank)
        .collect())
}

/// `SET name = value, …`: the settings it assigns, if `sql` is a SET statement.
fn set_statement(sql: &str) -> Result<Option<Vec<(String, String)>>> {
    let text = sql.as_bytes();
    let pieces = words(text)?;
    match pieces.split_first() {
        Some((first, rest)) if is_word(text, first, "SET") => setting_list(sql, rest)
            .map(Some)
            .map_err(|_| Error::parse("Expected SET name = value, … (settings of the session)")),
        _ => Ok(None),
    }
}

/// `name = value, …`.
fn setting_list(sql: &str, pieces: &[Piece]) -> Result<Vec<(String, String)>> {
    let text = sql.as_bytes();
    let mut out = Vec::new();
    for group in pieces.split(|p| p.kind == Kind::Punct && text[p.start] == b',') {
        let [name, eq, value @ ..] = group else {
            return Err(Error::parse("Expected SETTINGS name = value, …"));
        };
        if name.kind != Kind::Word
            || !(eq.kind == Kind::Punct && text[eq.start] == b'=')
            || value.is_empty()
        {
            return Err(Error::parse("Expected SETTINGS name = value, …"));
        }
        let value = match value {
            [one] if one.kind == Kind::String => lexer::unquote(&text[one.start..one.end]),
            _ => sql[value[0].start..value[value.len() - 1].end].to_string(),
        };
        out.push((sql[name.start..name.end].to_string(), value));
    }
    Ok(out)
}

/// A statement in ClickHouse's dialect.
fn statement(sql: &str) -> Result<Statement> {
    if let Some(insert) = super::values::scan(sql) {
        return Ok(insert);
    }
    let dialect = StrataDialect::clickhouse();
    let mut parser = Parser::new(&dialect)
        .with_recursion_limit(super::MAX_NESTING)
        .try_with_sql(sql)?;
    let own = if word_at(&parser, 0, "SHOW") && word_at(&parser, 1, "DATABASES") {
        let _ = (parser.next_token(), parser.next_token());
        Some(Statement::ShowDatabases)
    } else if word_at(&parser, 0, "SHOW") && word_at(&parser, 1, "TABLES") {
        Some(show_tables(&mut parser)?)
    } else if word_at(&parser, 0, "SHOW") && word_at(&parser, 1, "CREATE") {
        let _ = (parser.next_token(), parser.next_token());
        eat_word(&mut parser, "TABLE");
        Some(Statement::ShowCreateTable {
            table: parse_table(&mut parser)?,
        })
    } else if word_at(&parser, 0, "EXISTS") {
        let _ = parser.next_token();
        eat_word(&mut parser, "TEMPORARY");
        eat_word(&mut parser, "TABLE");
        Some(Statement::ExistsTable {
            table: parse_table(&mut parser)?,
        })
    } else if (word_at(&parser, 0, "DESC") || word_at(&parser, 0, "DESCRIBE"))
        && !word_at(&parser, 1, "HISTORY")
    {
        let _ = parser.next_token();
        eat_word(&mut parser, "TABLE");
        Some(Statement::DescribeColumns {
            table: parse_table(&mut parser)?,
        })
    } else {
        None
    };
    let statement = match own {
        Some(statement) => {
            while parser.consume_token(&datafusion::sql::sqlparser::tokenizer::Token::SemiColon) {}
            let next = parser.peek_token();
            if next.token != datafusion::sql::sqlparser::tokenizer::Token::EOF {
                return Err(super::expected("end of statement", &next));
            }
            statement
        }
        None => super::parse_with(sql, &dialect)?,
    };
    Ok(statement)
}

/// `SHOW TABLES [FROM|IN db]`: the default database's tables, or the system database's.
fn show_tables(parser: &mut Parser<'_>) -> Result<Statement> {
    let _ = (parser.next_token(), parser.next_token());
    let database = if eat_word(parser, "FROM") || eat_word(parser, "IN") {
        ident_name(&parser.parse_identifier()?)
    } else {
        DEFAULT_DATABASE.to_string()
    };
    Ok(Statement::ShowTableNames { database })
}

/// `INSERT INTO [TABLE] t [(a, b)]`, the statement part of an insert whose rows follow.
fn insert_rows(sql: &str) -> Result<Statement> {
    let dialect = StrataDialect::clickhouse();
    let mut parser = Parser::new(&dialect).try_with_sql(sql)?;
    super::expect_word(&mut parser, "INSERT")?;
    super::expect_word(&mut parser, "INTO")?;
    eat_word(&mut parser, "TABLE");
    let table = parse_table(&mut parser)?;
    let columns = if parser.consume_token(&datafusion::sql::sqlparser::tokenizer::Token::LParen) {
        let mut names = Vec::new();
        loop {
            names.push(ident_name(&parser.parse_identifier()?));
            if !parser.consume_token(&datafusion::sql::sqlparser::tokenizer::Token::Comma) {
                break;
            }
        }
        parser.expect_token(&datafusion::sql::sqlparser::tokenizer::Token::RParen)?;
        Some(names)
    } else {
        None
    };
    let next = parser.peek_token();
    if next.token != datafusion::sql::sqlparser::tokenizer::Token::EOF {
        return Err(super::expected("FORMAT", &next));
    }
    Ok(Statement::InsertRows { table, columns })
}

#[cfg(test)]
mod tests;
