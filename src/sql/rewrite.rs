//! Rewrites of the parsed SQL before DataFusion plans it.
//!
//! - Unaliased result columns are named by their SQL text as written (`vwap(price, volume)`,
//!   `count(*)`), as ClickHouse and the ZeptoDB reference name them, rather than DataFusion's
//!   internal names (`vwap(trades.price,trades.volume)`).
//! - `INTERVAL` strings accept the short units time-series users write (`'5 min'`, `'100 ms'`,
//!   `'1 h'`, `'2 d'`, `'1 w'`, `'10 ns'`), normalised to the long names DataFusion parses.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, Ident, Interval, Query, SelectItem, SetExpr, Statement, Value, ValueWithSpan,
    visit_expressions_mut,
};

/// Applies every rewrite to `stmt`.
pub fn apply(stmt: &mut Statement) {
    match stmt {
        Statement::Query(q) => name_columns(q, |expr, _| expr.to_string()),
        // INSERT … SELECT matches columns by position, so names only need to be distinct
        // (DataFusion refuses `SELECT 'x', 1, 1` for its two columns named `Int64(1)`).
        Statement::Insert(insert) => {
            if let Some(source) = insert.source.as_mut() {
                name_columns(source, |_, position| format!("column{}", position + 1));
            }
        }
        _ => {}
    }
    let _ = visit_expressions_mut(stmt, |expr| {
        if let Expr::Interval(Interval {
            value,
            leading_field: None,
            ..
        }) = expr
            && let Expr::Value(ValueWithSpan {
                value: Value::SingleQuotedString(text),
                ..
            }) = value.as_mut()
            && let Some(normalised) = normalise_interval(text)
        {
            *text = normalised;
        }
        ControlFlow::<()>::Continue(())
    });
}

/// Names the outermost SELECT's unaliased expressions with `name(expr, position)`. Plain column
/// references and wildcards keep their names. In `UNION`s the first branch names the columns.
pub(crate) fn name_columns(query: &mut Query, name: impl Fn(&Expr, usize) -> String) {
    let mut body = query.body.as_mut();
    loop {
        match body {
            SetExpr::Select(select) => {
                for (position, item) in select.projection.iter_mut().enumerate() {
                    if let SelectItem::UnnamedExpr(expr) = item
                        && !matches!(expr, Expr::Identifier(_) | Expr::CompoundIdentifier(_))
                    {
                        let alias = Ident::with_quote('"', name(expr, position));
                        *item = SelectItem::ExprWithAlias {
                            expr: expr.clone(),
                            alias,
                        };
                    }
                }
                return;
            }
            SetExpr::SetOperation { left, .. } => body = left.as_mut(),
            SetExpr::Query(q) => body = q.body.as_mut(),
            _ => return,
        }
    }
}

/// `"5 min"` → `"5 minutes"`; `None` if nothing needed changing or the text is not understood
/// (DataFusion then reports it).
fn normalise_interval(text: &str) -> Option<String> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    if !tokens.len().is_multiple_of(2) || tokens.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(tokens.len());
    let mut changed = false;
    for pair in tokens.chunks(2) {
        let (amount, unit) = (pair[0], pair[1]);
        amount.parse::<f64>().ok()?;
        let long = match unit.to_ascii_lowercase().as_str() {
            "ns" | "nanos" => "nanoseconds",
            "us" | "µs" | "micros" => "microseconds",
            "ms" | "millis" => "milliseconds",
            "s" | "sec" | "secs" => "seconds",
            "m" | "min" | "mins" => "minutes",
            "h" | "hr" | "hrs" => "hours",
            "d" => "days",
            "w" | "wk" | "wks" => "weeks",
            _ => unit,
        };
        changed |= long != unit;
        out.push(format!("{amount} {long}"));
    }
    changed.then(|| out.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::GenericDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn rewrite(sql: &str) -> String {
        let mut stmt = Parser::parse_sql(&GenericDialect {}, sql)
            .unwrap()
            .remove(0);
        apply(&mut stmt);
        stmt.to_string()
    }

    #[test]
    fn unaliased_expressions_are_named_as_written() {
        assert_eq!(
            rewrite("SELECT symbol, vwap(price, volume), count(*) AS n FROM t"),
            r#"SELECT symbol, vwap(price, volume) AS "vwap(price, volume)", count(*) AS n FROM t"#
        );
        assert_eq!(rewrite("SELECT * FROM t"), "SELECT * FROM t");
        assert_eq!(
            rewrite("SELECT 1 + 1 UNION ALL SELECT 2"),
            r#"SELECT 1 + 1 AS "1 + 1" UNION ALL SELECT 2"#
        );
    }

    #[test]
    fn insert_select_columns_get_distinct_positional_names() {
        assert_eq!(
            rewrite("INSERT INTO t SELECT 'x', 1, 1, a FROM s"),
            r#"INSERT INTO t SELECT 'x' AS "column1", 1 AS "column2", 1 AS "column3", a FROM s"#
        );
    }

    #[test]
    fn short_interval_units_are_spelled_out() {
        assert_eq!(
            rewrite("SELECT now() - INTERVAL '5 min'"),
            r#"SELECT now() - INTERVAL '5 minutes' AS "now() - INTERVAL '5 min'""#
        );
        assert_eq!(
            normalise_interval("100 ms"),
            Some("100 milliseconds".into())
        );
        assert_eq!(
            normalise_interval("1 h 30 m"),
            Some("1 hours 30 minutes".into())
        );
        assert_eq!(normalise_interval("5 minutes"), None);
        assert_eq!(normalise_interval("five m"), None);
    }
}
