//! kdb+'s joins as SQL spells them: `ASOF [LEFT] JOIN`, `AJ0 JOIN`, `WINDOW JOIN`, `UNION JOIN`,
//! `PLUS JOIN` (ClickHouse's `ASOF [LEFT] JOIN … ON`/`USING` too).
//!
//! sqlparser reads none of these (its `ASOF JOIN` is Snowflake's, with `MATCH_CONDITION`), so
//! before parsing, [`mark`] rewrites each spelling in the token stream into the marked form
//! [`JoinKind::of`] recognises (a standard join after `GLOBAL`); a `GLOBAL` the user wrote
//! (ClickHouse's distributed joins, meaningless on one node) is dropped so that the mark is
//! never ambiguous. After parsing, [`nest`] gives every marked join a parenthesised join of its
//! own (`a ASOF JOIN b ON … JOIN c` → `(a ASOF JOIN b ON …) JOIN c`), which is the relation
//! [`crate::sql::joins::plan::KdbJoinPlanner`] plans; a marked join anywhere else (an
//! `UPDATE … FROM`) is refused, so DataFusion never plans one as a plain join.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Join, Query, SetExpr, Statement as Ast, TableFactor, TableWithJoins, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::sql::error::{Error, Result};
use crate::sql::joins::JoinKind;

/// Words that may follow `GLOBAL` in a join a user wrote.
const JOIN_WORDS: [&str; 11] = [
    "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "OUTER", "SEMI", "ANTI", "ANY", "ALL",
];

/// `tokens` with every kdb+ join spelling marked; also how many there were.
pub(crate) fn mark(tokens: Vec<TokenWithSpan>) -> (Vec<TokenWithSpan>, usize) {
    let words: Vec<Option<String>> = tokens.iter().map(word).collect();
    // Index of the next token that is not whitespace, from `i` on.
    let next = |mut i: usize| {
        while i < tokens.len() && matches!(tokens[i].token, Token::Whitespace(_)) {
            i += 1;
        }
        i
    };
    let is = |i: usize, w: &str| words.get(i).and_then(|x| x.as_deref()) == Some(w);
    let mut out = Vec::with_capacity(tokens.len());
    let mut marked = 0;
    let mut i = 0;
    while i < tokens.len() {
        let after = next(i + 1);
        // (kind, index of the JOIN keyword that ends the spelling)
        let found = match words[i].as_deref() {
            Some("ASOF") if is(after, "JOIN") => Some((JoinKind::Asof, after)),
            Some("ASOF") if is(after, "LEFT") => {
                let mut end = next(after + 1);
                if is(end, "OUTER") {
                    end = next(end + 1);
                }
                is(end, "JOIN").then_some((JoinKind::AsofLeft, end))
            }
            Some("AJ0") if is(after, "JOIN") => Some((JoinKind::Aj0, after)),
            Some("WINDOW") if is(after, "JOIN") => Some((JoinKind::Window, after)),
            Some("UNION") if is(after, "JOIN") => Some((JoinKind::Union, after)),
            Some("PLUS") if is(after, "JOIN") => Some((JoinKind::Plus, after)),
            _ => None,
        };
        if let Some((kind, end)) = found {
            let span = tokens[i].span;
            for keyword in std::iter::once(&"GLOBAL").chain(kind.marker()) {
                out.push(TokenWithSpan::new(Token::make_keyword(keyword), span));
                out.push(TokenWithSpan::new(
                    Token::Whitespace(datafusion::sql::sqlparser::tokenizer::Whitespace::Space),
                    span,
                ));
            }
            marked += 1;
            i = end + 1;
            continue;
        }
        if is(i, "GLOBAL") && JOIN_WORDS.iter().any(|w| is(after, w)) {
            i = after;
            continue;
        }
        out.push(tokens[i].clone());
        i += 1;
    }
    (out, marked)
}

/// An unquoted word, upper-cased.
fn word(token: &TokenWithSpan) -> Option<String> {
    match &token.token {
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
        _ => None,
    }
}

/// Gives each of the `marked` joins in `ast` a parenthesised join of its own; refuses the
/// statement if any is where no query's `FROM` can hold it.
pub(crate) fn nest(ast: &mut Ast, marked: usize) -> Result<()> {
    if marked == 0 {
        return Ok(());
    }
    let _ = ast.visit(&mut Nest);
    let mut count = Count(0);
    let _ = datafusion::sql::sqlparser::ast::Visit::visit(&*ast, &mut count);
    if count.0 != marked {
        return Err(misplaced());
    }
    Ok(())
}

/// The error for a marked join where no query's `FROM` holds it.
pub(crate) fn misplaced() -> Error {
    Error::Invalid(
        "ASOF, AJ0, WINDOW, UNION and PLUS joins go in the FROM clause of a SELECT".into(),
    )
}

/// Rewrites every `FROM` (and every parenthesised join) so that each marked join is the only
/// join of a parenthesised join.
struct Nest;

impl VisitorMut for Nest {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        nest_set_expr(query.body.as_mut());
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        if let TableFactor::NestedJoin {
            table_with_joins, ..
        } = factor
            && !is_nested(table_with_joins)
        {
            let whole = std::mem::replace(table_with_joins.as_mut(), placeholder());
            **table_with_joins = canonical(whole);
        }
        ControlFlow::Continue(())
    }
}

fn nest_set_expr(body: &mut SetExpr) {
    match body {
        SetExpr::Select(select) => {
            for from in &mut select.from {
                let whole = std::mem::replace(from, placeholder());
                *from = canonical(whole);
            }
        }
        SetExpr::SetOperation { left, right, .. } => {
            nest_set_expr(left);
            nest_set_expr(right);
        }
        // Nested queries are visited as queries of their own.
        _ => {}
    }
}

/// Whether `twj` is already a marked join's own: its relation and that one join.
fn is_nested(twj: &TableWithJoins) -> bool {
    matches!(twj.joins.as_slice(), [only] if JoinKind::of(only).is_some())
}

/// `twj` with its last marked join (and, recursively, every earlier one) in a parenthesised
/// join of its own: `r J1 … Jk-1 Mk Jk+1 …` → `(canonical(r J1 … Jk-1) Mk) Jk+1 …`.
fn canonical(mut twj: TableWithJoins) -> TableWithJoins {
    let Some(last) = twj.joins.iter().rposition(|j| JoinKind::of(j).is_some()) else {
        return twj;
    };
    let after: Vec<Join> = twj.joins.split_off(last + 1);
    let marked = twj.joins.pop().expect("the marked join is at `last`");
    let head = canonical(twj);
    let relation = if head.joins.is_empty() {
        head.relation
    } else {
        TableFactor::NestedJoin {
            table_with_joins: Box::new(head),
            alias: None,
        }
    };
    TableWithJoins {
        relation: TableFactor::NestedJoin {
            table_with_joins: Box::new(TableWithJoins {
                relation,
                joins: vec![marked],
            }),
            alias: None,
        },
        joins: after,
    }
}

fn placeholder() -> TableWithJoins {
    TableWithJoins {
        relation: TableFactor::Table {
            name: datafusion::sql::sqlparser::ast::ObjectName(vec![]),
            alias: None,
            args: None,
            with_hints: vec![],
            version: None,
            with_ordinality: false,
            partitions: vec![],
            json_path: None,
            sample: None,
            index_hints: vec![],
        },
        joins: vec![],
    }
}

/// Counts the marked joins that are the only join of a parenthesised join.
struct Count(usize);

impl datafusion::sql::sqlparser::ast::Visitor for Count {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        if let TableFactor::NestedJoin {
            table_with_joins, ..
        } = factor
            && is_nested(table_with_joins)
        {
            self.0 += 1;
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    fn nested(sql: &str) -> String {
        match crate::sql::parser::parse(sql).unwrap() {
            crate::sql::statement::Statement::Query(planned) => planned.ast.to_string(),
            other => panic!("not a query: {other:?}"),
        }
    }

    #[test]
    fn each_spelling_is_marked_and_nested() {
        assert_eq!(
            nested("SELECT * FROM t ASOF JOIN q ON t.s = q.s AND t.ts >= q.ts"),
            "SELECT * FROM (t GLOBAL JOIN q ON t.s = q.s AND t.ts >= q.ts)"
        );
        assert_eq!(
            nested("select * from t asof left outer join q using (s, ts)"),
            "SELECT * FROM (t GLOBAL LEFT JOIN q USING(s, ts))"
        );
        assert_eq!(
            nested("SELECT * FROM t AJ0 JOIN q ON t.ts >= q.ts"),
            "SELECT * FROM (t GLOBAL INNER JOIN q ON t.ts >= q.ts)"
        );
        assert_eq!(
            nested("SELECT * FROM t WINDOW JOIN q ON q.ts BETWEEN t.ts - 1 AND t.ts + 1"),
            "SELECT * FROM (t GLOBAL LEFT OUTER JOIN q ON q.ts BETWEEN t.ts - 1 AND t.ts + 1)"
        );
        assert_eq!(
            nested("SELECT * FROM t UNION JOIN q"),
            "SELECT * FROM (t GLOBAL FULL JOIN q)"
        );
        assert_eq!(
            nested("SELECT * FROM t PLUS JOIN q ON t.k = q.k"),
            "SELECT * FROM (t GLOBAL RIGHT JOIN q ON t.k = q.k)"
        );
    }

    #[test]
    fn marked_joins_among_others_get_their_own_parentheses() {
        assert_eq!(
            nested(
                "SELECT * FROM a JOIN b ON a.x = b.x ASOF JOIN c ON a.ts >= c.ts \
                 JOIN d ON a.y = d.y ASOF JOIN e ON a.ts >= e.ts"
            ),
            "SELECT * FROM ((((a JOIN b ON a.x = b.x) GLOBAL JOIN c ON a.ts >= c.ts) \
             JOIN d ON a.y = d.y) GLOBAL JOIN e ON a.ts >= e.ts)"
        );
        assert_eq!(
            nested("SELECT * FROM (SELECT * FROM t ASOF JOIN q ON t.ts >= q.ts) x"),
            "SELECT * FROM (SELECT * FROM (t GLOBAL JOIN q ON t.ts >= q.ts)) x"
        );
    }

    #[test]
    fn a_global_the_user_wrote_is_a_plain_join() {
        assert_eq!(
            nested("SELECT * FROM t GLOBAL LEFT JOIN q ON t.k = q.k"),
            "SELECT * FROM t LEFT JOIN q ON t.k = q.k"
        );
        // Words that merely look alike are left alone.
        assert_eq!(
            nested("SELECT asof, plus FROM t"),
            "SELECT asof, plus FROM t"
        );
    }

    #[test]
    fn marked_joins_outside_a_query_are_refused() {
        let err = crate::sql::parser::parse(
            "UPDATE t SET x = 1 FROM a ASOF JOIN b ON a.ts >= b.ts WHERE t.k = a.k",
        )
        .unwrap_err();
        assert!(err.to_string().contains("FROM clause of a SELECT"), "{err}");
    }
}
