//! Filters through a time join ([`FiltersThroughTimeJoins`], a logical optimizer rule).
//!
//! DataFusion pushes no filter through an extension node it does not understand, so without
//! this a `WHERE t.sym = 'AAPL' AND t.ts > …` above an as-of join would join every trade first.
//! Each left row of an as-of or window join is answered on its own, so a condition on the left
//! columns only may filter the left input instead; and one that reads only the join's key
//! columns holds for the right rows that can match, so it filters the right input too
//! (`t.sym = 'AAPL'` → `q.sym = 'AAPL'`): the index is then built from one symbol's quotes. A
//! condition on a time is never moved to the right side (the prevailing quote may be older),
//! nor one on the right columns (it would change which row prevails).

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::common::Column;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::Result;
use datafusion::logical_expr::utils::{conjunction, split_conjunction_owned};
use datafusion::logical_expr::{Expr, Filter, LogicalPlan, Projection};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

use super::node::TimeJoin;

/// Moves filters on a time join's left columns below it (see the module docs).
#[derive(Debug, Default)]
pub struct FiltersThroughTimeJoins;

impl OptimizerRule for FiltersThroughTimeJoins {
    fn name(&self) -> &str {
        "filters_through_time_joins"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::TopDown)
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        let LogicalPlan::Filter(filter) = plan else {
            return Ok(Transformed::no(plan));
        };
        // Projection pushdown may have put a projection of plain columns between the two.
        let moved = match filter.input.as_ref() {
            LogicalPlan::Projection(projection)
                if projection.expr.iter().all(|e| matches!(e, Expr::Column(_))) =>
            {
                through(&projection.input, &filter.predicate)?
                    .map(|below| {
                        Projection::try_new(projection.expr.clone(), Arc::new(below))
                            .map(LogicalPlan::Projection)
                    })
                    .transpose()?
            }
            input => through(input, &filter.predicate)?,
        };
        Ok(match moved {
            Some(plan) => Transformed::yes(plan),
            None => Transformed::no(LogicalPlan::Filter(filter)),
        })
    }
}

/// `predicate` over `input`, with what it can move below the time join `input` moved; `None`
/// if `input` is no time join or nothing moves.
fn through(input: &LogicalPlan, predicate: &Expr) -> Result<Option<LogicalPlan>> {
    let join = match input {
        LogicalPlan::Extension(ext) => ext.node.as_any().downcast_ref::<TimeJoin>(),
        _ => None,
    };
    let Some(join) = join else {
        return Ok(None);
    };
    let mut left = Vec::new();
    let mut right = Vec::new();
    let mut kept = Vec::new();
    for condition in split_conjunction_owned(predicate.clone()) {
        let columns = condition.column_refs();
        let on_left = !columns.is_empty()
            && columns.iter().all(|c| join.left.schema().has_column(c))
            && !condition.is_volatile();
        if on_left {
            right.extend(on_keys(join, &condition)?);
            left.push(condition);
        } else {
            kept.push(condition);
        }
    }
    let Some(left_filter) = conjunction(left) else {
        return Ok(None);
    };
    let filtered =
        |predicate: Option<Expr>, input: &Arc<LogicalPlan>| -> Result<Arc<LogicalPlan>> {
            Ok(match predicate {
                Some(p) => Arc::new(LogicalPlan::Filter(Filter::try_new(p, Arc::clone(input))?)),
                None => Arc::clone(input),
            })
        };
    let moved = TimeJoin::try_new(
        join.mode,
        filtered(Some(left_filter), &join.left)?,
        filtered(conjunction(right), &join.right)?,
        join.on.clone(),
        join.left_time.clone(),
        join.left_high.clone(),
        join.right_time.clone(),
    )?
    .into_plan();
    Ok(Some(match conjunction(kept) {
        Some(p) => LogicalPlan::Filter(Filter::try_new(p, Arc::new(moved))?),
        None => moved,
    }))
}

/// `condition` (on left columns) over the right side's keys, if it reads only left key
/// columns that are joined to right columns.
fn on_keys(join: &TimeJoin, condition: &Expr) -> Result<Option<Expr>> {
    let keys: HashMap<&Column, &Expr> = join
        .on
        .iter()
        .filter_map(|(l, r)| match (l, r) {
            (Expr::Column(l), Expr::Column(_)) => Some((l, r)),
            _ => None,
        })
        .collect();
    if !condition.column_refs().iter().all(|c| keys.contains_key(c)) {
        return Ok(None);
    }
    let moved = condition.clone().transform(|e| match &e {
        Expr::Column(c) => match keys.get(c) {
            Some(r) => Ok(Transformed::yes((*r).clone())),
            None => Ok(Transformed::no(e)),
        },
        _ => Ok(Transformed::no(e)),
    })?;
    Ok(Some(moved.data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::optimizer::OptimizerContext;
    use datafusion::prelude::SessionContext;

    #[tokio::test]
    async fn left_filters_move_below_and_key_filters_reach_the_right() {
        let ctx = SessionContext::new_with_state(
            datafusion::execution::SessionStateBuilder::new()
                .with_default_features()
                .with_relation_planners(vec![Arc::new(super::super::plan::KdbJoinPlanner)])
                .build(),
        );
        ctx.sql("CREATE TABLE t (sym VARCHAR, ts BIGINT, px DOUBLE) AS VALUES ('A', 1, 1.0)")
            .await
            .unwrap();
        ctx.sql("CREATE TABLE q (sym VARCHAR, ts BIGINT, bid DOUBLE) AS VALUES ('A', 1, 1.0)")
            .await
            .unwrap();
        let statement = crate::sql::parser::parse(
            "SELECT t.px, q.bid FROM t ASOF LEFT JOIN q ON t.sym = q.sym AND t.ts >= q.ts \
             WHERE t.sym = 'A' AND t.px > 0 AND q.bid > 1",
        )
        .unwrap();
        let crate::sql::statement::Statement::Query(planned) = statement else {
            panic!("a query")
        };
        let plan = ctx
            .state()
            .statement_to_plan(datafusion::sql::parser::Statement::Statement(planned.ast))
            .await
            .unwrap();
        let filter = match plan {
            LogicalPlan::Projection(p) => p.input.as_ref().clone(),
            other => other,
        };
        let moved = FiltersThroughTimeJoins
            .rewrite(filter, &OptimizerContext::new())
            .unwrap();
        assert!(moved.transformed);
        let text = moved.data.display_indent().to_string();
        // The condition on a right column stays above; the left ones move below, and the one on
        // the key reaches the right side too.
        assert!(
            text.starts_with("Filter: q.bid > Int64(1)\n  AsofJoin:"),
            "{text}"
        );
        assert!(
            text.contains(
                "    Filter: t.sym = Utf8(\"A\") AND t.px > Int64(0)\n      TableScan: t"
            ),
            "{text}"
        );
        assert!(
            text.contains("    Filter: q.sym = Utf8(\"A\")\n      TableScan: q"),
            "{text}"
        );
    }
}
