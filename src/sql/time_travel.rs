//! Time travel: `FROM t VERSION AS OF n` and `FROM t TIMESTAMP AS OF '<RFC 3339>'` read the
//! table as the HDB held it at that Delta version.
//!
//! sqlparser's generic dialect has no table-version clause, so the clause is folded into the
//! table reference before parsing (`t VERSION AS OF 3` → `"t@v3"`), on tokens, never inside
//! string literals. Table names are plain identifiers, so `@` cannot clash with a real table;
//! the schema provider reads it back with [`versioned_name`].

use std::borrow::Cow;

use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer, Word};
use strata_tiers::AsOf;

/// `sql` with every `name VERSION|TIMESTAMP AS OF x` folded into one quoted table name.
/// Unchanged if there is none (or the text does not tokenize: the parser reports that).
pub fn fold_as_of(sql: &str) -> Cow<'_, str> {
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, sql).tokenize() else {
        return sql.into();
    };
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    let mut changed = false;
    let mut i = 0;
    while i < tokens.len() {
        if let Token::Word(table) = &tokens[i]
            && let Some((as_of, next)) = as_of_clause(&tokens, i + 1)
        {
            let name = if table.quote_style.is_some() {
                table.value.clone()
            } else {
                table.value.to_lowercase()
            };
            out.push(Token::Word(Word {
                value: format!("{name}@{as_of}"),
                quote_style: Some('"'),
                keyword: Keyword::NoKeyword,
            }));
            changed = true;
            i = next;
            continue;
        }
        out.push(tokens[i].clone());
        i += 1;
    }
    if !changed {
        return sql.into();
    }
    out.iter()
        .map(ToString::to_string)
        .collect::<String>()
        .into()
}

/// At `tokens[start..]`: whitespace, `VERSION|TIMESTAMP AS OF value`. Returns the encoded
/// version (`v3`, `t2024-…`) and the index after the clause.
fn as_of_clause(tokens: &[Token], start: usize) -> Option<(String, usize)> {
    let mut words = Vec::new();
    let mut i = start;
    while words.len() < 4 {
        match tokens.get(i)? {
            Token::Whitespace(_) => {}
            token => words.push(token),
        }
        i += 1;
    }
    let keyword = |t: &Token, k: Keyword| matches!(t, Token::Word(w) if w.keyword == k);
    if !keyword(words[1], Keyword::AS) || !keyword(words[2], Keyword::OF) {
        return None;
    }
    match (words[0], words[3]) {
        (Token::Word(w), Token::Number(n, _)) if w.keyword == Keyword::VERSION => {
            Some((format!("v{n}"), i))
        }
        (Token::Word(w), Token::SingleQuotedString(s)) if w.keyword == Keyword::TIMESTAMP => {
            Some((format!("t{s}"), i))
        }
        _ => None,
    }
}

/// A table name folded by [`fold_as_of`]: the table and the version it asks for. `Err` for a
/// version that is not a number.
pub fn versioned_name(name: &str) -> Option<(&str, Result<AsOf, String>)> {
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

    #[test]
    fn clauses_fold_into_the_table_name() {
        assert_eq!(
            fold_as_of("SELECT * FROM Trades VERSION AS OF 3 WHERE x = 1"),
            "SELECT * FROM \"trades@v3\" WHERE x = 1"
        );
        assert_eq!(
            fold_as_of("SELECT count(*) FROM t TIMESTAMP AS OF '2024-03-23T22:00:00Z' AS old"),
            "SELECT count(*) FROM \"t@t2024-03-23T22:00:00Z\" AS old"
        );
        let untouched = "SELECT 'FROM t VERSION AS OF 3' FROM t";
        assert_eq!(fold_as_of(untouched), untouched);
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
