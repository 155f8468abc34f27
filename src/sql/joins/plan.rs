//! Planning kdb+'s joins: [`KdbJoinPlanner`] is a DataFusion relation planner that takes the
//! parenthesised join the front end gave each marked join (`super::JoinKind::of`), plans its
//! two sides as any relation, reads its `ON`/`USING`, and answers a [`TimeJoin`] node (as-of
//! and window joins) or a plan of DataFusion's own operators (`UNION JOIN`: a union by name;
//! `PLUS JOIN`: a left join and a sum).

use std::sync::Arc;

use arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{Column, DFSchema, JoinType, plan_datafusion_err, plan_err};
use datafusion::error::Result;
use datafusion::functions::expr_fn::coalesce;
use datafusion::logical_expr::planner::{
    PlannedRelation, RelationPlanner, RelationPlannerContext, RelationPlanning,
};
use datafusion::logical_expr::type_coercion::binary::comparison_coercion;
use datafusion::logical_expr::utils::split_conjunction_owned;
use datafusion::logical_expr::{
    Between, BinaryExpr, Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder, Operator, cast, lit,
};
use datafusion::sql::sqlparser::ast::{JoinConstraint, TableFactor};

use super::node::{Direction, Mode, TimeJoin};
use super::{JoinKind, constraint};

/// Plans the joins the front end marked.
#[derive(Debug, Default)]
pub struct KdbJoinPlanner;

impl RelationPlanner for KdbJoinPlanner {
    fn plan_relation(
        &self,
        relation: TableFactor,
        ctx: &mut dyn RelationPlannerContext,
    ) -> Result<RelationPlanning> {
        let TableFactor::NestedJoin {
            mut table_with_joins,
            alias,
        } = relation
        else {
            return Ok(RelationPlanning::Original(Box::new(relation)));
        };
        let marked = match table_with_joins.joins.as_slice() {
            [only] => JoinKind::of(only),
            _ => None,
        };
        let Some((kind, join)) =
            marked.and_then(|kind| table_with_joins.joins.pop().map(|join| (kind, join)))
        else {
            return Ok(RelationPlanning::Original(Box::new(
                TableFactor::NestedJoin {
                    table_with_joins,
                    alias,
                },
            )));
        };
        let left = ctx.plan(table_with_joins.relation)?;
        let right = ctx.plan(join.relation.clone())?;
        let sides = Sides::new(kind, left, right)?;
        let conditions = sides.conditions(constraint(&join).clone(), ctx)?;
        let plan = match kind {
            JoinKind::Asof | JoinKind::AsofLeft | JoinKind::Aj0 => sides.asof(conditions)?,
            JoinKind::Window => sides.window(conditions)?,
            JoinKind::Union => sides.union(conditions)?,
            JoinKind::Plus => sides.plus(conditions)?,
        };
        Ok(RelationPlanning::Planned(Box::new(PlannedRelation::new(
            plan, alias,
        ))))
    }
}

/// Equal keys: (left expression, right expression), of one type.
type Keys = Vec<(Expr, Expr)>;

/// Which input an expression reads.
#[derive(Debug, PartialEq, Eq)]
enum Side {
    Left,
    Right,
    /// Both, or neither.
    Other,
}

/// A marked join's two planned inputs.
struct Sides {
    kind: JoinKind,
    left: LogicalPlan,
    right: LogicalPlan,
    both: DFSchema,
}

impl Sides {
    fn new(kind: JoinKind, left: LogicalPlan, right: LogicalPlan) -> Result<Self> {
        let both = left.schema().join(right.schema()).map_err(|e| {
            plan_datafusion_err!(
                "{}: the two sides need distinct names (give one an alias): {e}",
                kind.sql()
            )
        })?;
        Ok(Self {
            kind,
            left,
            right,
            both,
        })
    }

    /// The `ON` condition's conjuncts; `USING (a, b, …)` as equalities of those columns (for an
    /// as-of join, the last is the time: `l.ts >= r.ts`, as ClickHouse reads it).
    fn conditions(
        &self,
        constraint: JoinConstraint,
        ctx: &mut dyn RelationPlannerContext,
    ) -> Result<Vec<Expr>> {
        match constraint {
            JoinConstraint::On(expr) => {
                Ok(split_conjunction_owned(ctx.sql_to_expr(expr, &self.both)?))
            }
            JoinConstraint::Using(names) => {
                let mut out = Vec::new();
                for (i, name) in names.iter().enumerate() {
                    let ident = match name.0.as_slice() {
                        [part] => part.as_ident().cloned(),
                        _ => None,
                    }
                    .ok_or_else(|| {
                        plan_datafusion_err!("{}: USING takes column names", self.kind.sql())
                    })?;
                    let name = ctx.normalize_ident(ident);
                    let l = Expr::Column(column(self.left.schema(), &name, self.kind)?);
                    let r = Expr::Column(column(self.right.schema(), &name, self.kind)?);
                    let time = i + 1 == names.len()
                        && matches!(
                            self.kind,
                            JoinKind::Asof | JoinKind::AsofLeft | JoinKind::Aj0
                        );
                    out.push(if time { l.gt_eq(r) } else { l.eq(r) });
                }
                Ok(out)
            }
            JoinConstraint::None => Ok(vec![]),
            JoinConstraint::Natural => {
                plan_err!("{} takes ON or USING, not NATURAL", self.kind.sql())
            }
        }
    }

    fn side(&self, expr: &Expr) -> Side {
        let columns = expr.column_refs();
        if columns.is_empty() {
            Side::Other
        } else if columns.iter().all(|c| self.left.schema().has_column(c)) {
            Side::Left
        } else if columns.iter().all(|c| self.right.schema().has_column(c)) {
            Side::Right
        } else {
            Side::Other
        }
    }

    /// `l = r` with one side each: (left, right), of one type.
    fn equality(&self, expr: &Expr) -> Result<Option<(Expr, Expr)>> {
        let Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Eq,
            right,
        }) = expr
        else {
            return Ok(None);
        };
        let (l, r) = match (self.side(left), self.side(right)) {
            (Side::Left, Side::Right) => (left.as_ref().clone(), right.as_ref().clone()),
            (Side::Right, Side::Left) => (right.as_ref().clone(), left.as_ref().clone()),
            _ => return Ok(None),
        };
        let lt = l.get_type(self.left.schema())?;
        let rt = r.get_type(self.right.schema())?;
        if lt == rt {
            return Ok(Some((l, r)));
        }
        let common = comparison_coercion(&lt, &rt).ok_or_else(|| {
            plan_datafusion_err!(
                "{}: {l} ({lt}) and {r} ({rt}) cannot be compared",
                self.kind.sql()
            )
        })?;
        Ok(Some((cast(l, common.clone()), cast(r, common))))
    }

    /// The equalities of `conditions`, and the others.
    fn split(&self, conditions: Vec<Expr>) -> Result<(Keys, Vec<Expr>)> {
        let mut keys = Vec::new();
        let mut rest = Vec::new();
        for condition in conditions {
            match self.equality(&condition)? {
                Some(pair) => keys.push(pair),
                None => rest.push(condition),
            }
        }
        Ok((keys, rest))
    }

    fn asof(self, conditions: Vec<Expr>) -> Result<LogicalPlan> {
        let (keys, rest) = self.split(conditions)?;
        let usage = || {
            format!(
                "{} takes ON with equalities of the two tables' keys and one comparison of \
                 their times, e.g. ON t.sym = q.sym AND t.ts >= q.ts",
                self.kind.sql()
            )
        };
        let [time] = rest.as_slice() else {
            return plan_err!("{} (found {} other conditions)", usage(), rest.len());
        };
        let Expr::BinaryExpr(BinaryExpr { left, op, right }) = time else {
            return plan_err!("{}; {time} is not one", usage());
        };
        let (l, r, op) = match (self.side(left), self.side(right)) {
            (Side::Left, Side::Right) => (left, right, *op),
            (Side::Right, Side::Left) => (right, left, op.swap().unwrap_or(*op)),
            _ => return plan_err!("{}; {time} is not one", usage()),
        };
        let direction = match op {
            Operator::GtEq => Direction::AtOrBefore,
            Operator::Gt => Direction::Before,
            Operator::LtEq => Direction::AtOrAfter,
            Operator::Lt => Direction::After,
            _ => return plan_err!("{}; {time} is not one", usage()),
        };
        let (left_time, right_time) = self.times(l, r)?;
        let mode = Mode::Asof {
            direction,
            keep_unmatched: self.kind == JoinKind::AsofLeft,
            left_only: self.kind == JoinKind::Aj0,
        };
        Ok(TimeJoin::try_new(
            mode,
            Arc::new(self.left),
            Arc::new(self.right),
            keys,
            left_time,
            None,
            right_time,
        )?
        .into_plan())
    }

    fn window(self, conditions: Vec<Expr>) -> Result<LogicalPlan> {
        let (keys, rest) = self.split(conditions)?;
        let usage = "WINDOW JOIN takes ON with equalities of the two tables' keys and one \
                     window of the right table's time, e.g. \
                     ON t.sym = q.sym AND q.ts BETWEEN t.ts - INTERVAL '1 second' AND t.ts";
        let [
            Expr::Between(Between {
                expr,
                negated: false,
                low,
                high,
            }),
        ] = rest.as_slice()
        else {
            return plan_err!("{usage}");
        };
        if (self.side(expr), self.side(low), self.side(high))
            != (Side::Right, Side::Left, Side::Left)
        {
            return plan_err!("{usage}");
        }
        let (low, right_time) = self.times(low, expr)?;
        let (high, _) = self.times(high, expr)?;
        Ok(TimeJoin::try_new(
            Mode::Window,
            Arc::new(self.left),
            Arc::new(self.right),
            keys,
            low,
            Some(high),
            right_time,
        )?
        .into_plan())
    }

    /// A left and a right time cast to one ordered type the operators read (`Int64`, or
    /// `Float64` for fractional numbers): times of any unit as nanoseconds.
    fn times(&self, l: &Expr, r: &Expr) -> Result<(Expr, Expr)> {
        let lt = l.get_type(self.left.schema())?;
        let rt = r.get_type(self.right.schema())?;
        let temporal = |t: &DataType| {
            matches!(
                t,
                DataType::Timestamp(..) | DataType::Date32 | DataType::Date64
            )
        };
        let number = |t: &DataType| t.is_numeric() && !temporal(t);
        let as_type = |e: &Expr, to: &DataType| cast(e.clone(), to.clone());
        if temporal(&lt) && temporal(&rt) {
            let nanos = DataType::Timestamp(TimeUnit::Nanosecond, None);
            let ordered = |e: &Expr| cast(as_type(e, &nanos), DataType::Int64);
            return Ok((ordered(l), ordered(r)));
        }
        if !(number(&lt) && number(&rt)) {
            return plan_err!(
                "{}: the times {l} ({lt}) and {r} ({rt}) must both be timestamps or dates, or both numbers",
                self.kind.sql()
            );
        }
        let to = if lt.is_integer() && rt.is_integer() {
            DataType::Int64
        } else {
            DataType::Float64
        };
        Ok((as_type(l, &to), as_type(r, &to)))
    }

    /// kdb+'s `uj`: every row of both sides, columns matched by name.
    fn union(self, conditions: Vec<Expr>) -> Result<LogicalPlan> {
        if !conditions.is_empty() {
            return plan_err!(
                "UNION JOIN takes no ON or USING: it appends the right table's rows to the \
                 left's, matching columns by name (kdb+'s uj)"
            );
        }
        LogicalPlanBuilder::from(self.left)
            .union_by_name(self.right)?
            .build()
    }

    /// kdb+'s `pj`: every left row; each numeric column the right side also has (by name,
    /// keys aside) gets the matching right row's value added, 0 where none matches; the
    /// right side's other columns are added as they are (numbers 0 where none matches).
    fn plus(self, conditions: Vec<Expr>) -> Result<LogicalPlan> {
        let (keys, rest) = self.split(conditions)?;
        if keys.is_empty() || !rest.is_empty() {
            return plan_err!(
                "PLUS JOIN takes ON with equalities of the two tables' keys only, e.g. \
                 ON t.sym = q.sym (or USING (sym))"
            );
        }
        let right_keys: Vec<String> = keys
            .iter()
            .filter_map(|(_, r)| match r {
                Expr::Column(c) => Some(c.name.clone()),
                _ => None,
            })
            .collect();
        let left_schema = Arc::clone(self.left.schema());
        let right_schema = Arc::clone(self.right.schema());
        // A right column is added unless it is one of the keys.
        let added = |f: &arrow::datatypes::Field| !right_keys.contains(f.name());
        let mut projection = Vec::new();
        for (q, f) in left_schema.iter() {
            let l = Expr::Column(Column::from((q, f)));
            let same = right_schema
                .iter()
                .find(|(_, rf)| rf.name() == f.name() && added(rf));
            projection.push(match same {
                None => l,
                Some((rq, rf)) => {
                    if !(f.data_type().is_numeric() && rf.data_type().is_numeric()) {
                        return plan_err!(
                            "PLUS JOIN adds the columns both tables have: {} is {} and {} is {}; \
                             select the columns to add, or rename one",
                            Column::from((q, f)),
                            f.data_type(),
                            Column::from((rq, rf)),
                            rf.data_type()
                        );
                    }
                    let r = Expr::Column(Column::from((rq, rf)));
                    (l + coalesce(vec![r, lit(0)])).alias_qualified(q.cloned(), f.name())
                }
            });
        }
        for (rq, rf) in right_schema.iter() {
            if !added(rf) || left_schema.iter().any(|(_, f)| f.name() == rf.name()) {
                continue;
            }
            let r = Expr::Column(Column::from((rq, rf)));
            projection.push(if rf.data_type().is_numeric() {
                coalesce(vec![r, lit(0)]).alias_qualified(rq.cloned(), rf.name())
            } else {
                r
            });
        }
        let (left_keys, right_keys): (Vec<Expr>, Vec<Expr>) = keys.into_iter().unzip();
        LogicalPlanBuilder::from(self.left)
            .join_with_expr_keys(self.right, JoinType::Left, (left_keys, right_keys), None)?
            .project(projection)?
            .build()
    }
}

/// The column `name` of `schema`, for `USING`.
fn column(schema: &DFSchema, name: &str, kind: JoinKind) -> Result<Column> {
    schema
        .qualified_field_with_unqualified_name(name)
        .map(|(q, f)| Column::from((q, f)))
        .map_err(|_| {
            plan_datafusion_err!(
                "{}: USING ({name}): no column {name} on both sides",
                kind.sql()
            )
        })
}
