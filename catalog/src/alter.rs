//! ALTER TABLE as a plan: the definition a statement's column changes lead to, and the steps that
//! reshape stored rows to match it.
//!
//! The steps are positional (append a NULL column, remove the column at an index) and follow the
//! statement's order, so `DROP COLUMN a, ADD COLUMN a` leaves `a` NULL rather than bringing the
//! dropped values back under the same name.

use crate::error::{Error, Result};
use crate::table::{ColumnDef, TableDefinition};
use crate::types::ColumnType;

/// One column change of an ALTER TABLE statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnChange {
    /// `ADD COLUMN [IF NOT EXISTS]`.
    Add {
        /// The new column.
        column: ColumnDef,
        /// Skip instead of failing when the name is taken.
        if_not_exists: bool,
    },
    /// `DROP COLUMN [IF EXISTS]`.
    Drop {
        /// The column to drop.
        name: String,
        /// Skip instead of failing when there is no such column.
        if_exists: bool,
    },
}

/// How one stored row batch changes; applied in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayoutStep {
    /// A new last column, NULL (or its type's default, when it holds no NULLs) in every stored row.
    Append(ColumnType),
    /// The column at this position goes.
    Remove(usize),
}

/// The outcome of an ALTER TABLE statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterPlan {
    /// The table's definition afterwards.
    pub definition: TableDefinition,
    /// How stored rows are reshaped; empty when every change was skipped.
    pub steps: Vec<LayoutStep>,
}

/// Applies `changes` to `current` in order. Any invalid change fails the whole statement.
pub fn plan(current: &TableDefinition, changes: &[ColumnChange]) -> Result<AlterPlan> {
    let mut definition = current.clone();
    let mut steps = Vec::with_capacity(changes.len());
    for change in changes {
        match change {
            ColumnChange::Add {
                column,
                if_not_exists,
            } => {
                if *if_not_exists && definition.column_index(&column.name).is_some() {
                    continue;
                }
                definition = definition.with_column(column.clone())?;
                steps.push(LayoutStep::Append(column.ty.clone()));
            }
            ColumnChange::Drop { name, if_exists } => {
                let idx = match definition.column_index(name) {
                    Some(idx) => idx,
                    None if *if_exists => continue,
                    None => {
                        return Err(Error::ColumnNotFound {
                            table: definition.name().to_string(),
                            column: name.clone(),
                        });
                    }
                };
                definition = definition.without_column(name)?;
                steps.push(LayoutStep::Remove(idx));
            }
        }
    }
    Ok(AlterPlan { definition, steps })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> TableDefinition {
        TableDefinition::new(
            "t",
            vec![
                ColumnDef::new("ts", ColumnType::TimestampNs).unwrap(),
                ColumnDef::new("a", ColumnType::Int64).unwrap(),
            ],
        )
        .unwrap()
    }

    fn add(name: &str, ty: ColumnType, if_not_exists: bool) -> ColumnChange {
        ColumnChange::Add {
            column: ColumnDef::new(name, ty).unwrap(),
            if_not_exists,
        }
    }

    fn drop(name: &str, if_exists: bool) -> ColumnChange {
        ColumnChange::Drop {
            name: name.into(),
            if_exists,
        }
    }

    #[test]
    fn steps_follow_the_statement_order() {
        let p = plan(
            &table(),
            &[
                drop("a", false),
                add("a", ColumnType::Bool, false),
                add("b", ColumnType::Int64, false),
            ],
        )
        .unwrap();
        let names: Vec<_> = p.definition.columns().iter().map(|c| &c.name).collect();
        assert_eq!(names, ["ts", "a", "b"]);
        assert_eq!(
            p.steps,
            [
                LayoutStep::Remove(1),
                LayoutStep::Append(ColumnType::Bool),
                LayoutStep::Append(ColumnType::Int64)
            ]
        );
    }

    #[test]
    fn if_exists_variants_skip() {
        let p = plan(
            &table(),
            &[add("a", ColumnType::Bool, true), drop("zz", true)],
        )
        .unwrap();
        assert_eq!(p.definition, table());
        assert!(p.steps.is_empty());
    }

    #[test]
    fn one_bad_change_fails_the_statement() {
        let err = plan(
            &table(),
            &[add("b", ColumnType::Bool, false), drop("zz", false)],
        )
        .unwrap_err();
        assert!(matches!(err, Error::ColumnNotFound { .. }));
        assert!(plan(&table(), &[drop("ts", false)]).is_err());
    }
}
