//! Parsing one request's SQL and deciding what kind of statement it is.
//!
//! The kind decides permissions and routing: reads may come over `GET`, writes and DDL only over
//! `POST`; catalog statements (`CREATE`, `DROP`, `ALTER`, `SHOW TABLES`, `DESCRIBE`) are run by
//! [`super::ddl`], everything else by DataFusion.

use datafusion::sql::sqlparser::ast::{Ident, ObjectName, ObjectNamePart, ObjectType, Statement};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

use crate::error::{Error, Result};

/// What a statement does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Reads only: SELECT, EXPLAIN, SHOW TABLES, DESCRIBE.
    Read,
    /// Changes rows: INSERT, UPDATE, DELETE.
    Write,
    /// Changes tables: CREATE, DROP, ALTER.
    Ddl,
}

/// The name a DML statement reports its row count under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DmlKind {
    /// `INSERT` → `inserted`.
    Insert,
    /// `UPDATE` → `updated`.
    Update,
    /// `DELETE` → `deleted`.
    Delete,
}

impl DmlKind {
    /// The result column name (as in the ZeptoDB reference).
    pub fn column(self) -> &'static str {
        match self {
            DmlKind::Insert => "inserted",
            DmlKind::Update => "updated",
            DmlKind::Delete => "deleted",
        }
    }
}

/// Deepest expression nesting accepted; deeper SQL is refused instead of exhausting the stack.
const MAX_NESTING: usize = 128;

/// Parses exactly one statement (a trailing `;` is fine).
pub fn parse(sql: &str) -> Result<Statement> {
    if sql.trim().is_empty() {
        return Err(Error::BadRequest(
            "Empty query: send one SQL statement in the request body (or ?query=)".into(),
        ));
    }
    let sql = flush_table_as_mysql(sql);
    let sql = super::time_travel::fold_as_of(&sql);
    let mut statements = Parser::new(&GenericDialect {})
        .with_recursion_limit(MAX_NESTING)
        .try_with_sql(&sql)?
        .parse_statements()?;
    if statements.len() > 1 {
        return Err(Error::BadRequest(format!(
            "Only one statement per request is allowed, got {}",
            statements.len()
        )));
    }
    statements
        .pop()
        .ok_or_else(|| Error::BadRequest("Empty query: no statement found".into()))
}

/// The kind of a parsed statement; statements Strata does not run are refused here with a clear
/// message, before any planning.
/// Statements of Strata's own that sqlparser does not know, recognised before parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `DESCRIBE HISTORY t` (or `DESC HISTORY t`).
    DescribeHistory(String),
    /// `OPTIMIZE [TABLE] t`.
    Optimize(String),
    /// `VACUUM [TABLE] t [RETAIN n HOURS]`.
    Vacuum(String, Option<u64>),
    /// `ALTER TABLE t SET TTL n DAYS|HOURS` (0: keep forever), as nanoseconds.
    SetTtl(String, i64),
}

impl Command {
    /// Whether a read-only request (`GET /?query=`) may run it.
    pub fn is_read_only(&self) -> bool {
        matches!(self, Command::DescribeHistory(_))
    }
}

/// Builds a [`Command`] from its table and the words after it (`None`: they do not fit).
type BuildCommand = fn(String, &[&str]) -> Option<Command>;

/// The [`Command`] `sql` spells, if it is one.
pub fn command(sql: &str) -> Option<Result<Command>> {
    let sql = sql.trim().trim_end_matches(';');
    let words: Vec<&str> = sql.split_whitespace().collect();
    let is = |i: usize, w: &str| words.get(i).is_some_and(|x| x.eq_ignore_ascii_case(w));
    let (usage, rest, build): (&str, &[&str], BuildCommand) =
        if (is(0, "DESCRIBE") || is(0, "DESC")) && is(1, "HISTORY") {
            ("DESCRIBE HISTORY name", &words[2..], |t, rest| {
                rest.is_empty().then_some(Command::DescribeHistory(t))
            })
        } else if is(0, "OPTIMIZE") {
            let skip = if is(1, "TABLE") { 2 } else { 1 };
            (
                "OPTIMIZE [TABLE] name",
                &words[skip.min(words.len())..],
                |t, rest| rest.is_empty().then_some(Command::Optimize(t)),
            )
        } else if is(0, "ALTER") && is(1, "TABLE") && is(3, "SET") && is(4, "TTL") {
            (
                "ALTER TABLE name SET TTL n DAYS|HOURS",
                &words[2..],
                |t, rest| {
                    let [_, _, n, unit] = rest else { return None };
                    let n: i64 = n.parse().ok().filter(|n| *n >= 0)?;
                    let hour = 3_600_000_000_000_i64;
                    let per = match unit.to_ascii_uppercase().as_str() {
                        "DAY" | "DAYS" => 24 * hour,
                        "HOUR" | "HOURS" => hour,
                        _ => return None,
                    };
                    Some(Command::SetTtl(t, n.checked_mul(per)?))
                },
            )
        } else if is(0, "VACUUM") {
            let skip = if is(1, "TABLE") { 2 } else { 1 };
            (
                "VACUUM [TABLE] name [RETAIN n HOURS]",
                &words[skip.min(words.len())..],
                |t, rest| match rest {
                    [] => Some(Command::Vacuum(t, None)),
                    [r, n, h]
                        if r.eq_ignore_ascii_case("RETAIN")
                            && (h.eq_ignore_ascii_case("HOURS")
                                || h.eq_ignore_ascii_case("HOUR")) =>
                    {
                        n.parse().ok().map(|n| Command::Vacuum(t, Some(n)))
                    }
                    _ => None,
                },
            )
        } else {
            return None;
        };
    let parsed = rest.split_first().and_then(|(table, rest)| {
        let ident = match table.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            Some(quoted) => Ident::with_quote('"', quoted),
            None => Ident::new(*table),
        };
        build(ident_name(&ident), rest)
    });
    Some(parsed.ok_or_else(|| Error::Parse(format!("expected {usage}, got: {sql}"))))
}

/// Strata's `FLUSH TABLE t` is spelled as MySQL's `FLUSH TABLES t`, which sqlparser knows.
fn flush_table_as_mysql(sql: &str) -> std::borrow::Cow<'_, str> {
    let mut words = sql.split_whitespace();
    match (words.next(), words.next()) {
        (Some(f), Some(t))
            if f.eq_ignore_ascii_case("FLUSH") && t.eq_ignore_ascii_case("TABLE") =>
        {
            let rest = sql.trim_start()[f.len()..].trim_start()[t.len()..].to_string();
            format!("FLUSH TABLES{rest}").into()
        }
        _ => sql.into(),
    }
}

pub fn kind(stmt: &Statement) -> Result<Kind> {
    let kind = match stmt {
        Statement::Query(_) | Statement::ShowTables { .. } | Statement::ExplainTable { .. } => {
            Kind::Read
        }
        Statement::Explain {
            statement, analyze, ..
        } => match kind(statement)? {
            // EXPLAIN ANALYZE runs its statement.
            Kind::Read => Kind::Read,
            _ if !analyze => Kind::Read,
            other => other,
        },
        Statement::Insert(_)
        | Statement::Update(_)
        | Statement::Delete(_)
        | Statement::Flush { .. } => Kind::Write,
        Statement::CreateTable(_) | Statement::AlterTable(_) => Kind::Ddl,
        Statement::Drop {
            object_type: ObjectType::Table,
            ..
        } => Kind::Ddl,
        other => return Err(unsupported(&other.to_string())),
    };
    Ok(kind)
}

/// The DML kind of a statement, if it is one.
pub fn dml_kind(stmt: &Statement) -> Option<DmlKind> {
    match stmt {
        Statement::Insert(_) => Some(DmlKind::Insert),
        Statement::Update(_) => Some(DmlKind::Update),
        Statement::Delete(_) => Some(DmlKind::Delete),
        _ => None,
    }
}

fn unsupported(sql: &str) -> Error {
    let head: String = sql.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    Error::BadRequest(format!(
        "Unsupported statement: {head} … (supported: SELECT, INSERT, UPDATE, DELETE, CREATE TABLE, DROP TABLE, ALTER TABLE, SHOW TABLES, DESCRIBE, EXPLAIN)"
    ))
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

/// The table a name refers to. Strata has one namespace, so only a bare name is accepted.
pub fn table_name(name: &ObjectName) -> Result<String> {
    match name.0.as_slice() {
        [ObjectNamePart::Identifier(ident)] => Ok(ident_name(ident)),
        _ => Err(Error::BadRequest(format!(
            "Qualified table names are not supported: {name} (use the bare table name)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(sql: &str) -> Result<Kind> {
        kind(&parse(sql)?)
    }

    #[test]
    fn statements_are_classified() {
        assert_eq!(kind_of("SELECT 1").unwrap(), Kind::Read);
        assert_eq!(kind_of("SHOW TABLES").unwrap(), Kind::Read);
        assert_eq!(kind_of("DESCRIBE t").unwrap(), Kind::Read);
        assert_eq!(kind_of("EXPLAIN DELETE FROM t").unwrap(), Kind::Read);
        assert_eq!(
            kind_of("EXPLAIN ANALYZE DELETE FROM t").unwrap(),
            Kind::Write
        );
        assert_eq!(kind_of("INSERT INTO t VALUES (1)").unwrap(), Kind::Write);
        assert_eq!(kind_of("UPDATE t SET a = 1").unwrap(), Kind::Write);
        assert_eq!(kind_of("DELETE FROM t").unwrap(), Kind::Write);
        assert_eq!(kind_of("CREATE TABLE t (a INT64)").unwrap(), Kind::Ddl);
        assert_eq!(kind_of("DROP TABLE t").unwrap(), Kind::Ddl);
        assert_eq!(
            kind_of("ALTER TABLE t ADD COLUMN b BOOL").unwrap(),
            Kind::Ddl
        );
        assert!(kind_of("CREATE VIEW v AS SELECT 1").is_err());
    }

    #[test]
    fn bad_input_is_refused_clearly() {
        assert!(matches!(parse("  "), Err(Error::BadRequest(_))));
        assert!(matches!(parse("SELEC 1"), Err(Error::Parse(_))));
        assert!(matches!(
            parse("SELECT 1; SELECT 2"),
            Err(Error::BadRequest(_))
        ));
        parse("SELECT 1;").unwrap();
    }

    #[test]
    fn strata_commands_are_recognised() {
        assert_eq!(
            command("describe history Trades;").unwrap().unwrap(),
            Command::DescribeHistory("trades".into())
        );
        assert_eq!(
            command("OPTIMIZE TABLE t").unwrap().unwrap(),
            Command::Optimize("t".into())
        );
        assert_eq!(
            command("OPTIMIZE t").unwrap().unwrap(),
            Command::Optimize("t".into())
        );
        assert_eq!(
            command("VACUUM t RETAIN 0 HOURS").unwrap().unwrap(),
            Command::Vacuum("t".into(), Some(0))
        );
        assert_eq!(
            command("VACUUM t").unwrap().unwrap(),
            Command::Vacuum("t".into(), None)
        );
        assert!(command("VACUUM t RETAIN x HOURS").unwrap().is_err());
        assert!(command("OPTIMIZE").unwrap().is_err());
        assert_eq!(
            command("ALTER TABLE t SET TTL 2 DAYS").unwrap().unwrap(),
            Command::SetTtl("t".into(), 2 * 86_400_000_000_000)
        );
        assert!(command("ALTER TABLE t SET TTL 2 WEEKS").unwrap().is_err());
        assert!(command("ALTER TABLE t ADD COLUMN x INT64").is_none());
        assert!(command("SELECT 1").is_none());
        assert!(command("DESCRIBE t").is_none());
    }

    #[test]
    fn names_fold_unless_quoted() {
        assert_eq!(ident_name(&Ident::new("Trades")), "trades");
        assert_eq!(ident_name(&Ident::with_quote('"', "Trades")), "Trades");
        let name = ObjectName::from(vec![Ident::new("Trades")]);
        assert_eq!(table_name(&name).unwrap(), "trades");
        let qualified = ObjectName::from(vec![Ident::new("s"), Ident::new("t")]);
        assert!(table_name(&qualified).is_err());
    }
}
