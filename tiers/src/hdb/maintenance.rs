//! Keeping the HDB fast and small: compaction, TTL expiry and vacuum.
//!
//! Compaction merges a day's small files into one, re-sorted by (symbol, time) — delta-rs's own
//! `optimize` concatenates files without keeping that order, which would spoil the row-group
//! statistics scans prune with. Files are grouped by the UTC day of their time column's minimum
//! (from the Delta log's statistics, no data read); a file holding rows without a time is its
//! own group. The new file replaces the old ones in one commit marked `dataChange: false`, so
//! readers of the change feed and time travel see the same rows.

use std::collections::BTreeMap;

use arrow::array::RecordBatch;
use arrow::compute::concat_batches;
use arrow::datatypes::SchemaRef;
use deltalake::DeltaTable;
use deltalake::kernel::Action;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::protocol::DeltaOperation;
use deltalake::writer::{DeltaWriter, RecordBatchWriter};
use strata_catalog::time_column_index;

use super::commit::commit;
use super::flush::{sort_for_scans, to_delta_layout, writer_properties};
use crate::error::Result;
use crate::hot::NANOS_PER_DAY;

/// Files at or above this size are left alone.
pub const TARGET_FILE_BYTES: i64 = 128 << 20;

/// What a compaction did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompactOutcome {
    /// Files replaced.
    pub files_removed: usize,
    /// Files written.
    pub files_added: usize,
}

/// Merges every group of at least `min_files` small files of one day into one file. `table` is
/// at the new version afterwards (unchanged if nothing qualified).
pub async fn compact(
    table: &mut DeltaTable,
    schema: &SchemaRef,
    sort_key: &[String],
    min_files: usize,
) -> Result<CompactOutcome> {
    let time_column = time_column_index(schema).map(|i| schema.field(i).name().clone());
    let mut groups: BTreeMap<Option<i64>, Vec<_>> = BTreeMap::new();
    for file in table.snapshot()?.log_data().iter() {
        if file.size() >= TARGET_FILE_BYTES {
            continue;
        }
        let day = time_column
            .as_deref()
            .and_then(|c| min_of(file.stats().as_deref(), c))
            .map(|min| min.div_euclid(NANOS_PER_DAY));
        groups.entry(day).or_default().push(file);
    }
    groups.retain(|_, files| files.len() >= min_files.max(2));
    if groups.is_empty() {
        return Ok(CompactOutcome::default());
    }
    let store = table.object_store();
    let mut writer =
        RecordBatchWriter::for_table(table)?.with_writer_properties(writer_properties()?);
    let delta_schema = writer.arrow_schema();
    let mut actions = Vec::new();
    let mut outcome = CompactOutcome::default();
    for files in groups.values() {
        let mut batches: Vec<RecordBatch> = Vec::new();
        for file in files {
            batches.extend(super::read_file(&store, file.path().as_ref(), schema).await?);
            actions.push(Action::Remove(file.remove_action(false)));
        }
        let merged = sort_for_scans(&concat_batches(schema, &batches)?, sort_key)?;
        if merged.num_rows() > 0 {
            writer
                .write(to_delta_layout(&merged, &delta_schema)?)
                .await?;
            for mut add in writer.flush().await? {
                add.data_change = false;
                actions.push(Action::Add(add));
                outcome.files_added += 1;
            }
        }
        outcome.files_removed += files.len();
    }
    let operation = DeltaOperation::Optimize {
        predicate: None,
        target_size: TARGET_FILE_BYTES,
    };
    commit(table, actions, operation, CommitProperties::default()).await?;
    Ok(outcome)
}

/// `minValues[column]` of a file's JSON statistics, as nanoseconds.
fn min_of(stats: Option<&str>, column: &str) -> Option<i64> {
    let stats: serde_json::Value = serde_json::from_str(stats?).ok()?;
    stat_nanos(stats.get("minValues")?.get(column)?)
}

/// A time column's statistic as nanoseconds: an integer for columns stored as Delta `long`
/// (nanoseconds), an RFC 3339 text for Delta `timestamp` columns (whose statistics Delta keeps
/// to the millisecond, truncated: never later than the true value).
fn stat_nanos(value: &serde_json::Value) -> Option<i64> {
    match value {
        serde_json::Value::String(text) => chrono::DateTime::parse_from_rfc3339(text)
            .ok()?
            .timestamp_nanos_opt(),
        other => other.as_i64(),
    }
}

/// Removes from the table's current version every file whose rows all have `time_column` before
/// `before` (TTL: files hold one day each). Returns the rows removed.
pub async fn expire(table: &mut DeltaTable, time_column: &str, before: i64) -> Result<u64> {
    let mut actions = Vec::new();
    let mut rows = 0;
    for file in table.snapshot()?.log_data().iter() {
        let stats = file.stats();
        if max_of(stats.as_deref(), time_column).is_some_and(|max| max < before) {
            rows += file.num_records().unwrap_or(0) as u64;
            actions.push(Action::Remove(file.remove_action(true)));
        }
    }
    if actions.is_empty() {
        return Ok(0);
    }
    let operation = DeltaOperation::Delete {
        predicate: Some(format!("{time_column} < {before} (TTL)")),
    };
    commit(table, actions, operation, CommitProperties::default()).await?;
    Ok(rows)
}

/// `maxValues[column]` of a file's JSON statistics, as nanoseconds.
fn max_of(stats: Option<&str>, column: &str) -> Option<i64> {
    let stats: serde_json::Value = serde_json::from_str(stats?).ok()?;
    stat_nanos(stats.get("maxValues")?.get(column)?)
}

/// Deletes data files no version newer than `retain_hours` ago refers to; returns how many.
pub async fn vacuum(table: &mut DeltaTable, retain_hours: u64) -> Result<usize> {
    let (next, metrics) = table
        .clone()
        .vacuum()
        .with_retention_period(chrono::Duration::hours(retain_hours as i64))
        .with_enforce_retention_duration(false)
        .await?;
    *table = next;
    Ok(metrics.files_deleted.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimums_come_from_the_log_statistics() {
        let stats = r#"{"numRecords":2,"minValues":{"ts":86400000000001,"s":"a"},"maxValues":{}}"#;
        assert_eq!(min_of(Some(stats), "ts"), Some(86_400_000_000_001));
        assert_eq!(min_of(Some(stats), "s"), None);
        assert_eq!(min_of(None, "ts"), None);
        assert_eq!(min_of(Some("not json"), "ts"), None);
    }
}
