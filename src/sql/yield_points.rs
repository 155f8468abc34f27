//! A physical optimizer rule that puts a yield point above every join.
//!
//! A join can emit far more batches than it reads: a nested-loop join over a cross product
//! turns one probe batch into millions of rows without polling anything that yields. The
//! operator above it (a partial aggregate, say) then runs inside one `poll` for as long as that
//! lasts, and the query's task cannot be aborted (a kill, a timeout) or let other work on its
//! threads run. DataFusion's own `EnsureCooperative` rule covers scans and exchanges, whose
//! batches come from outside the plan; this rule covers the operators that multiply them.
//! [`CooperativeExec`] passes batches through unchanged and spends one unit of the task's tokio
//! budget per batch, so the task yields every 128 batches.

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::config::ConfigOptions;
use datafusion::error::Result;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::physical_plan::union::{InterleaveExec, UnionExec};

/// Wraps the output of every join in a [`CooperativeExec`].
#[derive(Debug, Default)]
pub struct YieldAboveJoins;

impl YieldAboveJoins {
    /// Whether `plan` combines inputs in a way that can multiply rows: any operator with two
    /// or more inputs except the unions, which only pass their inputs' batches along.
    fn multiplies(plan: &dyn ExecutionPlan) -> bool {
        plan.children().len() >= 2
            && !plan.as_any().is::<UnionExec>()
            && !plan.as_any().is::<InterleaveExec>()
    }
}

impl PhysicalOptimizerRule for YieldAboveJoins {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            if Self::multiplies(node.as_ref()) {
                Ok(Transformed::yes(
                    Arc::new(CooperativeExec::new(node)) as Arc<dyn ExecutionPlan>
                ))
            } else {
                Ok(Transformed::no(node))
            }
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "YieldAboveJoins"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use datafusion::physical_plan::displayable;
    use datafusion::prelude::SessionContext;

    use super::*;

    async fn plan_of(sql: &str) -> String {
        let ctx = SessionContext::new();
        ctx.sql("CREATE TABLE t (v BIGINT) AS VALUES (1), (2), (3)")
            .await
            .unwrap();
        let plan = ctx
            .sql(sql)
            .await
            .unwrap()
            .create_physical_plan()
            .await
            .unwrap();
        let plan = YieldAboveJoins
            .optimize(plan, &ConfigOptions::default())
            .unwrap();
        displayable(plan.as_ref()).indent(true).to_string()
    }

    #[tokio::test]
    async fn joins_get_a_yield_point_above_them() {
        let plan = plan_of("SELECT count(*) FROM t a, t b, t c WHERE a.v + b.v + c.v > 0").await;
        let lines: Vec<&str> = plan.lines().map(str::trim).collect();
        for (i, line) in lines.iter().enumerate() {
            if line.starts_with("NestedLoopJoinExec") || line.starts_with("CrossJoinExec") {
                assert!(
                    lines[i - 1].starts_with("CooperativeExec"),
                    "no yield point above {line}:\n{plan}"
                );
            }
        }
        assert!(plan.contains("NestedLoopJoinExec") || plan.contains("CrossJoinExec"));
    }

    #[tokio::test]
    async fn plans_without_joins_are_left_alone() {
        let plan = plan_of("SELECT v FROM t UNION ALL SELECT v + 1 FROM t").await;
        assert!(!plan.contains("CooperativeExec"), "{plan}");
    }
}
