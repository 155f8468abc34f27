//! Keeping the HDB fast and small: compaction, TTL expiry and vacuum.
//!
//! Compaction merges a day's small files into one, laid out anew (time clusters sorted by
//! (symbol, time), see [`layout`]) — delta-rs's own `optimize` concatenates files without
//! keeping that order, which would spoil the statistics scans prune with. `OPTIMIZE` also
//! rewrites a day holding any file of an older layout (its footer says which), whatever its
//! size. Files are grouped by the UTC day of their time column's minimum
//! (from the Delta log's statistics, no data read); a file holding rows without a time is its
//! own group. The new file replaces the old ones in one commit marked `dataChange: false`, so
//! readers of the change feed and time travel see the same rows.

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
use super::flush::to_delta_layout;
use super::layout::{self, FileLayout};
use crate::error::Result;
use crate::hot::NANOS_PER_DAY;
use crate::hot::partition::split_by_day;

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

/// What a compaction does.
#[derive(Debug, Clone, Copy)]
pub struct Compaction<'a> {
    /// The table's sort key (empty: symbol, time).
    pub sort_key: &'a [String],
    /// A day's small files are merged once there are this many (at least two).
    pub min_files: usize,
    /// Also rewrite every file not written in the current layout, whatever its size (`OPTIMIZE`).
    pub relayout: bool,
    /// The layout files are written in.
    pub layout: FileLayout,
}

/// Merges every group of at least `plan.min_files` small files of one day into one file, and
/// with `plan.relayout` rewrites every day holding a file of an older layout. A file whose rows
/// span several days (another writer's) joins the groups of all those days, and the rewrite
/// writes one file per day. `table` is at the new version afterwards (unchanged if nothing
/// qualified).
pub async fn compact(
    table: &mut DeltaTable,
    schema: &SchemaRef,
    plan: &Compaction<'_>,
) -> Result<CompactOutcome> {
    let store = table.object_store();
    let time_column = time_column_index(schema).map(|i| schema.field(i).name().clone());
    // (first day, last day, stale, file); files without time statistics have no day.
    let mut candidates = Vec::new();
    for file in table.snapshot()?.log_data().iter() {
        let stale = plan.relayout && !layout::is_current(&store, &file.path(), file.size()).await?;
        if file.size() >= TARGET_FILE_BYTES && !stale {
            continue;
        }
        let stats = file.stats();
        let day = |of: fn(Option<&str>, &str) -> Option<i64>| {
            time_column
                .as_deref()
                .and_then(|c| of(stats.as_deref(), c))
                .map(|t| t.div_euclid(NANOS_PER_DAY))
        };
        let (first, last) = (day(min_of), day(max_of));
        candidates.push((first, last.max(first), stale, file));
    }
    let groups: Vec<_> = overlapping(candidates)
        .into_iter()
        .filter(|files| {
            files.iter().any(|(_, stale)| *stale) || files.len() >= plan.min_files.max(2)
        })
        .collect();
    if groups.is_empty() {
        return Ok(CompactOutcome::default());
    }
    let mut writer = RecordBatchWriter::for_table(table)?
        .with_writer_properties(plan.layout.writer_properties(schema)?);
    let delta_schema = writer.arrow_schema();
    let mut actions = Vec::new();
    let mut outcome = CompactOutcome::default();
    for files in &groups {
        let mut batches: Vec<RecordBatch> = Vec::new();
        for (file, _) in files {
            batches.extend(super::read_file(&store, file.path().as_ref(), schema).await?);
            actions.push(Action::Remove(file.remove_action(false)));
        }
        let merged = concat_batches(schema, &batches)?;
        for (_, day) in split_by_day(merged, time_column_index(schema))? {
            let arranged = plan.layout.arrange(&day.batch, plan.sort_key)?;
            writer
                .write(to_delta_layout(&arranged, &delta_schema)?)
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

/// `(first day, last day, stale, file)` grouped so that files whose day spans overlap share a
/// group; files without a day form one group of their own.
fn overlapping<F>(mut files: Vec<(Option<i64>, Option<i64>, bool, F)>) -> Vec<Vec<(F, bool)>> {
    files.sort_by_key(|(first, ..)| *first);
    let mut groups: Vec<Vec<(F, bool)>> = Vec::new();
    let mut reach: Option<Option<i64>> = None;
    for (first, last, stale, file) in files {
        match (&mut reach, groups.last_mut()) {
            // A dayless file only joins other dayless files; a dated one joins while it
            // starts on or before the last day the group reaches.
            (Some(r), Some(group)) if first.is_none() == r.is_none() && first <= *r => {
                *r = (*r).max(last);
                group.push((file, stale));
            }
            _ => {
                reach = Some(last);
                groups.push(vec![(file, stale)]);
            }
        }
    }
    groups
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
    fn files_whose_days_overlap_share_a_group() {
        let files = vec![
            (Some(3), Some(3), false, "d3"),
            (Some(1), Some(1), false, "d1"),
            (None, None, false, "x"),
            (Some(1), Some(3), true, "span"),
            (Some(5), Some(5), false, "d5"),
            (Some(2), Some(2), false, "d2"),
        ];
        let names: Vec<Vec<&str>> = overlapping(files)
            .into_iter()
            .map(|g| g.into_iter().map(|(f, _)| f).collect())
            .collect();
        assert_eq!(
            names,
            [vec!["x"], vec!["d1", "span", "d2", "d3"], vec!["d5"]]
        );
    }

    #[test]
    fn minimums_come_from_the_log_statistics() {
        let stats = r#"{"numRecords":2,"minValues":{"ts":86400000000001,"s":"a"},"maxValues":{}}"#;
        assert_eq!(min_of(Some(stats), "ts"), Some(86_400_000_000_001));
        assert_eq!(min_of(Some(stats), "s"), None);
        assert_eq!(min_of(None, "ts"), None);
        assert_eq!(min_of(Some("not json"), "ts"), None);
    }
}
