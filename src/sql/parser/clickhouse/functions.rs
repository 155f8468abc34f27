//! ClickHouse's functions, as the engine's own: each call Grafana's macros and query builders
//! produce (and ClickHouse users type) is rewritten into the SQL DataFusion runs, with
//! ClickHouse's result types. `toDateTime(x)` is a `DateTime('UTC')` (seconds), the
//! `toStartOf…` family bins with `date_bin`, `to<Int>(ts)` sees a time as its Unix seconds
//! (`clickhouse_number`), `version()`/`timezone()`/`revision()` are the server's constants.
//!
//! Replacements are built from templates over the arguments' SQL text, parsed back with the
//! generic dialect (which reads the text exactly as sqlparser printed it).

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    DictionaryField, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments, Value,
    ValueWithSpan, visit_expressions_mut,
};
use datafusion::sql::sqlparser::parser::Parser;

use super::super::StrataDialect;
use super::date_format;
use crate::format::clickhouse::native::REVISION;
use crate::http::clickhouse::VERSION;

/// Rewrites every ClickHouse function call in `statement`.
pub(super) fn rewrite(statement: &mut datafusion::sql::sqlparser::ast::Statement) {
    let _ = visit_expressions_mut(statement, |expr| {
        if let Some(replacement) = replacement(expr) {
            *expr = replacement;
        }
        ControlFlow::<()>::Continue(())
    });
}

fn replacement(expr: &Expr) -> Option<Expr> {
    if let Expr::Dictionary(fields) = expr {
        return map_literal(fields);
    }
    let Expr::Function(Function {
        name,
        parameters,
        args,
        over: None,
        ..
    }) = expr
    else {
        return None;
    };
    let name = name.to_string();
    let args = texts(args)?;
    // A parametric aggregate's parameters: `quantile(0.9)(x)`.
    let parameters = texts(parameters)?;
    let is_number_literal = |i: usize| {
        matches!(
            args_expr(expr, i),
            Some(Expr::Value(ValueWithSpan {
                value: Value::Number(..),
                ..
            }))
        )
    };
    let a = |i: usize| args.get(i).map(String::as_str).unwrap_or("NULL");
    let utc = "Timestamp(s, \"UTC\")";
    if !parameters.is_empty() {
        return parametric(&name, &parameters, &args);
    }
    let sql = match (name.as_str(), args.len()) {
        ("toInt8", 1) => format!("CAST(clickhouse_number({}) AS TINYINT)", a(0)),
        ("toInt16", 1) => format!("CAST(clickhouse_number({}) AS SMALLINT)", a(0)),
        ("toInt32", 1) => format!("CAST(clickhouse_number({}) AS INT)", a(0)),
        ("toInt64", 1) => format!("CAST(clickhouse_number({}) AS BIGINT)", a(0)),
        ("toUInt8", 1) => format!("CAST(clickhouse_number({}) AS TINYINT UNSIGNED)", a(0)),
        ("toUInt16", 1) => format!("CAST(clickhouse_number({}) AS SMALLINT UNSIGNED)", a(0)),
        ("toUInt32", 1) => format!("CAST(clickhouse_number({}) AS INT UNSIGNED)", a(0)),
        ("toUInt64", 1) => format!("CAST(clickhouse_number({}) AS BIGINT UNSIGNED)", a(0)),
        ("toFloat32", 1) => format!("CAST({} AS REAL)", a(0)),
        ("toFloat64", 1) => format!("CAST({} AS DOUBLE)", a(0)),
        ("toString", 1) => format!("CAST({} AS VARCHAR)", a(0)),
        ("toNullable", 1) => a(0).to_string(),
        ("toDateTime", 1) => format!("arrow_cast({}, '{utc}')", a(0)),
        ("toDateTime", 2) if a(1).starts_with('\'') => format!(
            "arrow_cast({}, 'Timestamp(s, \"{}\")')",
            a(0),
            a(1).trim_matches('\'')
        ),
        ("toDateTime64", 2 | 3) => {
            let unit = match a(1).parse::<u8>().ok()? {
                0 => "s",
                1..=3 => "ms",
                4..=6 => "µs",
                _ => "ns",
            };
            let tz = match args.get(2) {
                Some(tz) => tz.trim_matches('\'').to_string(),
                None => "UTC".to_string(),
            };
            format!("arrow_cast({}, 'Timestamp({unit}, \"{tz}\")')", a(0))
        }
        ("toDate" | "toDate32", 1) if is_number_literal(0) => {
            format!("arrow_cast(to_timestamp_seconds({}), 'Date32')", a(0))
        }
        ("toDate" | "toDate32", 1) => format!("arrow_cast({}, 'Date32')", a(0)),
        ("fromUnixTimestamp64Milli", 1) => {
            format!(
                "arrow_cast(to_timestamp_millis({}), 'Timestamp(ms, \"UTC\")')",
                a(0)
            )
        }
        ("fromUnixTimestamp64Micro", 1) => {
            format!(
                "arrow_cast(to_timestamp_micros({}), 'Timestamp(µs, \"UTC\")')",
                a(0)
            )
        }
        ("fromUnixTimestamp64Nano", 1) => {
            format!(
                "arrow_cast(to_timestamp_nanos({}), 'Timestamp(ns, \"UTC\")')",
                a(0)
            )
        }
        ("toUnixTimestamp", 1) => {
            format!(
                "CAST(clickhouse_number(arrow_cast({}, '{utc}')) AS INT UNSIGNED)",
                a(0)
            )
        }
        // The bin keeps the time's type: a DateTime stays a DateTime.
        ("toStartOfInterval", 2) => format!("cast_like(date_bin({}, {}), {})", a(1), a(0), a(0)),
        ("toStartOfSecond", 1) => bin("1 second", a(0)),
        ("toStartOfMinute", 1) => bin("1 minute", a(0)),
        ("toStartOfFiveMinutes" | "toStartOfFiveMinute", 1) => bin("5 minutes", a(0)),
        ("toStartOfTenMinutes", 1) => bin("10 minutes", a(0)),
        ("toStartOfFifteenMinutes", 1) => bin("15 minutes", a(0)),
        ("toStartOfHour", 1) => bin("1 hour", a(0)),
        ("toStartOfDay", 1) => bin("1 day", a(0)),
        ("intDiv", 2) => format!("(({}) / ({}))", a(0), a(1)),
        ("now", 0) => format!("arrow_cast(now(), '{utc}')"),
        ("now64", 0) => "now()".to_string(),
        ("today", 0) => "current_date()".to_string(),
        ("version", 0) => format!("'{VERSION}'"),
        ("timezone" | "timeZone" | "serverTimezone", 0) => "'UTC'".to_string(),
        ("displayName" | "hostName", 0) => "'strata'".to_string(),
        ("revision", 0) => format!("CAST({REVISION} AS INT UNSIGNED)"),
        ("currentDatabase" | "database", 0) => "'default'".to_string(),
        ("currentUser" | "user", 0) => "'default'".to_string(),
        ("uniq" | "uniqExact" | "uniqCombined" | "uniqHLL12", 1) => {
            format!("count(DISTINCT {})", a(0))
        }
        ("argMin", 2) => format!("first_value({} ORDER BY {} ASC NULLS LAST)", a(0), a(1)),
        ("argMax", 2) => format!("first_value({} ORDER BY {} DESC NULLS LAST)", a(0), a(1)),
        ("median" | "medianExact", 1) => format!("percentile({}, 0.5)", a(0)),
        ("arrayJoin", 1) => format!("unnest({})", a(0)),
        // Array functions: ClickHouse's predicates answer UInt8, positions count from 1 (0:
        // not found).
        ("has", 2) => format!("CAST(array_has({}, {}) AS TINYINT UNSIGNED)", a(0), a(1)),
        ("hasAll", 2) => format!(
            "CAST(array_has_all({}, {}) AS TINYINT UNSIGNED)",
            a(0),
            a(1)
        ),
        ("hasAny", 2) => format!(
            "CAST(array_has_any({}, {}) AS TINYINT UNSIGNED)",
            a(0),
            a(1)
        ),
        ("indexOf", 2) => format!(
            "CAST(COALESCE(array_position({}, {}), 0) AS BIGINT UNSIGNED)",
            a(0),
            a(1)
        ),
        ("arrayConcat", n) if n >= 1 => format!("array_concat({})", args.join(", ")),
        ("arraySort", 1) => format!("array_sort({})", a(0)),
        ("arrayReverse", 1) => format!("array_reverse({})", a(0)),
        ("arrayDistinct", 1) => format!("array_distinct({})", a(0)),
        // Map functions (`map(k, v, …)` and `m['k']` are the engine's own).
        ("mapKeys", 1) => format!("map_keys({})", a(0)),
        ("mapValues", 1) => format!("map_values({})", a(0)),
        ("mapContains", 2) => format!(
            "CAST(array_has(map_keys({}), {}) AS TINYINT UNSIGNED)",
            a(0),
            a(1)
        ),
        ("uptime", 0) => format!(
            "CAST({} AS INT UNSIGNED)",
            crate::metrics::uptime().as_secs()
        ),
        ("formatDateTime", 2) => {
            let Some(Expr::Value(ValueWithSpan {
                value: Value::SingleQuotedString(pattern),
                ..
            })) = args_expr(expr, 1)
            else {
                return None;
            };
            // A pattern with no strftime equivalent is left to the engine, which names
            // the function in its error.
            let pattern = date_format::to_strftime(pattern).ok()?;
            format!("to_char({}, '{}')", a(0), pattern.replace('\'', "''"))
        }
        ("any", 1) => format!("first_value({})", a(0)),
        ("anyLast", 1) => format!("last_value({})", a(0)),
        ("groupArray", 1) => format!("array_agg({})", a(0)),
        ("if", 3) => format!("CASE WHEN {} THEN {} ELSE {} END", a(0), a(1), a(2)),
        ("multiIf", n) if n >= 3 && n % 2 == 1 => {
            let mut sql = String::from("CASE");
            for pair in args[..n - 1].chunks(2) {
                sql.push_str(&format!(" WHEN {} THEN {}", pair[0], pair[1]));
            }
            sql.push_str(&format!(" ELSE {} END", args[n - 1]));
            sql
        }
        _ => return None,
    };
    parse(&sql)
}

/// ClickHouse's map literal `{'k': v, …}` (which sqlparser reads as DuckDB's struct literal) as
/// the map it is; keys that are not quoted strings are left to the engine.
fn map_literal(fields: &[DictionaryField]) -> Option<Expr> {
    if fields.is_empty() {
        return parse("map(make_array(), make_array())");
    }
    let mut args = Vec::with_capacity(fields.len() * 2);
    for field in fields {
        if field.key.quote_style != Some('\'') {
            return None;
        }
        args.push(format!("'{}'", field.key.value.replace('\'', "''")));
        args.push(field.value.to_string());
    }
    parse(&format!("map({})", args.join(", ")))
}

/// A parametric aggregate, `name(parameters)(args)`: ClickHouse's quantiles, computed exactly
/// (interpolated between the two nearest values, as `percentile` does).
fn parametric(name: &str, parameters: &[String], args: &[String]) -> Option<Expr> {
    let [x] = args else {
        return None;
    };
    let sql = match name {
        "quantile" | "quantileExact" | "quantileTDigest" | "quantileTiming" => {
            let [p] = parameters else {
                return None;
            };
            format!("percentile({x}, {p})")
        }
        "quantiles" | "quantilesExact" | "quantilesTDigest" | "quantilesTiming" => {
            let each: Vec<String> = parameters
                .iter()
                .map(|p| format!("percentile({x}, {p})"))
                .collect();
            format!("make_array({})", each.join(", "))
        }
        _ => return None,
    };
    parse(&sql)
}

/// The SQL text of each plain argument; `None` when one is not a plain expression.
fn texts(args: &FunctionArguments) -> Option<Vec<String>> {
    match args {
        FunctionArguments::None => Some(Vec::new()),
        FunctionArguments::List(list)
            if list.duplicate_treatment.is_none() && list.clauses.is_empty() =>
        {
            list.args
                .iter()
                .map(|a| match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.to_string()),
                    _ => None,
                })
                .collect()
        }
        _ => None,
    }
}

/// A replacement's text, parsed back.
fn parse(sql: &str) -> Option<Expr> {
    let dialect = StrataDialect::default();
    Parser::new(&dialect)
        .try_with_sql(sql)
        .ok()?
        .parse_expr()
        .ok()
}

/// `t` binned to `interval`, in `t`'s type.
fn bin(interval: &str, t: &str) -> String {
    format!("cast_like(date_bin(INTERVAL '{interval}', {t}), {t})")
}

/// The `i`th argument of the call `expr`.
fn args_expr(expr: &Expr, i: usize) -> Option<&Expr> {
    let Expr::Function(Function {
        args: FunctionArguments::List(list),
        ..
    }) = expr
    else {
        return None;
    };
    match list.args.get(i)? {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        let dialect = StrataDialect::clickhouse();
        let mut ast = Parser::parse_sql(&dialect, sql).unwrap().remove(0);
        rewrite(&mut ast);
        ast.to_string()
    }

    #[test]
    fn grafana_macros_become_engine_sql() {
        assert_eq!(
            rewritten("SELECT toStartOfInterval(toDateTime(ts), INTERVAL 60 second) FROM t"),
            "SELECT cast_like(date_bin(INTERVAL 60 SECOND, arrow_cast(ts, 'Timestamp(s, \"UTC\")')), arrow_cast(ts, 'Timestamp(s, \"UTC\")')) FROM t"
        );
        assert_eq!(
            rewritten("SELECT intDiv(toUInt32(ts), 60) FROM t"),
            "SELECT ((CAST(clickhouse_number(ts) AS INT UNSIGNED)) / (60)) FROM t"
        );
        assert_eq!(
            rewritten("SELECT version(), revision(), timezone()"),
            "SELECT '24.8.1.1', CAST(54460 AS INT UNSIGNED), 'UTC'"
        );
        assert_eq!(
            rewritten("SELECT toDate(1720242516)"),
            "SELECT arrow_cast(to_timestamp_seconds(1720242516), 'Date32')"
        );
        assert_eq!(
            rewritten("SELECT multiIf(a > 1, 'x', a > 0, 'y', 'z') FROM t"),
            "SELECT CASE WHEN a > 1 THEN 'x' WHEN a > 0 THEN 'y' ELSE 'z' END FROM t"
        );
        assert_eq!(
            rewritten("SELECT argMax(p, ts), quantile(0.9)(p), quantiles(0.1, 0.5)(p) FROM t"),
            "SELECT first_value(p ORDER BY ts DESC NULLS LAST), percentile(p, 0.9), \
             make_array(percentile(p, 0.1), percentile(p, 0.5)) FROM t"
        );
        assert_eq!(
            rewritten("SELECT formatDateTime(ts, '%Y-%m-%d %H:%i') FROM t"),
            "SELECT to_char(ts, '%Y-%m-%d %H:%M') FROM t"
        );
        // Unknown functions are left to the engine, which names them in its error.
        assert_eq!(rewritten("SELECT nope(1)"), "SELECT nope(1)");
    }
}
