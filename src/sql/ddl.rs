//! Catalog statements: CREATE TABLE, DROP TABLE, ALTER TABLE, SHOW TABLES, DESCRIBE.
//!
//! These bypass DataFusion: the column types are Strata's (`SYMBOL`, `TIMESTAMP_NS`, …) and the
//! results follow the ZeptoDB reference (`result` messages, `name, rows`, `column, type`).

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray, TimestampNanosecondArray};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::sql::sqlparser::ast::{
    AlterTable, AlterTableOperation, ColumnDef as SqlColumnDef, CreateTable, FlushType, ObjectType,
    Statement,
};
use strata_catalog::{ColumnChange, ColumnDef, ColumnType, TableDefinition};
use strata_tiers::Tiers;

use super::QueryOutput;
use super::statement::{Command, ident_name, table_name};
use crate::error::{Error, Result};

/// Runs a catalog statement.
pub async fn execute(tiers: &Tiers, stmt: &Statement) -> Result<QueryOutput> {
    match stmt {
        Statement::CreateTable(create) => create_table(tiers, create).await,
        Statement::Drop {
            object_type: ObjectType::Table,
            if_exists,
            names,
            ..
        } => drop_tables(tiers, names, *if_exists).await,
        Statement::AlterTable(alter) => alter_table(tiers, alter).await,
        Statement::ShowTables { .. } => show_tables(tiers),
        Statement::Flush {
            object_type: FlushType::Tables,
            tables,
            ..
        } if !tables.is_empty() => flush_tables(tiers, tables).await,
        Statement::Flush { .. } => Err(Error::BadRequest(
            "FLUSH takes a table: FLUSH TABLE name (or POST /admin/flush for every table)".into(),
        )),
        Statement::ExplainTable { table_name: t, .. } => describe(tiers, &table_name(t)?),
        other => Err(Error::Internal(format!("not a catalog statement: {other}"))),
    }
}

async fn create_table(tiers: &Tiers, create: &CreateTable) -> Result<QueryOutput> {
    let name = table_name(&create.name)?;
    if create.query.is_some() {
        return Err(Error::BadRequest(
            "CREATE TABLE … AS SELECT is not supported: create the table, then INSERT INTO … SELECT"
                .into(),
        ));
    }
    if create.or_replace {
        return Err(Error::BadRequest(
            "CREATE OR REPLACE TABLE is not supported: DROP TABLE first".into(),
        ));
    }
    let columns = create
        .columns
        .iter()
        .map(column_def)
        .collect::<Result<Vec<_>>>()?;
    let def = TableDefinition::new(&name, columns)?;
    let message = if tiers.create_table(def, create.if_not_exists).await? {
        format!("Table '{name}' created")
    } else {
        format!("Table '{name}' already exists")
    };
    message_output(message)
}

fn column_def(col: &SqlColumnDef) -> Result<ColumnDef> {
    let ty: ColumnType = col.data_type.to_string().parse()?;
    Ok(ColumnDef::new(ident_name(&col.name), ty)?)
}

async fn drop_tables(
    tiers: &Tiers,
    names: &[datafusion::sql::sqlparser::ast::ObjectName],
    if_exists: bool,
) -> Result<QueryOutput> {
    let names = names.iter().map(table_name).collect::<Result<Vec<_>>>()?;
    if !if_exists && let Some(missing) = names.iter().find(|n| !tiers.catalog().contains(n)) {
        // Checked up front so `DROP TABLE a, missing` drops nothing.
        return Err(Error::UnknownTable(missing.clone()));
    }
    let mut messages = Vec::with_capacity(names.len());
    for name in &names {
        messages.push(if tiers.drop_table(name, if_exists).await? {
            format!("Table '{name}' dropped")
        } else {
            format!("Table '{name}' does not exist")
        });
    }
    text_output("result", messages)
}

async fn alter_table(tiers: &Tiers, alter: &AlterTable) -> Result<QueryOutput> {
    let name = table_name(&alter.name)?;
    if !tiers.catalog().contains(&name) {
        return if alter.if_exists {
            message_output(format!("Table '{name}' does not exist"))
        } else {
            Err(Error::UnknownTable(name))
        };
    }
    let changes = alter
        .operations
        .iter()
        .map(|op| match op {
            AlterTableOperation::AddColumn {
                column_def: col,
                if_not_exists,
                ..
            } => Ok(ColumnChange::Add {
                column: column_def(col)?,
                if_not_exists: *if_not_exists,
            }),
            AlterTableOperation::DropColumn {
                column_names,
                if_exists,
                ..
            } => match column_names.as_slice() {
                [col] => Ok(ColumnChange::Drop {
                    name: ident_name(col),
                    if_exists: *if_exists,
                }),
                _ => Err(Error::BadRequest(
                    "ALTER TABLE … DROP COLUMN takes one column per operation".into(),
                )),
            },
            other => Err(Error::BadRequest(format!(
                "Unsupported ALTER TABLE operation: {other} (supported: ADD COLUMN, DROP COLUMN)"
            ))),
        })
        .collect::<Result<Vec<_>>>()?;
    if !tiers.alter_table(&name, &changes).await? {
        return message_output(format!("Table '{name}' unchanged"));
    }
    message_output(format!("Table '{name}' altered"))
}

/// `FLUSH TABLE t[, u]`: moves the tables' hot rows to the HDB and answers once committed.
async fn flush_tables(
    tiers: &Tiers,
    names: &[datafusion::sql::sqlparser::ast::ObjectName],
) -> Result<QueryOutput> {
    let names = names.iter().map(table_name).collect::<Result<Vec<_>>>()?;
    if let Some(missing) = names.iter().find(|n| !tiers.catalog().contains(n)) {
        return Err(Error::UnknownTable(missing.clone()));
    }
    let mut messages = Vec::with_capacity(names.len());
    for name in &names {
        messages.push(if !tiers.is_tiered() {
            format!("Table '{name}' is in memory only (--storage-mode pure): nothing to flush")
        } else {
            let outcome = tiers.flush_table(name).await?;
            match outcome.version {
                Some(v) => format!(
                    "Table '{name}' flushed: {} rows in {} files, Delta version {v}",
                    outcome.rows, outcome.files
                ),
                None => format!("Table '{name}' flushed: no rows in memory"),
            }
        });
    }
    text_output("result", messages)
}

/// Runs one of Strata's own statements.
pub async fn run_command(tiers: &Tiers, command: Command) -> Result<QueryOutput> {
    let table = match &command {
        Command::DescribeHistory(t)
        | Command::Optimize(t)
        | Command::Vacuum(t, _)
        | Command::SetTtl(t, _) => t,
    };
    if !tiers.catalog().contains(table) {
        return Err(Error::UnknownTable(table.clone()));
    }
    if !tiers.is_tiered() && matches!(command, Command::Optimize(_) | Command::Vacuum(..)) {
        return message_output(format!(
            "Table '{table}' is in memory only (--storage-mode pure): it has no HDB files"
        ));
    }
    match command {
        Command::DescribeHistory(t) => describe_history(tiers, &t).await,
        Command::Optimize(t) => {
            let o = tiers.optimize_table(&t, 2).await?;
            message_output(format!(
                "Table '{t}' optimized: {} files merged into {}",
                o.files_removed, o.files_added
            ))
        }
        Command::SetTtl(t, ttl) => {
            tiers.set_ttl(&t, Some(ttl)).await?;
            message_output(if ttl == 0 {
                format!("Table '{t}' keeps its rows forever")
            } else {
                format!(
                    "Table '{t}' keeps {} hours of data",
                    ttl / 3_600_000_000_000
                )
            })
        }
        Command::Vacuum(t, hours) => {
            let deleted = tiers
                .vacuum_table(&t, hours.unwrap_or(DEFAULT_VACUUM_RETAIN_HOURS))
                .await?;
            message_output(format!("Table '{t}' vacuumed: {deleted} files deleted"))
        }
    }
}

/// Files a VACUUM keeps by default: a week of versions stays readable by time travel, as in
/// Delta Lake.
const DEFAULT_VACUUM_RETAIN_HOURS: u64 = 168;

/// `DESCRIBE HISTORY t`: the table's Delta commits, newest first.
async fn describe_history(tiers: &Tiers, name: &str) -> Result<QueryOutput> {
    let history = tiers.history(name).await?;
    let schema = Arc::new(Schema::new(vec![
        Field::new("version", DataType::Int64, false),
        Field::new(
            "timestamp",
            DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            true,
        ),
        Field::new("operation", DataType::Utf8, false),
        Field::new("parameters", DataType::Utf8, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(
            history.iter().map(|h| h.version as i64),
        )),
        Arc::new(
            TimestampNanosecondArray::from_iter(
                history
                    .iter()
                    .map(|h| h.timestamp_ms.map(|ms| ms.saturating_mul(1_000_000))),
            )
            .with_timezone("UTC"),
        ),
        Arc::new(StringArray::from_iter_values(
            history.iter().map(|h| h.operation.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            history.iter().map(|h| h.parameters.as_str()),
        )),
    ];
    let batch = RecordBatch::try_new(Arc::clone(&schema), columns)
        .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(QueryOutput::new(schema, vec![batch]))
}

fn show_tables(tiers: &Tiers) -> Result<QueryOutput> {
    let stats = tiers.table_stats();
    let schema = Arc::new(Schema::new(vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("rows", DataType::Int64, false),
    ]));
    let names = StringArray::from_iter_values(stats.iter().map(|s| s.name.as_str()));
    let rows = Int64Array::from_iter_values(stats.iter().map(|s| s.total_rows() as i64));
    output(schema, vec![Arc::new(names), Arc::new(rows)])
}

fn describe(tiers: &Tiers, name: &str) -> Result<QueryOutput> {
    let def = tiers.catalog().get(name)?;
    let schema = Arc::new(Schema::new(vec![
        Field::new("column", DataType::Utf8, false),
        Field::new("type", DataType::Utf8, false),
    ]));
    let cols = StringArray::from_iter_values(def.columns().iter().map(|c| c.name.as_str()));
    let types = StringArray::from_iter_values(def.columns().iter().map(|c| c.ty.name()));
    output(schema, vec![Arc::new(cols), Arc::new(types)])
}

fn message_output(message: String) -> Result<QueryOutput> {
    text_output("result", vec![message])
}

fn text_output(column: &str, values: Vec<String>) -> Result<QueryOutput> {
    let schema = Arc::new(Schema::new(vec![Field::new(column, DataType::Utf8, false)]));
    output(schema, vec![Arc::new(StringArray::from(values))])
}

fn output(schema: Arc<Schema>, columns: Vec<arrow::array::ArrayRef>) -> Result<QueryOutput> {
    let batch = RecordBatch::try_new(Arc::clone(&schema), columns)
        .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(QueryOutput::new(schema, vec![batch]))
}
