//! The time range a scan needs, read from the query's filters (no I/O).
//!
//! Only conjunctions of comparisons between the time column and a constant are understood; any
//! other filter simply does not narrow the range. DataFusion re-applies every filter above the
//! scan (pushdown is `Inexact`), so pruning may be loose but never wrong.

use datafusion::common::ScalarValue;
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator};

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
