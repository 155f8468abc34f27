//! The logical node of the as-of and window joins ([`TimeJoin`]), and its physical planner
//! ([`TimeJoinPlanner`], which DataFusion's planner calls for extension nodes).

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field};
use async_trait::async_trait;
use datafusion::common::{DFSchema, DFSchemaRef, JoinType, TableReference};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SessionState;
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::builder::build_join_schema;
use datafusion::logical_expr::{
    Expr, Extension, LogicalPlan, UserDefinedLogicalNode, UserDefinedLogicalNodeCore,
};
use datafusion::physical_plan::{ExecutionPlan, PhysicalExpr};
use datafusion::physical_planner::{DefaultPhysicalPlanner, ExtensionPlanner, PhysicalPlanner};

use super::asof::AsofJoinExec;
use super::window::WindowJoinExec;

/// Which right row an as-of join takes for a left row, by the comparison in its `ON`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd)]
pub enum Direction {
    /// `t.ts >= q.ts`: the last at or before.
    AtOrBefore,
    /// `t.ts > q.ts`: the last strictly before.
    Before,
    /// `t.ts <= q.ts`: the first at or after.
    AtOrAfter,
    /// `t.ts < q.ts`: the first strictly after.
    After,
}

impl Direction {
    /// The comparison as SQL writes it, left time first.
    pub fn sql(self) -> &'static str {
        match self {
            Direction::AtOrBefore => ">=",
            Direction::Before => ">",
            Direction::AtOrAfter => "<=",
            Direction::After => "<",
        }
    }
}

/// What a [`TimeJoin`] answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd)]
pub enum Mode {
    /// An as-of join.
    Asof {
        /// How times match.
        direction: Direction,
        /// Keep left rows that match nothing (`ASOF LEFT JOIN`).
        keep_unmatched: bool,
        /// Only the left columns (`AJ0 JOIN`).
        left_only: bool,
    },
    /// A window join: right columns become lists of the values inside each left row's window.
    Window,
}

/// An as-of or window join of `left` with `right`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TimeJoin {
    /// What it answers.
    pub mode: Mode,
    /// The left input.
    pub left: Arc<LogicalPlan>,
    /// The right input.
    pub right: Arc<LogicalPlan>,
    /// Equal keys: (left expression, right expression), of the same type.
    pub on: Vec<(Expr, Expr)>,
    /// The left row's time (as-of), or its window's lower bound (window); `Int64` or `Float64`.
    pub left_time: Expr,
    /// The window's upper bound (window joins only).
    pub left_high: Option<Expr>,
    /// The right row's time, of the same type as `left_time`.
    pub right_time: Expr,
    schema: DFSchemaRef,
}

impl TimeJoin {
    /// The join, with its output schema derived from its inputs.
    pub fn try_new(
        mode: Mode,
        left: Arc<LogicalPlan>,
        right: Arc<LogicalPlan>,
        on: Vec<(Expr, Expr)>,
        left_time: Expr,
        left_high: Option<Expr>,
        right_time: Expr,
    ) -> Result<Self> {
        let schema = Arc::new(output_schema(mode, left.schema(), right.schema())?);
        Ok(Self {
            mode,
            left,
            right,
            on,
            left_time,
            left_high,
            right_time,
            schema,
        })
    }

    /// The node as a logical plan.
    pub fn into_plan(self) -> LogicalPlan {
        LogicalPlan::Extension(Extension {
            node: Arc::new(self),
        })
    }
}

/// The left columns, then (unless `AJ0`) the right ones: NULL-able where a left row may match
/// nothing, lists of their values for a window join.
fn output_schema(mode: Mode, left: &DFSchema, right: &DFSchema) -> Result<DFSchema> {
    match mode {
        Mode::Asof {
            left_only: true, ..
        } => Ok(left.clone()),
        Mode::Asof { keep_unmatched, .. } => {
            let kind = if keep_unmatched {
                JoinType::Left
            } else {
                JoinType::Inner
            };
            build_join_schema(left, right, &kind)
        }
        Mode::Window => {
            let mut fields: Vec<(Option<TableReference>, Arc<Field>)> = left
                .iter()
                .map(|(q, f)| (q.cloned(), Arc::clone(f)))
                .collect();
            for (q, f) in right.iter() {
                let item = Field::new("item", f.data_type().clone(), true);
                let list = Field::new(f.name(), DataType::List(Arc::new(item)), false);
                fields.push((q.cloned(), Arc::new(list)));
            }
            DFSchema::new_with_metadata(fields, left.metadata().clone())
        }
    }
}

impl PartialOrd for TimeJoin {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        (
            &self.mode,
            &self.left,
            &self.right,
            &self.on,
            &self.left_time,
            &self.left_high,
            &self.right_time,
        )
            .partial_cmp(&(
                &other.mode,
                &other.left,
                &other.right,
                &other.on,
                &other.left_time,
                &other.left_high,
                &other.right_time,
            ))
    }
}

impl UserDefinedLogicalNodeCore for TimeJoin {
    fn name(&self) -> &str {
        match self.mode {
            Mode::Asof { .. } => "AsofJoin",
            Mode::Window => "WindowJoin",
        }
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![self.left.as_ref(), self.right.as_ref()]
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    fn expressions(&self) -> Vec<Expr> {
        let mut exprs: Vec<Expr> = self.on.iter().map(|(l, _)| l.clone()).collect();
        exprs.extend(self.on.iter().map(|(_, r)| r.clone()));
        exprs.push(self.left_time.clone());
        exprs.extend(self.left_high.clone());
        exprs.push(self.right_time.clone());
        exprs
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on: Vec<String> = self.on.iter().map(|(l, r)| format!("{l} = {r}")).collect();
        match (self.mode, &self.left_high) {
            (Mode::Asof { direction, .. }, _) => write!(
                f,
                "AsofJoin: on=[{}], time={} {} {}, {:?}",
                on.join(", "),
                self.left_time,
                direction.sql(),
                self.right_time,
                self.mode
            ),
            (Mode::Window, high) => write!(
                f,
                "WindowJoin: on=[{}], {} BETWEEN {} AND {}",
                on.join(", "),
                self.right_time,
                self.left_time,
                high.as_ref().map(ToString::to_string).unwrap_or_default()
            ),
        }
    }

    fn with_exprs_and_inputs(&self, exprs: Vec<Expr>, inputs: Vec<LogicalPlan>) -> Result<Self> {
        let [left, right]: [LogicalPlan; 2] = inputs
            .try_into()
            .map_err(|_| DataFusionError::Internal("a time join has two inputs".into()))?;
        let keys = self.on.len();
        let expected = 2 * keys + 2 + usize::from(self.left_high.is_some());
        if exprs.len() != expected {
            return Err(DataFusionError::Internal(format!(
                "a time join takes {expected} expressions, got {}",
                exprs.len()
            )));
        }
        let mut exprs = exprs.into_iter();
        let lefts: Vec<Expr> = exprs.by_ref().take(keys).collect();
        let rights: Vec<Expr> = exprs.by_ref().take(keys).collect();
        let mut next = || {
            exprs
                .next()
                .ok_or_else(|| DataFusionError::Internal("a time join lost an expression".into()))
        };
        let left_time = next()?;
        let left_high = match self.left_high {
            Some(_) => Some(next()?),
            None => None,
        };
        let right_time = next()?;
        Self::try_new(
            self.mode,
            Arc::new(left),
            Arc::new(right),
            lefts.into_iter().zip(rights).collect(),
            left_time,
            left_high,
            right_time,
        )
    }

    fn necessary_children_exprs(&self, output_columns: &[usize]) -> Option<Vec<Vec<usize>>> {
        // The columns the node's own expressions use are added by DataFusion.
        let width = self.left.schema().fields().len();
        let left = output_columns.iter().filter(|i| **i < width).copied();
        let right = output_columns
            .iter()
            .filter(|i| **i >= width)
            .map(|i| i - width);
        Some(vec![left.collect(), right.collect()])
    }
}

/// DataFusion's physical planner, taught [`TimeJoin`].
#[derive(Debug, Default)]
pub struct TimeJoinQueryPlanner;

#[async_trait]
impl QueryPlanner for TimeJoinQueryPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session_state: &SessionState,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        DefaultPhysicalPlanner::with_extension_planners(vec![Arc::new(TimeJoinPlanner)])
            .create_physical_plan(logical_plan, session_state)
            .await
    }
}

/// Plans a [`TimeJoin`] as an [`AsofJoinExec`] or a [`WindowJoinExec`].
#[derive(Debug)]
pub struct TimeJoinPlanner;

#[async_trait]
impl ExtensionPlanner for TimeJoinPlanner {
    async fn plan_extension(
        &self,
        planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        session_state: &SessionState,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(join) = node.as_any().downcast_ref::<TimeJoin>() else {
            return Ok(None);
        };
        let ([left_logical, right_logical], [left, right]) = (logical_inputs, physical_inputs)
        else {
            return Err(DataFusionError::Internal(
                "a time join has two inputs".into(),
            ));
        };
        let physical = |expr: &Expr, input: &LogicalPlan| -> Result<Arc<dyn PhysicalExpr>> {
            planner.create_physical_expr(expr, input.schema(), session_state)
        };
        let left_keys = join
            .on
            .iter()
            .map(|(l, _)| physical(l, left_logical))
            .collect::<Result<Vec<_>>>()?;
        let right_keys = join
            .on
            .iter()
            .map(|(_, r)| physical(r, right_logical))
            .collect::<Result<Vec<_>>>()?;
        let left_time = physical(&join.left_time, left_logical)?;
        let right_time = physical(&join.right_time, right_logical)?;
        let schema = Arc::new(join.schema.as_arrow().clone());
        let sides = super::shared::Sides {
            left: Arc::clone(left),
            right: Arc::clone(right),
            left_keys,
            right_keys,
            right_time,
        };
        Ok(Some(match (join.mode, &join.left_high) {
            (
                Mode::Asof {
                    direction,
                    keep_unmatched,
                    left_only,
                },
                _,
            ) => Arc::new(AsofJoinExec::new(
                sides,
                left_time,
                direction,
                keep_unmatched,
                left_only,
                schema,
            )),
            (Mode::Window, Some(high)) => Arc::new(WindowJoinExec::new(
                sides,
                left_time,
                physical(high, left_logical)?,
                schema,
            )),
            (Mode::Window, None) => {
                return Err(DataFusionError::Internal(
                    "a window join has no upper bound".into(),
                ));
            }
        }))
    }
}
