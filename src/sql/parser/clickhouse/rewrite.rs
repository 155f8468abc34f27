//! Result shapes ClickHouse clients depend on, applied to a parsed ClickHouse query: `count()`
//! is `UInt64` (JSON prints it quoted, as ClickHouse does), a bare integer literal in the
//! result has ClickHouse's literal type (`SELECT 1` is `UInt8`: clients compare types), and a
//! comparison or logical operator in the result is `UInt8` 1 or 0 (`SELECT x > 5`), as ClickHouse
//! computes them. Result columns are named first, by their text as written, so these casts do
//! not show in names.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, CastKind, DataType, Expr, Function, FunctionArguments, Query, SelectItem,
    SetExpr, Statement as Ast, UnaryOperator, Value, ValueWithSpan, visit_expressions_mut,
};

use crate::sql::rewrite::name_columns;
use crate::sql::statement::Statement;

/// `statement` with ClickHouse's result shapes.
pub(super) fn clickhouse_shapes(statement: Statement) -> Statement {
    match statement {
        Statement::Dml { kind, mut planned } => {
            super::functions::rewrite(planned.ast.as_mut());
            Statement::Dml { kind, planned }
        }
        Statement::Query(mut planned) => {
            if let Ast::Query(query) = planned.ast.as_mut() {
                name_columns(query, |expr, _| expr.to_string());
            }
            super::functions::rewrite(planned.ast.as_mut());
            if let Ast::Query(query) = planned.ast.as_mut() {
                type_literals(query);
            }
            let _ = visit_expressions_mut(planned.ast.as_mut(), |expr| {
                if is_count(expr) {
                    let count = std::mem::replace(expr, Expr::value(Value::Null));
                    *expr = cast(count, DataType::BigIntUnsigned(None));
                }
                ControlFlow::<()>::Continue(())
            });
            Statement::Query(planned)
        }
        other => other,
    }
}

fn is_count(expr: &Expr) -> bool {
    matches!(expr, Expr::Function(Function { name, over: None, args, .. })
        if name.to_string().eq_ignore_ascii_case("count")
            && !matches!(args, FunctionArguments::None))
}

fn cast(expr: Expr, data_type: DataType) -> Expr {
    Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(expr),
        data_type,
        array: false,
        format: None,
    }
}

/// Bare integer literals among the outermost SELECT's items.
fn type_literals(query: &mut Query) {
    let SetExpr::Select(select) = query.body.as_mut() else {
        return;
    };
    for item in &mut select.projection {
        let (SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. }) = item else {
            continue;
        };
        if let Some(ty) = literal_type(expr)
            .or_else(|| is_predicate(expr).then_some(DataType::TinyIntUnsigned(None)))
        {
            let literal = std::mem::replace(expr, Expr::value(Value::Null));
            *expr = cast(literal, ty);
        }
    }
}

/// Whether `expr` is a comparison or logical operator, which ClickHouse answers as `UInt8`.
fn is_predicate(expr: &Expr) -> bool {
    match expr {
        Expr::BinaryOp { op, .. } => matches!(
            op,
            BinaryOperator::Eq
                | BinaryOperator::NotEq
                | BinaryOperator::Lt
                | BinaryOperator::LtEq
                | BinaryOperator::Gt
                | BinaryOperator::GtEq
                | BinaryOperator::And
                | BinaryOperator::Or
        ),
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            ..
        }
        | Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::InList { .. }
        | Expr::InSubquery { .. }
        | Expr::Between { .. }
        | Expr::Like { .. }
        | Expr::ILike { .. } => true,
        Expr::Nested(inner) => is_predicate(inner),
        _ => false,
    }
}

/// ClickHouse's type for an integer literal: the narrowest unsigned type for a non-negative
/// one, the narrowest signed type for a negative one.
fn literal_type(expr: &Expr) -> Option<DataType> {
    let (digits, negative) = match expr {
        Expr::Value(ValueWithSpan {
            value: Value::Number(n, _),
            ..
        }) => (n.as_str(), false),
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => match expr.as_ref() {
            Expr::Value(ValueWithSpan {
                value: Value::Number(n, _),
                ..
            }) => (n.as_str(), true),
            _ => return None,
        },
        _ => return None,
    };
    let n: u64 = digits.parse().ok()?;
    Some(if negative {
        match n {
            0..=128 => DataType::TinyInt(None),
            129..=32_768 => DataType::SmallInt(None),
            32_769..=2_147_483_648 => DataType::Int(None),
            _ => DataType::BigInt(None),
        }
    } else {
        match n {
            0..=255 => DataType::TinyIntUnsigned(None),
            256..=65_535 => DataType::SmallIntUnsigned(None),
            65_536..=4_294_967_295 => DataType::IntUnsigned(None),
            _ => DataType::BigIntUnsigned(None),
        }
    })
}
