//! Catalog statements: CREATE TABLE, DROP TABLE, ALTER TABLE, SHOW TABLES, DESCRIBE, and
//! ClickHouse's SHOW DATABASES, SHOW CREATE TABLE, EXISTS and its DESCRIBE.
//!
//! These bypass DataFusion: the column types are Strata's (`SYMBOL`, `TIMESTAMP_NS`, …) and the
//! results follow the ZeptoDB reference (`result` messages, `name, rows`, `column, type`); the
//! ClickHouse statements answer in ClickHouse's columns and type names.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, StringArray, UInt8Array};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::sql::sqlparser::ast::{AlterTableOperation, ColumnDef as SqlColumnDef};
use strata_catalog::{ColumnChange, ColumnDef, ColumnType, TableDefinition};
use strata_tiers::Tiers;

use super::QueryOutput;
use super::error::{Error, Result};
use super::parser::ident_name;
use super::system::{self, DATABASE, DEFAULT_DATABASE};
use crate::format::clickhouse::types::clickhouse_type;

pub(super) async fn create_table(
    tiers: &Tiers,
    definition: TableDefinition,
    if_not_exists: bool,
) -> Result<QueryOutput> {
    let name = definition.name().to_string();
    let message = if tiers.create_table(definition, if_not_exists).await? {
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

pub(super) async fn drop_tables(
    tiers: &Tiers,
    names: &[String],
    if_exists: bool,
) -> Result<QueryOutput> {
    if !if_exists {
        // Checked up front so `DROP TABLE a, missing` drops nothing.
        require_tables(tiers, names)?;
    }
    let mut messages = Vec::with_capacity(names.len());
    for name in names {
        messages.push(if tiers.drop_table(name, if_exists).await? {
            format!("Table '{name}' dropped")
        } else {
            format!("Table '{name}' does not exist")
        });
    }
    text_output("result", messages)
}

pub(super) async fn alter_table(
    tiers: &Tiers,
    name: &str,
    if_exists: bool,
    operations: &[AlterTableOperation],
) -> Result<QueryOutput> {
    if !tiers.catalog().contains(name) {
        return if if_exists {
            message_output(format!("Table '{name}' does not exist"))
        } else {
            Err(Error::UnknownTable { name: name.into() })
        };
    }
    let changes = operations
        .iter()
        .map(column_change)
        .collect::<Result<Vec<_>>>()?;
    if !tiers.alter_table(name, &changes).await? {
        return message_output(format!("Table '{name}' unchanged"));
    }
    message_output(format!("Table '{name}' altered"))
}

fn column_change(op: &AlterTableOperation) -> Result<ColumnChange> {
    match op {
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
            _ => Err(Error::Invalid(
                "ALTER TABLE … DROP COLUMN takes one column per operation".into(),
            )),
        },
        other => Err(Error::Invalid(format!(
            "Unsupported ALTER TABLE operation: {other} (supported: ADD COLUMN, DROP COLUMN, SET TTL)"
        ))),
    }
}

/// The tables `visible` admits (the caller's scope), with their row counts.
pub(super) fn show_tables(tiers: &Tiers, visible: impl Fn(&str) -> bool) -> Result<QueryOutput> {
    let mut stats = tiers.table_stats();
    stats.retain(|s| visible(&s.name));
    let schema = Arc::new(Schema::new(vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("rows", DataType::Int64, false),
    ]));
    let names = StringArray::from_iter_values(stats.iter().map(|s| s.name.as_str()));
    let rows = Int64Array::from_iter_values(stats.iter().map(|s| s.total_rows() as i64));
    output(schema, vec![Arc::new(names), Arc::new(rows)])
}

pub(super) fn describe(tiers: &Tiers, name: &str) -> Result<QueryOutput> {
    let def = tiers.catalog().get(name)?;
    let schema = Arc::new(Schema::new(vec![
        Field::new("column", DataType::Utf8, false),
        Field::new("type", DataType::Utf8, false),
    ]));
    let cols = StringArray::from_iter_values(def.columns().iter().map(|c| c.name.as_str()));
    let types = StringArray::from_iter_values(def.columns().iter().map(|c| c.ty.name()));
    output(schema, vec![Arc::new(cols), Arc::new(types)])
}

/// ClickHouse's `SHOW DATABASES`.
pub(super) fn show_databases() -> Result<QueryOutput> {
    text_output(
        "name",
        vec![DEFAULT_DATABASE.to_string(), DATABASE.to_string()],
    )
}

/// ClickHouse's `SHOW TABLES [FROM database]`: the names `visible` admits, sorted.
pub(super) fn show_table_names(
    tiers: &Tiers,
    database: &str,
    visible: impl Fn(&str) -> bool,
) -> Result<QueryOutput> {
    let mut names: Vec<String> = match database {
        DEFAULT_DATABASE => tiers
            .catalog()
            .list()
            .iter()
            .map(|t| t.name().to_string())
            .filter(|n| visible(n))
            .collect(),
        DATABASE => system::TABLES.iter().map(|t| (*t).to_string()).collect(),
        other => {
            return Err(Error::UnknownDatabase {
                name: other.to_string(),
            });
        }
    };
    names.sort();
    text_output("name", names)
}

/// ClickHouse's `DESCRIBE TABLE`: the seven String columns its clients read, types as
/// ClickHouse names them.
pub(super) fn describe_columns(tiers: &Tiers, name: &str) -> Result<QueryOutput> {
    let def = tiers.catalog().get(name)?;
    let schema = def.arrow_schema();
    let types: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| clickhouse_type(f).unwrap_or_else(|| "String".into()))
        .collect();
    let names = [
        "name",
        "type",
        "default_type",
        "default_expression",
        "comment",
        "codec_expression",
        "ttl_expression",
    ];
    let out_schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(*n, DataType::Utf8, false))
            .collect::<Vec<_>>(),
    ));
    let n = schema.fields().len();
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            schema.fields().iter().map(|f| f.name().as_str()),
        )),
        Arc::new(StringArray::from(types)),
    ];
    columns.extend((2..names.len()).map(|_| Arc::new(StringArray::from(vec![""; n])) as ArrayRef));
    output(out_schema, columns)
}

/// ClickHouse's `SHOW CREATE TABLE`: the definition as a ClickHouse statement.
pub(super) fn show_create_table(tiers: &Tiers, name: &str) -> Result<QueryOutput> {
    let def = tiers.catalog().get(name)?;
    let schema = def.arrow_schema();
    let columns: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| {
            format!(
                "    `{}` {}",
                f.name().replace('`', "\\`"),
                clickhouse_type(f).unwrap_or_else(|| "String".into())
            )
        })
        .collect();
    let quoted = |c: &str| format!("`{}`", c.replace('`', "\\`"));
    let order = match (def.sort_key(), def.time_column()) {
        ([one], _) => quoted(one),
        ([], Some(i)) => quoted(&def.columns()[i].name),
        ([], None) => "tuple()".to_string(),
        (key, _) => format!(
            "({})",
            key.iter().map(|c| quoted(c)).collect::<Vec<_>>().join(", ")
        ),
    };
    let mut statement = format!(
        "CREATE TABLE {DEFAULT_DATABASE}.`{name}`\n(\n{}\n)\nENGINE = MergeTree\nORDER BY {order}",
        columns.join(",\n")
    );
    if let (Some(ttl), Some(i)) = (def.ttl_nanos(), def.time_column()) {
        const DAY: i64 = 86_400_000_000_000;
        let interval = if ttl % DAY == 0 {
            format!("toIntervalDay({})", ttl / DAY)
        } else {
            format!("toIntervalSecond({})", ttl / 1_000_000_000)
        };
        statement.push_str(&format!(
            "\nTTL {} + {interval}",
            quoted(&def.columns()[i].name)
        ));
    }
    text_output("statement", vec![statement])
}

/// ClickHouse's `EXISTS TABLE`: 1 or 0, as `result` (UInt8).
pub(super) fn exists_table(tiers: &Tiers, name: &str) -> Result<QueryOutput> {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "result",
        DataType::UInt8,
        false,
    )]));
    let exists = u8::from(tiers.catalog().contains(name));
    output(schema, vec![Arc::new(UInt8Array::from(vec![exists]))])
}

/// Fails with the first of `names` that is not a table (a `system.` name must be one of the
/// system tables).
pub(super) fn require_tables(tiers: &Tiers, names: &[String]) -> Result<()> {
    let known = |n: &String| match n.strip_prefix("system.") {
        Some(system_table) => system::TABLES.contains(&system_table),
        None => tiers.catalog().contains(n),
    };
    match names.iter().find(|n| !known(n)) {
        Some(missing) => Err(Error::UnknownTable {
            name: missing.clone(),
        }),
        None => Ok(()),
    }
}

/// A one-row `result` answer.
pub(super) fn message_output(message: String) -> Result<QueryOutput> {
    text_output("result", vec![message])
}

/// One text column.
pub(super) fn text_output(column: &str, values: Vec<String>) -> Result<QueryOutput> {
    let schema = Arc::new(Schema::new(vec![Field::new(column, DataType::Utf8, false)]));
    output(schema, vec![Arc::new(StringArray::from(values))])
}

/// A one-batch answer.
pub(super) fn output(schema: Arc<Schema>, columns: Vec<ArrayRef>) -> Result<QueryOutput> {
    let batch =
        arrow::array::RecordBatch::try_new(Arc::clone(&schema), columns).map_err(Error::Output)?;
    Ok(QueryOutput::new(schema, vec![batch]))
}
