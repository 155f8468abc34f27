//! The fast path for the statement small writers send most: `INSERT INTO t [(c, …)] VALUES
//! (literal, …), …` with nothing but plain literals in its rows.
//!
//! sqlparser builds an AST node per value and DataFusion then plans a projection of casts over
//! a `VALUES` node; for a one-row insert that is most of the statement's cost, and for 1 000
//! rows it is milliseconds. This scanner reads exactly that shape in one pass, straight into
//! columns of literals ([`ValueRows`]), which the service turns into one Arrow batch and casts to
//! the table's types as the insert's casts would.
//!
//! It is deliberately narrow: at the first byte it is not sure of — a comment, an expression, a
//! function call, a backslash in a string, a number DataFusion would not read as `Int64` or
//! `Float64`, rows of different widths — it declines, and the statement takes the full parser,
//! which gives the authoritative answer or error. The fast path changes what a statement costs,
//! never what it means.

use super::super::insert_values::{Literal, ValueRows};
use super::super::statement::Statement;
use crate::sql::system::DEFAULT_DATABASE;

/// `sql` as a [`Statement::InsertValues`], or `None` when it is anything else (or anything this
/// scanner does not read with certainty).
pub(crate) fn scan(sql: &str) -> Option<Statement> {
    let mut s = Scan {
        text: sql.as_bytes(),
        at: 0,
    };
    s.keyword("INSERT")?;
    s.keyword("INTO")?;
    let table = s.table()?;
    s.space();
    let columns = if s.eat(b'(') {
        Some(s.column_list()?)
    } else {
        None
    };
    s.keyword("VALUES")?;
    let rows = s.rows()?;
    s.space();
    while s.eat(b';') {
        s.space();
    }
    (s.at == s.text.len()).then_some(Statement::InsertValues {
        table,
        columns,
        rows,
    })
}

struct Scan<'a> {
    text: &'a [u8],
    at: usize,
}

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// Consumes `byte` (after any space) if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        self.space();
        let here = self.peek() == Some(byte);
        if here {
            self.at += 1;
        }
        here
    }

    /// The next unquoted word (ASCII letters, digits, `_`), or `None` when what follows it would
    /// make sqlparser read a longer word (`$`, `#`, `@`, any non-ASCII letter).
    fn word(&mut self) -> Option<&str> {
        self.space();
        let start = self.at;
        if !self
            .peek()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        {
            return None;
        }
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            self.at += 1;
        }
        if self
            .peek()
            .is_some_and(|b| matches!(b, b'$' | b'#' | b'@') || !b.is_ascii())
        {
            return None;
        }
        std::str::from_utf8(&self.text[start..self.at]).ok()
    }

    fn keyword(&mut self, keyword: &str) -> Option<()> {
        self.word()
            .filter(|w| w.eq_ignore_ascii_case(keyword))
            .map(|_| ())
    }

    /// An identifier as [`super::ident_name`] reads it: unquoted folded to lower case, `"quoted"`
    /// as written (`""` is one quote).
    fn ident(&mut self) -> Option<String> {
        self.space();
        if self.peek() != Some(b'"') {
            return self.word().map(str::to_ascii_lowercase);
        }
        self.at += 1;
        let mut name = Vec::new();
        loop {
            match self.peek()? {
                b'"' if self.text.get(self.at + 1) == Some(&b'"') => {
                    name.push(b'"');
                    self.at += 2;
                }
                b'"' => {
                    self.at += 1;
                    break;
                }
                b => {
                    name.push(b);
                    self.at += 1;
                }
            }
        }
        let name = String::from_utf8(name).ok()?;
        (!name.is_empty()).then_some(name)
    }

    /// A bare table name, or one in the `default` database ([`super::table_name`]'s rule; any
    /// other qualifier is left to the full parser's error).
    fn table(&mut self) -> Option<String> {
        let first = self.ident()?;
        if self.peek() != Some(b'.') {
            return Some(first);
        }
        self.at += 1;
        let table = self.ident()?;
        (first == DEFAULT_DATABASE).then_some(table)
    }

    /// `a, b, c)` (the `(` already read).
    fn column_list(&mut self) -> Option<Vec<String>> {
        let mut columns = Vec::new();
        loop {
            columns.push(self.ident()?);
            if self.eat(b')') {
                return Some(columns);
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }

    /// `(v, …), (v, …)`: one row at least, every row as wide as the first.
    fn rows(&mut self) -> Option<ValueRows> {
        let mut rows: Option<ValueRows> = None;
        loop {
            if !self.eat(b'(') {
                return None;
            }
            let mut row = Vec::with_capacity(rows.as_ref().map_or(4, ValueRows::width));
            loop {
                self.space();
                row.push(self.literal()?);
                if self.eat(b')') {
                    break;
                }
                if !self.eat(b',') {
                    return None;
                }
            }
            match rows.as_mut() {
                None => rows = Some(ValueRows::first(row)),
                Some(rows) => rows.push(row).ok()?,
            }
            let mark = self.at;
            if !self.eat(b',') {
                self.at = mark;
                return rows;
            }
        }
    }

    fn literal(&mut self) -> Option<Literal> {
        match self.peek()? {
            b'\'' => self.string().map(Literal::Text),
            b'0'..=b'9' | b'.' | b'-' | b'+' => self.number(),
            _ => {
                let word = self.word()?;
                if word.eq_ignore_ascii_case("NULL") {
                    Some(Literal::Null)
                } else if word.eq_ignore_ascii_case("TRUE") {
                    Some(Literal::Bool(true))
                } else if word.eq_ignore_ascii_case("FALSE") {
                    Some(Literal::Bool(false))
                } else {
                    None
                }
            }
        }
    }

    /// `'…'` with `''` for a quote. A backslash declines: the ClickHouse dialect reads it as an
    /// escape and the generic one does not, and only the full parser knows which applies.
    fn string(&mut self) -> Option<String> {
        self.at += 1;
        let start = self.at;
        let mut owned: Option<Vec<u8>> = None;
        loop {
            match self.peek()? {
                b'\\' => return None,
                b'\'' if self.text.get(self.at + 1) == Some(&b'\'') => {
                    let text = owned.get_or_insert_with(|| self.text[start..self.at].to_vec());
                    text.push(b'\'');
                    self.at += 2;
                }
                b'\'' => break,
                b => {
                    if let Some(text) = owned.as_mut() {
                        text.push(b);
                    }
                    self.at += 1;
                }
            }
        }
        let text = match owned {
            Some(text) => String::from_utf8(text).ok()?,
            None => std::str::from_utf8(&self.text[start..self.at])
                .ok()?
                .to_string(),
        };
        self.at += 1;
        Some(text)
    }

    /// A number as sqlparser tokenizes it (`12`, `-3`, `1.5`, `.5`, `1.`, `2e-3`), typed as
    /// DataFusion types a number literal: `Int64` when the signed text is one, `Float64` when it
    /// has a point or an exponent. Integers past `i64` (DataFusion's `UInt64` or `Float64`)
    /// decline.
    fn number(&mut self) -> Option<Literal> {
        let start = self.at;
        if matches!(self.peek(), Some(b'-' | b'+')) {
            self.at += 1;
        }
        let digits = |s: &mut Self| {
            let from = s.at;
            while s.peek().is_some_and(|b| b.is_ascii_digit()) {
                s.at += 1;
            }
            s.at - from
        };
        let mut integral = true;
        let mut count = digits(self);
        if self.peek() == Some(b'.') {
            self.at += 1;
            integral = false;
            count += digits(self);
        }
        if count == 0 {
            return None;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            integral = false;
            if matches!(self.peek(), Some(b'-' | b'+')) {
                self.at += 1;
            }
            if digits(self) == 0 {
                return None;
            }
        }
        // `1a`, `1_000`, `1.2.3`: not one number token followed by a delimiter.
        if !matches!(
            self.peek(),
            Some(b' ' | b'\t' | b'\n' | b'\r' | b',' | b')')
        ) {
            return None;
        }
        let text = std::str::from_utf8(&self.text[start..self.at]).ok()?;
        let unsigned = text.trim_start_matches('+');
        if integral {
            unsigned.parse::<i64>().ok().map(Literal::Int)
        } else {
            unsigned.parse::<f64>().ok().map(Literal::Float)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(sql: &str) -> Vec<Vec<Literal>> {
        match scan(sql) {
            Some(Statement::InsertValues { rows, .. }) => rows.into_rows(),
            other => panic!("{sql}: {other:?}"),
        }
    }

    #[test]
    fn reads_literals_of_every_kind() {
        assert_eq!(
            rows("insert into t values ('a''b', -12, 1.5, .5, 1., 2e-3, NULL, true, FALSE, +7)"),
            vec![vec![
                Literal::Text("a'b".into()),
                Literal::Int(-12),
                Literal::Float(1.5),
                Literal::Float(0.5),
                Literal::Float(1.0),
                Literal::Float(0.002),
                Literal::Null,
                Literal::Bool(true),
                Literal::Bool(false),
                Literal::Int(7),
            ]]
        );
        assert_eq!(
            rows("INSERT INTO t VALUES (-9223372036854775808)"),
            vec![vec![Literal::Int(i64::MIN)]]
        );
        assert_eq!(
            rows("INSERT INTO t VALUES ('')"),
            vec![vec![Literal::Text(String::new())]]
        );
    }

    #[test]
    fn reads_names_and_layout() {
        let Some(Statement::InsertValues {
            table,
            columns,
            rows,
        }) = scan("\n INSERT  INTO default.\"Ticks\"(Sym, \"Px\")VALUES(1,2),\n(3 , 4) ;; ")
        else {
            panic!("not read");
        };
        assert_eq!(table, "Ticks");
        assert_eq!(columns, Some(vec!["sym".to_string(), "Px".to_string()]));
        assert_eq!(rows.len(), 2);
        assert_eq!(
            scan("INSERT INTO Trades VALUES (1)").map(|s| s.tables()),
            Some(vec!["trades".to_string()])
        );
    }

    #[test]
    fn declines_what_only_the_full_parser_reads() {
        for sql in [
            "INSERT INTO t VALUES (1 + 2)",
            "INSERT INTO t VALUES (now())",
            "INSERT INTO t VALUES ((1))",
            "INSERT INTO t VALUES ('a\\tb')",
            "INSERT INTO t VALUES (- 1)",
            "INSERT INTO t VALUES (1a)",
            "INSERT INTO t VALUES (1_000)",
            "INSERT INTO t VALUES (9223372036854775808)",
            "INSERT INTO t VALUES (1e)",
            "INSERT INTO t VALUES (.)",
            "INSERT INTO t VALUES (1), (1, 2)",
            "INSERT INTO t VALUES ()",
            "INSERT INTO t VALUES (1) -- note",
            "INSERT INTO t VALUES (1) /* note */",
            "INSERT INTO t VALUES (1) RETURNING *",
            "INSERT INTO t VALUES (1); SELECT 1",
            "INSERT INTO t VALUES (DEFAULT)",
            "INSERT INTO t VALUES (E'x')",
            "INSERT INTO t VALUES ('unterminated)",
            "INSERT INTO t VALUES (1",
            "INSERT INTO t VALUES",
            "INSERT INTO t SELECT 1",
            "INSERT INTO public.t VALUES (1)",
            "INSERT INTO t$x VALUES (1)",
            "INSERT INTO \"\" VALUES (1)",
            "INSERT INTO t () VALUES (1)",
            "INSERT INTO TABLE t VALUES (1)",
            "INSERT t VALUES (1)",
            "INSERT INTO t VALUES (1) FORMAT JSON",
            "SELECT 1",
            "",
        ] {
            assert!(scan(sql).is_none(), "{sql}");
        }
    }
}
