//! ClickHouse's `system` database, which clients and Grafana read to find their way around:
//! `system.databases`, `tables`, `columns`, `functions`, `settings`, `one` and `numbers`, with
//! the columns those readers select.
//!
//! The schema is built per statement for its caller: tables the caller may not see are not
//! listed, so the catalog reveals nothing a `SHOW TABLES` would not. Column types are the
//! ClickHouse names clients parse (`crate::format::clickhouse::types`).

use std::any::Any;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray, UInt8Array, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider, Session, TableProvider};
use datafusion::datasource::MemTable;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;
use strata_tiers::Tiers;

use crate::format::clickhouse::types::clickhouse_type;

/// The database name.
pub const DATABASE: &str = "system";
/// The database Strata's tables live in, for ClickHouse clients.
pub const DEFAULT_DATABASE: &str = "default";
/// The tables of the `system` database.
pub const TABLES: [&str; 7] = [
    "columns",
    "databases",
    "functions",
    "numbers",
    "one",
    "settings",
    "tables",
];

/// Rows `system.numbers` yields at most in one scan: it is endless in ClickHouse, so a scan
/// without a LIMIT (pushed down to it) is refused rather than run until memory runs out.
const MAX_NUMBERS: usize = 100_000_000;

/// The `system` schema as `visible` (the caller's scope) sees the tiers; `functions` are the
/// session's function names, with whether each aggregates.
pub fn schema(
    tiers: &Tiers,
    visible: impl Fn(&str) -> bool,
    functions: Vec<(String, bool)>,
) -> Result<Arc<dyn SchemaProvider>> {
    let provider = MemorySchemaProvider::new();
    let tables: Vec<_> = tiers
        .catalog()
        .list()
        .into_iter()
        .filter(|t| visible(t.name()))
        .collect();
    let stats = tiers.table_stats();
    let rows_of = |name: &str| {
        stats
            .iter()
            .find(|s| s.name == name)
            .map_or(0, |s| s.total_rows())
    };

    provider.register_table(
        "databases".into(),
        strings(
            &["name", "engine", "data_path", "metadata_path", "comment"],
            vec![
                vec![
                    DEFAULT_DATABASE.into(),
                    "Atomic".into(),
                    String::new(),
                    String::new(),
                    String::new(),
                ],
                vec![
                    DATABASE.into(),
                    "Memory".into(),
                    String::new(),
                    String::new(),
                    String::new(),
                ],
            ],
        )?,
    )?;

    let mut table_rows: Vec<(String, String, String, u64)> = tables
        .iter()
        .map(|t| {
            (
                DEFAULT_DATABASE.to_string(),
                t.name().to_string(),
                "MergeTree".to_string(),
                rows_of(t.name()),
            )
        })
        .collect();
    table_rows.extend(TABLES.iter().map(|t| {
        (
            DATABASE.to_string(),
            (*t).to_string(),
            "SystemTable".to_string(),
            0,
        )
    }));
    provider.register_table("tables".into(), tables_table(&table_rows)?)?;

    let mut column_rows = Vec::new();
    for table in &tables {
        let schema = table.arrow_schema();
        for (i, field) in schema.fields().iter().enumerate() {
            column_rows.push((
                table.name().to_string(),
                field.name().clone(),
                clickhouse_type(field).unwrap_or_else(|| "String".into()),
                i as u64 + 1,
            ));
        }
    }
    provider.register_table("columns".into(), columns_table(&column_rows)?)?;

    provider.register_table("functions".into(), functions_table(functions)?)?;
    provider.register_table("settings".into(), settings_table()?)?;
    let one = Arc::new(Schema::new(vec![Field::new(
        "dummy",
        DataType::UInt8,
        false,
    )]));
    let one_batch =
        RecordBatch::try_new(Arc::clone(&one), vec![Arc::new(UInt8Array::from(vec![0]))])?;
    provider.register_table(
        "one".into(),
        Arc::new(MemTable::try_new(one, vec![vec![one_batch]])?),
    )?;
    provider.register_table("numbers".into(), Arc::new(Numbers::default()))?;
    Ok(Arc::new(provider))
}

/// A table of String columns.
fn strings(names: &[&str], rows: Vec<Vec<String>>) -> Result<Arc<dyn TableProvider>> {
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(*n, DataType::Utf8, false))
            .collect::<Vec<_>>(),
    ));
    let columns: Vec<ArrayRef> = (0..names.len())
        .map(|i| {
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r[i].as_str()),
            )) as ArrayRef
        })
        .collect();
    table(schema, columns)
}

fn table(schema: SchemaRef, columns: Vec<ArrayRef>) -> Result<Arc<dyn TableProvider>> {
    let batch = RecordBatch::try_new(Arc::clone(&schema), columns)?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}

fn text<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values))
}

fn tables_table(rows: &[(String, String, String, u64)]) -> Result<Arc<dyn TableProvider>> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("database", DataType::Utf8, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("engine", DataType::Utf8, false),
        Field::new("is_temporary", DataType::UInt8, false),
        Field::new("total_rows", DataType::UInt64, true),
        Field::new("comment", DataType::Utf8, false),
    ]));
    table(
        schema,
        vec![
            text(rows.iter().map(|r| r.0.as_str())),
            text(rows.iter().map(|r| r.1.as_str())),
            text(rows.iter().map(|r| r.2.as_str())),
            Arc::new(UInt8Array::from(vec![0; rows.len()])),
            Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.3))),
            text(rows.iter().map(|_| "")),
        ],
    )
}

fn columns_table(rows: &[(String, String, String, u64)]) -> Result<Arc<dyn TableProvider>> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("database", DataType::Utf8, false),
        Field::new("table", DataType::Utf8, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("type", DataType::Utf8, false),
        Field::new("position", DataType::UInt64, false),
        Field::new("default_kind", DataType::Utf8, false),
        Field::new("default_expression", DataType::Utf8, false),
        Field::new("comment", DataType::Utf8, false),
        Field::new("is_in_partition_key", DataType::UInt8, false),
        Field::new("is_in_sorting_key", DataType::UInt8, false),
        Field::new("is_in_primary_key", DataType::UInt8, false),
        Field::new("compression_codec", DataType::Utf8, false),
    ]));
    let zeros = || Arc::new(UInt8Array::from(vec![0; rows.len()])) as ArrayRef;
    let empty = || text(rows.iter().map(|_| ""));
    table(
        schema,
        vec![
            text(rows.iter().map(|_| DEFAULT_DATABASE)),
            text(rows.iter().map(|r| r.0.as_str())),
            text(rows.iter().map(|r| r.1.as_str())),
            text(rows.iter().map(|r| r.2.as_str())),
            Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.3))),
            empty(),
            empty(),
            empty(),
            zeros(),
            zeros(),
            zeros(),
            empty(),
        ],
    )
}

/// `system.functions` with the columns Grafana's SQL editor selects.
/// The settings Strata acts on, at their defaults: what clients and people read to learn which
/// settings a server knows (`name, value, changed, description, readonly, type, default`).
/// Only these are listed: clients send the settings they see listed, and a listed setting
/// Strata ignored would be a promise it does not keep.
const SETTINGS: [(&str, &str, &str, &str); 6] = [
    (
        "readonly",
        "0",
        "UInt64",
        "1 or 2: the request may only read (GET requests always are).",
    ),
    (
        "max_execution_time",
        "0",
        "Seconds",
        "Stop a statement after this many seconds (0: the server's --query-timeout-ms).",
    ),
    (
        "max_result_rows",
        "0",
        "UInt64",
        "Most rows a result may have (0: no limit beyond the server's).",
    ),
    (
        "result_overflow_mode",
        "throw",
        "OverflowMode",
        "Past max_result_rows: 'throw' fails the statement, 'break' answers the first rows.",
    ),
    (
        "additional_table_filters",
        "{}",
        "Map(String, String)",
        "Extra conditions per table: every read of a table reads only the rows they admit.",
    ),
    (
        "enable_http_compression",
        "0",
        "Bool",
        "Compress responses with the Accept-Encoding method the client lists.",
    ),
];

fn settings_table() -> Result<Arc<dyn TableProvider>> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("value", DataType::Utf8, false),
        Field::new("changed", DataType::UInt8, false),
        Field::new("description", DataType::Utf8, false),
        Field::new("readonly", DataType::UInt8, false),
        Field::new("type", DataType::Utf8, false),
        Field::new("default", DataType::Utf8, false),
    ]));
    let n = SETTINGS.len();
    let columns: Vec<ArrayRef> = vec![
        text(SETTINGS.iter().map(|s| s.0)),
        text(SETTINGS.iter().map(|s| s.1)),
        Arc::new(UInt8Array::from(vec![0; n])),
        text(SETTINGS.iter().map(|s| s.3)),
        Arc::new(UInt8Array::from(vec![0; n])),
        text(SETTINGS.iter().map(|s| s.2)),
        text(SETTINGS.iter().map(|s| s.1)),
    ];
    let batch = RecordBatch::try_new(Arc::clone(&schema), columns)?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}

fn functions_table(mut functions: Vec<(String, bool)>) -> Result<Arc<dyn TableProvider>> {
    functions.sort();
    functions.dedup();
    let n = functions.len();
    let mut fields = vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("is_aggregate", DataType::UInt8, false),
        Field::new("case_insensitive", DataType::UInt8, false),
    ];
    let blank = [
        "alias_to",
        "create_query",
        "origin",
        "description",
        "syntax",
        "arguments",
        "returned_value",
        "examples",
        "categories",
    ];
    fields.extend(blank.iter().map(|n| Field::new(*n, DataType::Utf8, false)));
    let mut columns: Vec<ArrayRef> = vec![
        text(functions.iter().map(|f| f.0.as_str())),
        Arc::new(UInt8Array::from_iter_values(
            functions.iter().map(|f| u8::from(f.1)),
        )),
        Arc::new(UInt8Array::from(vec![0; n])),
    ];
    for name in blank {
        let value = if name == "origin" { "System" } else { "" };
        columns.push(text(std::iter::repeat_n(value, n)));
    }
    table(Arc::new(Schema::new(fields)), columns)
}

/// `system.numbers`: `number` from 0, as many as the scan's pushed-down LIMIT asks.
#[derive(Debug)]
struct Numbers {
    schema: SchemaRef,
}

impl Default for Numbers {
    fn default() -> Self {
        Self {
            schema: Arc::new(Schema::new(vec![Field::new(
                "number",
                DataType::UInt64,
                false,
            )])),
        }
    }
}

#[async_trait]
impl TableProvider for Numbers {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let n = limit.filter(|&n| n <= MAX_NUMBERS).ok_or_else(|| {
            DataFusionError::Plan(format!(
                "system.numbers is endless: read it with a LIMIT of at most {MAX_NUMBERS} and no WHERE clause"
            ))
        })?;
        const BATCH: usize = 65_536;
        let batches = (0..n)
            .step_by(BATCH)
            .map(|start| {
                let end = (start + BATCH).min(n);
                RecordBatch::try_new(
                    Arc::clone(&self.schema),
                    vec![Arc::new(UInt64Array::from_iter_values(
                        start as u64..end as u64,
                    ))],
                )
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let exec = MemorySourceConfig::try_new_exec(
            &[batches],
            Arc::clone(&self.schema),
            projection.cloned(),
        )?;
        Ok(exec)
    }
}
