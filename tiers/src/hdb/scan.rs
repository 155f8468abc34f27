//! A table's Delta version as one input of a query.

use std::sync::{Arc, OnceLock};

use arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::Session;
use datafusion::error::Result;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionConfig;

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
    let provider = hdb.table_provider().with_session(scan_settings()).await?;
    let delta_schema = provider.schema();
    let delta_filters: Vec<Expr> = filters
        .iter()
        .filter_map(|f| to_delta_filter(f, schema, &delta_schema))
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

/// How Delta scans read Parquet: strings as `Utf8`, the type the table (and the hot tier) uses,
/// not `Utf8View`, which would cost a copy of every string to convert back; filters pushed into
/// the Parquet decoder.
fn scan_settings() -> Arc<SessionState> {
    static SETTINGS: OnceLock<Arc<SessionState>> = OnceLock::new();
    Arc::clone(SETTINGS.get_or_init(|| {
        let mut config = SessionConfig::new();
        let parquet = &mut config.options_mut().execution.parquet;
        parquet.schema_force_view_types = false;
        parquet.pushdown_filters = true;
        Arc::new(SessionStateBuilder::new().with_config(config).build())
    }))
}

/// `filter` restated in the Delta scan's own column types (`delta`), if it is a simple
/// comparison of columns with literals (or a conjunction of them): each literal is cast to the
/// type its column is read as (a timestamp becomes the integer it is stored as, a string the
/// scan's string type). Anything else is not pushed.
fn to_delta_filter(filter: &Expr, schema: &SchemaRef, delta: &SchemaRef) -> Option<Expr> {
    if !is_simple(filter, schema) {
        return None;
    }
    restate(filter, delta)
}

fn restate(e: &Expr, delta: &SchemaRef) -> Option<Expr> {
    let column_type = |e: &Expr| match e {
        Expr::Column(c) => delta
            .field_with_name(&c.name)
            .ok()
            .map(|f| f.data_type().clone()),
        _ => None,
    };
    let cast = |lit: &Expr, ty: &DataType| match lit {
        Expr::Literal(v, meta) => v.cast_to(ty).ok().map(|v| Expr::Literal(v, meta.clone())),
        _ => None,
    };
    match e {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) if *op == Operator::And => {
            Some(Expr::BinaryExpr(BinaryExpr::new(
                Box::new(restate(left, delta)?),
                *op,
                Box::new(restate(right, delta)?),
            )))
        }
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let (left, right) = match (column_type(left), column_type(right)) {
                (Some(ty), None) => (left.as_ref().clone(), cast(right, &ty)?),
                (None, Some(ty)) => (cast(left, &ty)?, right.as_ref().clone()),
                _ => return None,
            };
            Some(Expr::BinaryExpr(BinaryExpr::new(
                Box::new(left),
                *op,
                Box::new(right),
            )))
        }
        Expr::Between(b) => {
            let ty = column_type(&b.expr)?;
            Some(Expr::Between(datafusion::logical_expr::Between::new(
                b.expr.clone(),
                b.negated,
                Box::new(cast(&b.low, &ty)?),
                Box::new(cast(&b.high, &ty)?),
            )))
        }
        _ => None,
    }
}

/// Whether `e` is `column op literal` (or a conjunction or BETWEEN of such) with a literal of
/// the column's own type — the shapes file and row-group pruning use.
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
                | DataType::Utf8
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
    use datafusion::common::ScalarValue;
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

    /// How the Delta scan reads the same table.
    fn delta() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("ts", DataType::Int64, true),
            Field::new("v", DataType::Int64, true),
            Field::new("s", DataType::Utf8View, true),
        ]))
    }

    fn ts(v: i64) -> Expr {
        lit(ScalarValue::TimestampNanosecond(
            Some(v),
            Some("UTC".into()),
        ))
    }

    #[test]
    fn literals_take_the_scan_types() {
        let f = col("ts").gt_eq(ts(5)).and(col("ts").lt(ts(9)));
        let pushed = to_delta_filter(&f, &schema(), &delta()).unwrap();
        assert_eq!(
            pushed,
            col("ts").gt_eq(lit(5i64)).and(col("ts").lt(lit(9i64)))
        );
        let f = col("s").eq(lit("x"));
        let pushed = to_delta_filter(&f, &schema(), &delta()).unwrap();
        assert_eq!(
            pushed,
            col("s").eq(lit(ScalarValue::Utf8View(Some("x".into()))))
        );
    }

    #[test]
    fn other_shapes_stay_above_the_scan() {
        let (s, d) = (schema(), delta());
        assert!(
            to_delta_filter(&col("v").eq(lit(1i32)), &s, &d).is_none(),
            "type differs"
        );
        assert!(to_delta_filter(&col("v").gt(col("v")), &s, &d).is_none());
        let or = col("v").eq(lit(1i64)).or(col("v").eq(lit(2i64)));
        assert!(to_delta_filter(&or, &s, &d).is_none());
        assert!(to_delta_filter(&col("v").eq(lit(1i64)), &s, &d).is_some());
    }
}
