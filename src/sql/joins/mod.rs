//! kdb+'s joins, in SQL and as operators of our own (DataFusion has none of them).
//!
//! | SQL | kdb+ | what it answers |
//! |---|---|---|
//! | `ASOF JOIN q ON t.sym = q.sym AND t.ts >= q.ts` | `aj` (inner, as the reference) | each left row with the last right row of its keys at or before its time; left rows with none are dropped |
//! | `ASOF LEFT JOIN …` | `aj` | the same, keeping left rows with no match (right columns NULL) |
//! | `AJ0 JOIN …` | — | the reference's form: the left columns of the rows an `ASOF JOIN` keeps |
//! | `WINDOW JOIN q ON t.sym = q.sym AND q.ts BETWEEN t.ts - a AND t.ts + b` | `wj1` | each left row once, each right column as the list of its values inside the window; `wj_avg(q.bid)`, `wj_sum`, `wj_min`, `wj_max`, `wj_count` aggregate those lists |
//! | `UNION JOIN q` | `uj` | every row of both, columns matched by name (missing ones NULL) |
//! | `PLUS JOIN q ON t.k = q.k` | `pj` | the left rows, with the right row's same-named numeric columns added (0 where none matches) |
//!
//! The front end ([`crate::sql::parser`]) reads the spellings and marks each such join in the
//! AST (see [`JoinKind::of`]); [`plan::KdbJoinPlanner`] plans them; [`asof`] and [`window`] run
//! the two that need an operator, over an [`index::TimeIndex`] of the right side (what
//! they share is in [`shared`]);
//! [`pushdown`] moves filters on the left side below them.

pub mod asof;
pub mod index;
pub mod node;
pub mod plan;
pub mod pushdown;
pub mod shared;
pub mod window;

use datafusion::sql::sqlparser::ast::{Join, JoinConstraint, JoinOperator};

/// One of kdb+'s joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JoinKind {
    /// `ASOF JOIN`: unmatched left rows dropped.
    Asof,
    /// `ASOF LEFT JOIN`: unmatched left rows kept.
    AsofLeft,
    /// `AJ0 JOIN`: the left columns of what `ASOF JOIN` keeps.
    Aj0,
    /// `WINDOW JOIN`.
    Window,
    /// `UNION JOIN`.
    Union,
    /// `PLUS JOIN`.
    Plus,
}

impl JoinKind {
    /// The join as SQL spells it, for messages.
    pub fn sql(self) -> &'static str {
        match self {
            JoinKind::Asof => "ASOF JOIN",
            JoinKind::AsofLeft => "ASOF LEFT JOIN",
            JoinKind::Aj0 => "AJ0 JOIN",
            JoinKind::Window => "WINDOW JOIN",
            JoinKind::Union => "UNION JOIN",
            JoinKind::Plus => "PLUS JOIN",
        }
    }

    /// The kind of a join the front end marked, if it is one.
    ///
    /// sqlparser has no AST for these joins, so the front end writes each as `GLOBAL` (a
    /// ClickHouse word for distributed joins, which means nothing on one node and which the
    /// front end drops where a user writes it) in front of a distinct standard operator. This
    /// is the one place that encoding is read; [`JoinKind::marker`] is where it is written.
    pub fn of(join: &Join) -> Option<JoinKind> {
        if !join.global {
            return None;
        }
        Some(match join.join_operator {
            JoinOperator::Join(_) => JoinKind::Asof,
            JoinOperator::Left(_) => JoinKind::AsofLeft,
            JoinOperator::Inner(_) => JoinKind::Aj0,
            JoinOperator::LeftOuter(_) => JoinKind::Window,
            JoinOperator::FullOuter(_) => JoinKind::Union,
            JoinOperator::Right(_) => JoinKind::Plus,
            _ => return None,
        })
    }

    /// The keywords that follow `GLOBAL` in the marked form (see [`JoinKind::of`]).
    pub fn marker(self) -> &'static [&'static str] {
        match self {
            JoinKind::Asof => &["JOIN"],
            JoinKind::AsofLeft => &["LEFT", "JOIN"],
            JoinKind::Aj0 => &["INNER", "JOIN"],
            JoinKind::Window => &["LEFT", "OUTER", "JOIN"],
            JoinKind::Union => &["FULL", "JOIN"],
            JoinKind::Plus => &["RIGHT", "JOIN"],
        }
    }
}

/// A marked join's constraint.
pub(crate) fn constraint(join: &Join) -> &JoinConstraint {
    match &join.join_operator {
        JoinOperator::Join(c)
        | JoinOperator::Left(c)
        | JoinOperator::Inner(c)
        | JoinOperator::LeftOuter(c)
        | JoinOperator::FullOuter(c)
        | JoinOperator::Right(c) => c,
        _ => &JoinConstraint::None,
    }
}
