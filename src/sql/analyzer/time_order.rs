//! Default time ordering for order-sensitive functions.
//!
//! In kdb+, `first price` is the earliest trade and `deltas price` runs in time order, because
//! tables are kept sorted by time. Strata stores rows in arrival order, so this rule supplies the
//! order explicitly: `first_value`/`last_value` (alias `first`/`last`) without their own
//! `ORDER BY` are ordered by the time column of the table their argument comes from, and so are
//! the kdb-style window functions (EMA, DELTA, RATIO) whose `OVER` has no `ORDER BY`.
//!
//! The time column is found through the Arrow field metadata the catalog sets, which DataFusion
//! carries through projections, subqueries and joins. The rewritten expression keeps its original
//! name, so the plan's schema does not change.

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TransformedResult};
use datafusion::common::{Column, DFSchema, Result};
use datafusion::config::ConfigOptions;
use datafusion::logical_expr::expr::{AggregateFunction, WindowFunction};
use datafusion::logical_expr::{
    Aggregate, Expr, LogicalPlan, SortExpr, Window, WindowFunctionDefinition,
};
use datafusion::optimizer::analyzer::AnalyzerRule;
use strata_catalog::is_time_column;

use crate::sql::udf::TIME_ORDERED_WINDOW_FUNCTIONS;

/// The analyzer rule.
#[derive(Debug, Default)]
pub struct TimeOrdering;

impl AnalyzerRule for TimeOrdering {
    fn name(&self) -> &str {
        "strata_time_ordering"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|plan| match plan {
            LogicalPlan::Aggregate(agg) => {
                let schema = agg.input.schema();
                let (exprs, changed) = order_all(&agg.aggr_expr, schema)?;
                if !changed {
                    return Ok(Transformed::no(LogicalPlan::Aggregate(agg)));
                }
                let agg = Aggregate::try_new(agg.input, agg.group_expr, exprs)?;
                Ok(Transformed::yes(LogicalPlan::Aggregate(agg)))
            }
            LogicalPlan::Window(window) => {
                let (exprs, changed) = order_all(&window.window_expr, window.input.schema())?;
                if !changed {
                    return Ok(Transformed::no(LogicalPlan::Window(window)));
                }
                let window = Window::try_new(exprs, window.input)?;
                Ok(Transformed::yes(LogicalPlan::Window(window)))
            }
            other => Ok(Transformed::no(other)),
        })
        .data()
    }
}

fn order_all(exprs: &[Expr], schema: &DFSchema) -> Result<(Vec<Expr>, bool)> {
    let mut changed = false;
    let exprs = exprs
        .iter()
        .map(|e| {
            let out = match e {
                Expr::Alias(alias) => order(&alias.expr, schema)
                    .map(|inner| inner.alias_qualified(alias.relation.clone(), alias.name.clone())),
                other => {
                    order(other, schema).map(|inner| inner.alias(other.schema_name().to_string()))
                }
            };
            changed |= out.is_some();
            out.unwrap_or_else(|| e.clone())
        })
        .collect();
    Ok((exprs, changed))
}

/// `expr` with a time ordering added, if it needs one and a time column is known.
fn order(expr: &Expr, schema: &DFSchema) -> Option<Expr> {
    match expr {
        Expr::AggregateFunction(f)
            if matches!(f.func.name(), "first_value" | "last_value")
                && f.params.order_by.is_empty() =>
        {
            let time = time_column(schema, f.params.args.first())?;
            let mut params = f.params.clone();
            params.order_by = vec![SortExpr::new(time, true, false)];
            Some(Expr::AggregateFunction(AggregateFunction {
                func: Arc::clone(&f.func),
                params,
            }))
        }
        Expr::WindowFunction(w) if is_time_ordered(&w.fun) && w.params.order_by.is_empty() => {
            let time = time_column(schema, w.params.args.first())?;
            let mut w: WindowFunction = w.as_ref().clone();
            w.params.order_by = vec![SortExpr::new(time, true, false)];
            Some(Expr::from(w))
        }
        _ => None,
    }
}

fn is_time_ordered(fun: &WindowFunctionDefinition) -> bool {
    match fun {
        WindowFunctionDefinition::WindowUDF(udf) => {
            TIME_ORDERED_WINDOW_FUNCTIONS.contains(&udf.name())
        }
        WindowFunctionDefinition::AggregateUDF(_) => false,
    }
}

/// The time column `arg` should be ordered by: the one from `arg`'s own table when `arg` names a
/// qualified column, otherwise the only time column in scope. `None` when it is ambiguous or
/// there is none (the function then keeps arrival order).
fn time_column(schema: &DFSchema, arg: Option<&Expr>) -> Option<Expr> {
    let candidates: Vec<Column> = schema
        .iter()
        .filter(|(_, f)| is_time_column(f))
        .map(|(q, f)| Column::new(q.cloned(), f.name()))
        .collect();
    let qualifier = arg
        .and_then(|a| a.column_refs().into_iter().next())
        .and_then(|c| c.relation.clone());
    let chosen = match qualifier {
        Some(q) => candidates
            .iter()
            .find(|c| c.relation.as_ref() == Some(&q))
            .or_else(|| (candidates.len() == 1).then(|| &candidates[0])),
        None => (candidates.len() == 1).then(|| &candidates[0]),
    };
    chosen.cloned().map(Expr::Column)
}
