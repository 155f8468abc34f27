//! Integers as nanosecond timestamps in comparisons and arithmetic.
//!
//! `ts > 1711231200000000000`, `ts BETWEEN a AND b`, `ts IN (…)` compare a timestamp with integers;
//! `ts - 60000000000` subtracts nanoseconds. DataFusion has no such coercion, so before its type
//! coercion runs, the integer side is cast: to `TIMESTAMP` (integer = nanoseconds since the epoch)
//! in comparisons, to a nanosecond `DURATION` in `+`/`-`.

use arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::{DFSchema, Result};
use datafusion::config::ConfigOptions;
use datafusion::logical_expr::{
    Between, BinaryExpr, Expr, ExprSchemable, LogicalPlan, Operator, cast, expr::InList,
};
use datafusion::optimizer::analyzer::AnalyzerRule;

/// The analyzer rule.
#[derive(Debug, Default)]
pub struct IntegerTimestampCoercion;

impl AnalyzerRule for IntegerTimestampCoercion {
    fn name(&self) -> &str {
        "strata_integer_timestamp_coercion"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|plan| {
            let inputs = plan.inputs();
            if inputs.is_empty() {
                return Ok(Transformed::no(plan));
            }
            let mut schema = DFSchema::empty();
            for input in inputs {
                schema.merge(input.schema());
            }
            let rewritten = plan.map_expressions(|e| e.transform_up(|e| coerce(e, &schema)))?;
            if rewritten.transformed {
                rewritten.map_data(|p| p.recompute_schema())
            } else {
                Ok(rewritten)
            }
        })
        .data()
    }
}

fn timestamp_of(expr: &Expr, schema: &DFSchema) -> Option<DataType> {
    match expr.get_type(schema).ok()? {
        DataType::Timestamp(_, tz) => Some(DataType::Timestamp(TimeUnit::Nanosecond, tz)),
        _ => None,
    }
}

fn is_integer(expr: &Expr, schema: &DFSchema) -> bool {
    expr.get_type(schema).is_ok_and(|t| t.is_integer())
}

fn is_comparison(op: Operator) -> bool {
    matches!(
        op,
        Operator::Eq
            | Operator::NotEq
            | Operator::Lt
            | Operator::LtEq
            | Operator::Gt
            | Operator::GtEq
            | Operator::IsDistinctFrom
            | Operator::IsNotDistinctFrom
    )
}

fn duration() -> DataType {
    DataType::Duration(TimeUnit::Nanosecond)
}

fn coerce(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    Ok(match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let (l_ts, r_ts) = (timestamp_of(&left, schema), timestamp_of(&right, schema));
            let (l_int, r_int) = (is_integer(&left, schema), is_integer(&right, schema));
            let (left, right) = match (l_ts, r_ts) {
                (Some(ts), None) if r_int && is_comparison(op) => (*left, cast(*right, ts)),
                (None, Some(ts)) if l_int && is_comparison(op) => (cast(*left, ts), *right),
                (Some(_), None) if r_int && matches!(op, Operator::Plus | Operator::Minus) => {
                    (*left, cast(*right, duration()))
                }
                (None, Some(_)) if l_int && op == Operator::Plus => {
                    (cast(*left, duration()), *right)
                }
                _ => {
                    return Ok(Transformed::no(Expr::BinaryExpr(BinaryExpr {
                        left,
                        op,
                        right,
                    })));
                }
            };
            Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
                Box::new(left),
                op,
                Box::new(right),
            )))
        }
        Expr::Between(b) => match timestamp_of(&b.expr, schema) {
            Some(ts) if is_integer(&b.low, schema) || is_integer(&b.high, schema) => {
                let fit = |e: Expr| {
                    if is_integer(&e, schema) {
                        cast(e, ts.clone())
                    } else {
                        e
                    }
                };
                Transformed::yes(Expr::Between(Between::new(
                    b.expr,
                    b.negated,
                    Box::new(fit(*b.low)),
                    Box::new(fit(*b.high)),
                )))
            }
            _ => Transformed::no(Expr::Between(b)),
        },
        Expr::InList(l) => match timestamp_of(&l.expr, schema) {
            Some(ts) if l.list.iter().any(|e| is_integer(e, schema)) => {
                let list = l
                    .list
                    .into_iter()
                    .map(|e| {
                        if is_integer(&e, schema) {
                            cast(e, ts.clone())
                        } else {
                            e
                        }
                    })
                    .collect();
                Transformed::yes(Expr::InList(InList::new(l.expr, list, l.negated)))
            }
            _ => Transformed::no(Expr::InList(l)),
        },
        other => Transformed::no(other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::{Field, Schema};
    use datafusion::prelude::{col, lit};

    fn schema() -> DFSchema {
        DFSchema::try_from(Schema::new(vec![
            Field::new(
                "ts",
                DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
                true,
            ),
            Field::new("v", DataType::Int64, true),
        ]))
        .unwrap()
    }

    fn ts_type() -> DataType {
        DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
    }

    #[test]
    fn integer_side_of_a_timestamp_comparison_is_cast() {
        let out = coerce(col("ts").gt(lit(5i64)), &schema()).unwrap();
        assert!(out.transformed);
        assert_eq!(out.data, col("ts").gt(cast(lit(5i64), ts_type())));
        let out = coerce(lit(5i64).lt_eq(col("ts")), &schema()).unwrap();
        assert_eq!(out.data, cast(lit(5i64), ts_type()).lt_eq(col("ts")));
    }

    #[test]
    fn arithmetic_uses_durations_and_other_exprs_are_untouched() {
        let out = coerce(col("ts") - lit(5i64), &schema()).unwrap();
        assert_eq!(out.data, col("ts") - cast(lit(5i64), duration()));
        assert!(
            !coerce(col("v").gt(lit(5i64)), &schema())
                .unwrap()
                .transformed
        );
        assert!(
            !coerce(col("ts") * lit(5i64), &schema())
                .unwrap()
                .transformed
        );
    }

    #[test]
    fn between_and_in_lists() {
        let out = coerce(col("ts").between(lit(1i64), lit(2i64)), &schema()).unwrap();
        assert_eq!(
            out.data,
            col("ts").between(cast(lit(1i64), ts_type()), cast(lit(2i64), ts_type()))
        );
        let out = coerce(col("ts").in_list(vec![lit(1i64)], false), &schema()).unwrap();
        assert_eq!(
            out.data,
            col("ts").in_list(vec![cast(lit(1i64), ts_type())], false)
        );
    }
}
