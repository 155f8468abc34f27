//! What a scan needs, read from the query's filters (no I/O): the time range, the values a
//! `SYMBOL` column must equal, and the ranges numeric columns must lie in.
//!
//! Only conjunctions of comparisons between the time column and a constant, of a symbol
//! column's equality with constants (`=`, `IN`, `OR` of `=`), and of a numeric column's
//! comparisons with constants are understood; any other filter simply does not narrow the
//! scan. DataFusion re-applies every filter above the scan (pushdown
//! is `Inexact`), so pruning may be loose but never wrong.

use arrow::datatypes::{DataType, Schema};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::expr::InList;
use datafusion::logical_expr::utils::{split_binary, split_conjunction};
use datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator};
use strata_catalog::{ColumnType, declared_type};

use crate::hot::zone::ValueRange;

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

/// Every conjunct of `filters` that compares a numeric column of `schema` with a constant
/// (`<`, `<=`, `=`, `>=`, `>`, `BETWEEN`), as the range the column must lie in. Strict
/// comparisons become inclusive ones (the range only prunes, loosely).
pub fn value_ranges(filters: &[Expr], schema: &Schema) -> Vec<(usize, ValueRange)> {
    filters
        .iter()
        .flat_map(|f| split_conjunction(f))
        .filter_map(|e| value_range(e, schema))
        .collect()
}

fn value_range(e: &Expr, schema: &Schema) -> Option<(usize, ValueRange)> {
    let numeric = |e: &Expr| match e {
        Expr::Column(c) => schema.index_of(&c.name).ok().and_then(|i| {
            let data_type = schema.field(i).data_type();
            (data_type.is_integer() || matches!(data_type, DataType::Float32 | DataType::Float64))
                .then(|| (i, data_type.clone()))
        }),
        _ => None,
    };
    let (column, data_type, lo, hi) = match e {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let (column, data_type, op, value) = match (numeric(left), numeric(right)) {
                (Some((c, t)), None) => (c, t, *op, bound(right)?),
                (None, Some((c, t))) => (c, t, op.swap()?, bound(left)?),
                _ => return None,
            };
            match op {
                Operator::Eq => (column, data_type, Some(value.clone()), Some(value)),
                Operator::Gt | Operator::GtEq => (column, data_type, Some(value), None),
                Operator::Lt | Operator::LtEq => (column, data_type, None, Some(value)),
                _ => return None,
            }
        }
        Expr::Between(Between {
            expr,
            negated: false,
            low,
            high,
        }) => {
            let (column, data_type) = numeric(expr)?;
            (column, data_type, Some(bound(low)?), Some(bound(high)?))
        }
        _ => return None,
    };
    let range = match data_type {
        DataType::Float64 => ValueRange::Float(convert(lo, as_f64)?, convert(hi, as_f64)?),
        DataType::Float32 => ValueRange::Float(convert(lo, as_f32)?, convert(hi, as_f32)?),
        _ => ValueRange::Int(convert(lo, as_i64)?, convert(hi, as_i64)?),
    };
    Some((column, range))
}

/// A non-null numeric constant.
fn bound(expr: &Expr) -> Option<ScalarValue> {
    match expr {
        Expr::Literal(v, _) if !v.is_null() && v.data_type().is_numeric() => Some(v.clone()),
        _ => None,
    }
}

// A bound is used only where the comparison's own arithmetic sees the same number: an integer
// column against an integer constant, a `Float64` column against a `Float64` constant (or an
// integer small enough to be exact), a `Float32` column against a `Float32` constant. Any other
// pairing (which the planner would compare under a cast) does not prune.

/// An absent bound stays absent; a present one converts or the whole range is dropped.
fn convert<T>(bound: Option<ScalarValue>, to: fn(&ScalarValue) -> Option<T>) -> Option<Option<T>> {
    match bound {
        None => Some(None),
        Some(v) => to(&v).map(Some),
    }
}

fn as_i64(v: &ScalarValue) -> Option<i64> {
    Some(match v {
        ScalarValue::Int8(Some(v)) => i64::from(*v),
        ScalarValue::Int16(Some(v)) => i64::from(*v),
        ScalarValue::Int32(Some(v)) => i64::from(*v),
        ScalarValue::Int64(Some(v)) => *v,
        _ => return None,
    })
}

fn as_f64(v: &ScalarValue) -> Option<f64> {
    const EXACT: i64 = 1 << 53;
    let v = match v {
        ScalarValue::Float64(Some(v)) => *v,
        other => as_i64(other).filter(|i| (-EXACT..=EXACT).contains(i))? as f64,
    };
    (!v.is_nan()).then_some(v)
}

fn as_f32(v: &ScalarValue) -> Option<f64> {
    match v {
        ScalarValue::Float32(Some(v)) if !v.is_nan() => Some(f64::from(*v)),
        _ => None,
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

    #[test]
    fn numeric_comparisons_bound_their_columns() {
        let schema = Schema::new(vec![
            arrow::datatypes::Field::new("price", DataType::Float64, true),
            arrow::datatypes::Field::new("qty", DataType::Int64, true),
            arrow::datatypes::Field::new("small", DataType::Float32, true),
            arrow::datatypes::Field::new("name", DataType::Utf8, true),
        ]);
        let f = col("price").gt(lit(100.0)).and(lit(5i64).gt_eq(col("qty")));
        assert_eq!(
            value_ranges(&[f], &schema),
            vec![
                (0, ValueRange::Float(Some(100.0), None)),
                (1, ValueRange::Int(None, Some(5)))
            ]
        );
        let between = col("qty").between(lit(1i64), lit(3i64));
        assert_eq!(
            value_ranges(&[between], &schema),
            vec![(1, ValueRange::Int(Some(1), Some(3)))]
        );
        assert_eq!(
            value_ranges(&[col("qty").eq(lit(i64::MAX))], &schema),
            vec![(1, ValueRange::Int(Some(i64::MAX), Some(i64::MAX)))]
        );
        // Pairings compared under another type's arithmetic, NaN, NULL, non-numeric columns,
        // `<>`, OR and column-to-column comparisons do not bound.
        let none = |f: Expr| value_ranges(&[f], &schema).is_empty();
        assert!(none(col("qty").gt(lit(1.5))));
        assert!(none(col("price").gt(lit(1i64 << 60))));
        assert!(none(col("small").gt(lit(0.1f64))));
        assert!(none(col("price").gt(lit(f64::NAN))));
        assert!(none(col("price").gt(lit(ScalarValue::Float64(None)))));
        assert!(none(col("name").gt(lit("a"))));
        assert!(none(col("qty").not_eq(lit(1i64))));
        assert!(none(col("qty").gt(lit(1i64)).or(col("qty").lt(lit(0i64)))));
        assert!(none(col("qty").gt(col("price"))));
        assert_eq!(
            value_ranges(&[col("small").lt(lit(0.5f32))], &schema),
            vec![(2, ValueRange::Float(None, Some(0.5)))]
        );
    }
}
