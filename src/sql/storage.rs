//! Strata's storage statements: FLUSH TABLE, OPTIMIZE, VACUUM, ALTER TABLE … SET TTL and
//! DESCRIBE HISTORY, run against the tiers (the hot tier, the HDB's Delta tables).

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, StringArray, TimestampNanosecondArray};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use strata_tiers::Tiers;

use super::QueryOutput;
use super::ddl::{message_output, output, require_tables, text_output};
use super::error::Result;

/// Files a VACUUM keeps by default: a week of versions stays readable by time travel, as in
/// Delta Lake.
const DEFAULT_VACUUM_RETAIN_HOURS: u64 = 168;

const HOUR_NANOS: i64 = 3_600_000_000_000;

/// `FLUSH TABLE t[, u]`: moves the tables' hot rows to the HDB and answers once committed.
pub(super) async fn flush(tiers: &Tiers, names: &[String]) -> Result<QueryOutput> {
    require_tables(tiers, names)?;
    let mut messages = Vec::with_capacity(names.len());
    for name in names {
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

/// The answer of OPTIMIZE and VACUUM in pure mode, where there are no HDB files.
fn no_files(table: &str) -> Result<QueryOutput> {
    message_output(format!(
        "Table '{table}' is in memory only (--storage-mode pure): it has no HDB files"
    ))
}

/// `OPTIMIZE t`: merges each day's files into one, and rewrites files of an older layout.
pub(super) async fn optimize(tiers: &Tiers, table: &str) -> Result<QueryOutput> {
    require_tables(tiers, &[table.to_string()])?;
    if !tiers.is_tiered() {
        return no_files(table);
    }
    let o = tiers.optimize_table(table, 2, true).await?;
    message_output(format!(
        "Table '{table}' optimized: {} files rewritten as {}",
        o.files_removed, o.files_added
    ))
}

/// `VACUUM t [RETAIN n HOURS]`: deletes files no version younger than that needs.
pub(super) async fn vacuum(
    tiers: &Tiers,
    table: &str,
    retain_hours: Option<u64>,
) -> Result<QueryOutput> {
    require_tables(tiers, &[table.to_string()])?;
    if !tiers.is_tiered() {
        return no_files(table);
    }
    let deleted = tiers
        .vacuum_table(table, retain_hours.unwrap_or(DEFAULT_VACUUM_RETAIN_HOURS))
        .await?;
    message_output(format!("Table '{table}' vacuumed: {deleted} files deleted"))
}

/// `ALTER TABLE t SET TTL …`.
pub(super) async fn set_ttl(tiers: &Tiers, table: &str, ttl_nanos: i64) -> Result<QueryOutput> {
    require_tables(tiers, &[table.to_string()])?;
    tiers.set_ttl(table, Some(ttl_nanos)).await?;
    message_output(if ttl_nanos == 0 {
        format!("Table '{table}' keeps its rows forever")
    } else {
        format!(
            "Table '{table}' keeps {} hours of data",
            ttl_nanos / HOUR_NANOS
        )
    })
}

/// `DESCRIBE HISTORY t`: the table's Delta commits, newest first.
pub(super) async fn describe_history(tiers: &Tiers, table: &str) -> Result<QueryOutput> {
    require_tables(tiers, &[table.to_string()])?;
    let history = tiers.history(table).await?;
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
    output(schema, columns)
}
