//! A table's Delta version as one input of a query.

use std::sync::Arc;

use arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::ScalarValue;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::Result;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator};
use datafusion::physical_plan::ExecutionPlan;

use super::HdbView;
use super::relabel::AsTableSchema;

/// Plans a scan of `hdb` whose output has the table's Arrow types (`schema`, projected).
/// `filters` are the query's; those that can be stated in the Delta table's types are pushed
/// into the scan for file and row-group pruning, the rest are left to the plan above (the
/// provider answers `Inexact`, so DataFusion filters every row again).
pub async fn scan(
    hdb: &HdbView,
    state: &dyn Session,
    schema: &SchemaRef,
    projection: Option<&Vec<usize>>,
    filters: &[Expr],
    limit: Option<usize>,
) -> Result<Arc<dyn ExecutionPlan>> {
    hdb.update_datafusion_session(state)?;
    let provider = hdb.table_provider().await?;
    let delta_filters: Vec<Expr> = filters
        .iter()
        .filter_map(|f| to_delta_filter(f, schema))
        .collect();
    let plan = provider
        .scan(state, projection, &delta_filters, limit)
        .await?;
    let target = match projection {
        Some(p) => Arc::new(schema.project(p)?),
        None => Arc::clone(schema),
    };
    Ok(Arc::new(AsTableSchema::new(plan, target)))
}

/// `filter` in the Delta table's types, if it is a simple comparison of a column with
/// literals: timestamps become the integers they are stored as. Anything else is not pushed.
fn to_delta_filter(filter: &Expr, schema: &SchemaRef) -> Option<Expr> {
    if !is_simple(filter, schema) {
        return None;
    }
    filter
        .clone()
        .transform(|e| match e {
            Expr::Literal(ScalarValue::TimestampNanosecond(v, _), meta) => {
                Ok(Transformed::yes(Expr::Literal(ScalarValue::Int64(v), meta)))
            }
            other => Ok(Transformed::no(other)),
        })
        .ok()
        .map(|t| t.data)
}

/// Whether `e` is `column op literal` (or a conjunction, BETWEEN or IS [NOT] NULL of such) with
/// a literal of the column's own type — the shapes file pruning uses, safe to restate in the
/// Delta types.
fn is_simple(e: &Expr, schema: &SchemaRef) -> bool {
    let column_type = |e: &Expr| match e {
        Expr::Column(c) => schema
            .field_with_name(&c.name)
            .ok()
            .map(|f| f.data_type().clone()),
        _ => None,
    };
    let literal_fits = |lit: &Expr, ty: &DataType| match lit {
        Expr::Literal(v, _) => &v.data_type() == ty && !v.is_null(),
        _ => false,
    };
    let pushable = |ty: &DataType| {
        matches!(
            ty,
            DataType::Timestamp(..)
                | DataType::Int64
                | DataType::Int32
                | DataType::Float64
                | DataType::Float32
        )
    };
    match e {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => match op {
            Operator::And => is_simple(left, schema) && is_simple(right, schema),
            Operator::Eq | Operator::Lt | Operator::LtEq | Operator::Gt | Operator::GtEq => {
                match (column_type(left), column_type(right)) {
                    (Some(ty), None) => pushable(&ty) && literal_fits(right, &ty),
                    (None, Some(ty)) => pushable(&ty) && literal_fits(left, &ty),
                    _ => false,
                }
            }
            _ => false,
        },
        Expr::Between(b) => column_type(&b.expr).is_some_and(|ty| {
            !b.negated && pushable(&ty) && literal_fits(&b.low, &ty) && literal_fits(&b.high, &ty)
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::{Field, Schema, TimeUnit};
    use datafusion::prelude::{col, lit};

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new(
                "ts",
                DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
                true,
            ),
            Field::new("v", DataType::Int64, true),
            Field::new("s", DataType::Utf8, true),
        ]))
    }

    fn ts(v: i64) -> Expr {
        lit(ScalarValue::TimestampNanosecond(
            Some(v),
            Some("UTC".into()),
        ))
    }

    #[test]
    fn time_bounds_become_integers() {
        let f = col("ts").gt_eq(ts(5)).and(col("ts").lt(ts(9)));
        let pushed = to_delta_filter(&f, &schema()).unwrap();
        assert_eq!(
            pushed,
            col("ts").gt_eq(lit(5i64)).and(col("ts").lt(lit(9i64)))
        );
    }

    #[test]
    fn other_shapes_stay_above_the_scan() {
        let s = schema();
        assert!(to_delta_filter(&col("s").eq(lit("x")), &s).is_none());
        assert!(
            to_delta_filter(&col("v").eq(lit(1i32)), &s).is_none(),
            "type differs"
        );
        assert!(to_delta_filter(&col("v").gt(col("v")), &s).is_none());
        assert!(to_delta_filter(&col("v").eq(lit(1i64)).or(col("v").eq(lit(2i64))), &s).is_none());
        assert!(to_delta_filter(&col("v").eq(lit(1i64)), &s).is_some());
    }
}
