//! What a scan needs, read from the query's filters (no I/O): the time range, and the values a
//! `SYMBOL` column must equal.
//!
//! Only conjunctions of comparisons between the time column and a constant, and of a symbol
//! column's equality with constants (`=`, `IN`, `OR` of `=`), are understood; any other filter
//! simply does not narrow the scan. DataFusion re-applies every filter above the scan (pushdown
//! is `Inexact`), so pruning may be loose but never wrong.

use arrow::datatypes::Schema;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::expr::InList;
use datafusion::logical_expr::utils::{split_binary, split_conjunction};
use datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator};
use strata_catalog::{ColumnType, declared_type};

/// Inclusive `[lo, hi]` in nanoseconds that rows must fall in to pass `filters`, or `None` when
/// the filters do not bound the time column named `time_col`.
pub fn time_range(filters: &[Expr], time_col: &str) -> Option<(i64, i64)> {
    let mut range = (i64::MIN, i64::MAX);
    let mut bounded = false;
    for filter in filters {
        for conjunct in split_conjunction(filter) {
            if let Some((lo, hi)) = conjunct_range(conjunct, time_col) {
                range = (range.0.max(lo), range.1.min(hi));
                bounded = true;
            }
        }
    }
    bounded.then_some(range)
}

/// Every conjunct of `filters` that confines a `SYMBOL` column of `schema` to a few values:
/// the column's position and the values, one entry per conjunct.
pub fn symbols(filters: &[Expr], schema: &Schema) -> Vec<(usize, Vec<String>)> {
    filters
        .iter()
        .flat_map(|f| split_conjunction(f))
        .filter_map(|e| symbol_constraint(e, schema))
        .collect()
}

/// Whether `e` as a whole confines a `SYMBOL` column of `schema` to a few constants —
/// `col = 'v'` (either way round), `col IN ('v', …)`, or an `OR` of such equalities on one
/// column — and if so, the column's position and the values.
pub fn symbol_constraint(e: &Expr, schema: &Schema) -> Option<(usize, Vec<String>)> {
    let symbol_column = |e: &Expr| match e {
        Expr::Column(c) => schema
            .index_of(&c.name)
            .ok()
            .filter(|&i| declared_type(schema.field(i)) == Some(ColumnType::Symbol)),
        _ => None,
    };
    let text = |e: &Expr| match e {
        Expr::Literal(ScalarValue::Utf8(Some(v)), _) => Some(v.clone()),
        _ => None,
    };
    let equality = |e: &Expr| match e {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Eq,
            right,
        }) => match (symbol_column(left), symbol_column(right)) {
            (Some(c), None) => Some((c, text(right)?)),
            (None, Some(c)) => Some((c, text(left)?)),
            _ => None,
        },
        _ => None,
    };
    match e {
        Expr::InList(InList {
            expr,
            list,
            negated: false,
        }) => Some((
            symbol_column(expr)?,
            list.iter().map(text).collect::<Option<_>>()?,
        )),
        Expr::BinaryExpr(BinaryExpr {
            op: Operator::Or, ..
        }) => {
            let mut column = None;
            let mut values = Vec::new();
            for term in split_binary(e, Operator::Or) {
                let (c, v) = equality(term)?;
                if column.is_some_and(|seen| seen != c) {
                    return None;
                }
                column = Some(c);
                values.push(v);
            }
            Some((column?, values))
        }
        other => equality(other).map(|(c, v)| (c, vec![v])),
    }
}

fn conjunct_range(expr: &Expr, time_col: &str) -> Option<(i64, i64)> {
    match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let (op, value) = if is_time_column(left, time_col) {
                (*op, nanos(right)?)
            } else if is_time_column(right, time_col) {
                (op.swap()?, nanos(left)?)
            } else {
                return None;
            };
            match op {
                Operator::Eq => Some((value, value)),
                Operator::Gt => Some((value.saturating_add(1), i64::MAX)),
                Operator::GtEq => Some((value, i64::MAX)),
                Operator::Lt => Some((i64::MIN, value.saturating_sub(1))),
                Operator::LtEq => Some((i64::MIN, value)),
                _ => None,
            }
        }
        Expr::Between(Between {
            expr,
            negated: false,
            low,
            high,
        }) if is_time_column(expr, time_col) => Some((nanos(low)?, nanos(high)?)),
        _ => None,
    }
}

/// The time column itself, possibly under a cast between timestamp types (which keeps the
/// instant, only the unit or zone label changes).
fn is_time_column(expr: &Expr, time_col: &str) -> bool {
    match expr {
        Expr::Column(c) => c.name == time_col,
        Expr::Cast(c) if c.data_type.is_temporal() => is_time_column(&c.expr, time_col),
        _ => false,
    }
}

/// A constant as nanoseconds since the epoch.
fn nanos(expr: &Expr) -> Option<i64> {
    let Expr::Literal(value, _) = expr else {
        return None;
    };
    match value {
        ScalarValue::TimestampNanosecond(Some(v), _) => Some(*v),
        ScalarValue::TimestampMicrosecond(Some(v), _) => v.checked_mul(1_000),
        ScalarValue::TimestampMillisecond(Some(v), _) => v.checked_mul(1_000_000),
        ScalarValue::TimestampSecond(Some(v), _) => v.checked_mul(1_000_000_000),
        ScalarValue::Int64(Some(v)) => Some(*v),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::{col, lit};

    fn ts(v: i64) -> Expr {
        lit(ScalarValue::TimestampNanosecond(
            Some(v),
            Some("UTC".into()),
        ))
    }

    #[test]
    fn conjunctions_narrow_the_range() {
        let f = col("ts").gt_eq(ts(10)).and(col("ts").lt(ts(20)));
        assert_eq!(time_range(&[f], "ts"), Some((10, 19)));
        let f = ts(10).lt(col("ts"));
        assert_eq!(time_range(&[f], "ts"), Some((11, i64::MAX)));
        let f = col("ts").between(ts(5), ts(7));
        assert_eq!(time_range(&[f, col("ts").eq(ts(6))], "ts"), Some((6, 6)));
    }

    #[test]
    fn symbol_equalities_confine_the_scan() {
        let def = strata_catalog::TableDefinition::new(
            "t",
            vec![
                strata_catalog::ColumnDef::new("sym", ColumnType::Symbol).unwrap(),
                strata_catalog::ColumnDef::new("name", ColumnType::String).unwrap(),
            ],
        )
        .unwrap();
        let schema = def.arrow_schema();
        let values = |v: &[&str]| vec![(0, v.iter().map(|s| s.to_string()).collect::<Vec<_>>())];
        assert_eq!(symbols(&[col("sym").eq(lit("a"))], &schema), values(&["a"]));
        assert_eq!(symbols(&[lit("a").eq(col("sym"))], &schema), values(&["a"]));
        let f = col("sym").in_list(vec![lit("a"), lit("b")], false);
        assert_eq!(symbols(&[f], &schema), values(&["a", "b"]));
        let f = col("sym").eq(lit("a")).or(col("sym").eq(lit("c")));
        assert_eq!(symbols(&[f], &schema), values(&["a", "c"]));
        let f = col("price").gt(lit(1)).and(col("sym").eq(lit("b")));
        assert_eq!(symbols(std::slice::from_ref(&f), &schema), values(&["b"]));
        // Part of a conjunction: a constraint of the scan, but not the whole filter.
        assert_eq!(symbol_constraint(&f, &schema), None);
        // Not a SYMBOL column, not only equalities, or negated: no constraint.
        let none = |f: Expr| symbols(&[f], &schema).is_empty();
        assert!(none(col("name").eq(lit("a"))));
        assert!(none(col("sym").eq(lit("a")).or(col("name").eq(lit("c")))));
        assert!(none(col("sym").in_list(vec![lit("a")], true)));
        assert!(none(col("sym").not_eq(lit("a"))));
        assert!(none(col("sym").eq(col("name"))));
    }

    #[test]
    fn other_filters_do_not_bound() {
        assert_eq!(time_range(&[col("price").gt(lit(5))], "ts"), None);
        let or = col("ts").gt(ts(5)).or(col("ts").lt(ts(1)));
        assert_eq!(time_range(&[or], "ts"), None);
        let not_between = Expr::Between(Between::new(
            Box::new(col("ts")),
            true,
            Box::new(ts(1)),
            Box::new(ts(2)),
        ));
        assert_eq!(time_range(&[not_between], "ts"), None);
    }
}
