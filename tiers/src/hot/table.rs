//! One table of the hot tier: its schema and day partitions behind a single lock.
//!
//! Writers do the expensive work (casting, splitting by day) before taking the lock and hold it
//! only to link chunks in; readers hold it only to clone `Arc`s of the chunks they will scan.
//! Every change (append, rewrite, schema change) is applied whole or not at all.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use parking_lot::RwLock;
use strata_catalog::TableDefinition;

use super::index::{self, Selection};
use super::partition::{Chunk, Partition, PartitionKey, split_by_day};
use crate::error::{Error, Result};
use crate::hdb::HdbView;
use crate::stats::TableStats;

/// The rows of one table held in memory.
#[derive(Debug)]
pub struct HotTable {
    name: String,
    state: RwLock<TableState>,
}

#[derive(Debug, Clone)]
struct TableState {
    schema: SchemaRef,
    time_col: Option<usize>,
    /// What flushed files are sorted by (the definition's sort key).
    sort_key: Vec<String>,
    /// Rows taking writes.
    partitions: BTreeMap<PartitionKey, Partition>,
    /// WAL sequences of the rows in `partitions` (`None` in memory-only mode or when empty).
    active_seqs: Option<SeqRange>,
    /// Rows being flushed to the HDB: still visible here until the commit that holds them is
    /// visible through `hdb`, then dropped in the same step.
    frozen: Option<Frozen>,
    /// The HDB version scans read alongside the hot rows.
    hdb: Option<HdbView>,
    /// When the oldest row of `partitions` arrived.
    active_since: Option<Instant>,
}

/// What the rows taking writes amount to, for the flush policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    /// Rows.
    pub rows: usize,
    /// Arrow bytes.
    pub bytes: usize,
    /// When the oldest arrived (`None`: no rows).
    pub since: Option<Instant>,
}

/// Inclusive range of WAL sequence numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqRange {
    /// Oldest.
    pub first: u64,
    /// Newest.
    pub last: u64,
}

impl SeqRange {
    fn extend(range: Option<Self>, seq: u64) -> Option<Self> {
        Some(match range {
            None => Self {
                first: seq,
                last: seq,
            },
            Some(r) => Self {
                first: r.first.min(seq),
                last: r.last.max(seq),
            },
        })
    }
}

#[derive(Debug, Clone)]
struct Frozen {
    partitions: BTreeMap<PartitionKey, Partition>,
    seqs: Option<SeqRange>,
}

/// Rows handed to a flush: every day's batches, and the WAL sequences they cover.
#[derive(Debug, Clone)]
pub struct FrozenRows {
    /// The schema of the batches.
    pub schema: SchemaRef,
    /// Batches per day, oldest day first.
    pub days: Vec<(PartitionKey, Vec<RecordBatch>)>,
    /// WAL sequences covered.
    pub seqs: Option<SeqRange>,
    /// Total rows.
    pub rows: usize,
    /// The columns the flushed files are sorted by (empty: symbol, then time).
    pub sort_key: Vec<String>,
}

/// What a scan reads: the batches of the partitions and chunks that survived pruning.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The table schema the batches follow.
    pub schema: SchemaRef,
    /// Batches to scan, oldest partition first.
    pub batches: Vec<RecordBatch>,
    /// Total rows in `batches`.
    pub rows: usize,
    /// The HDB version to read together with `batches` (tiered mode).
    pub hdb: Option<HdbView>,
}

/// The effect of an append.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppendOutcome {
    /// Rows added.
    pub rows: usize,
    /// Partitions that did not exist before.
    pub new_partitions: usize,
}

impl HotTable {
    /// An empty table following `def`.
    pub fn new(def: &TableDefinition) -> Self {
        Self {
            name: def.name().to_string(),
            state: RwLock::new(TableState {
                schema: def.arrow_schema(),
                time_col: def.time_column(),
                sort_key: def.sort_key().to_vec(),
                partitions: BTreeMap::new(),
                active_seqs: None,
                frozen: None,
                hdb: None,
                active_since: None,
            }),
        }
    }

    /// Table name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Current schema.
    pub fn schema(&self) -> SchemaRef {
        Arc::clone(&self.state.read().schema)
    }

    /// The columns flushed files are sorted by (empty: symbol, then time).
    pub fn sort_key(&self) -> Vec<String> {
        self.state.read().sort_key.clone()
    }

    /// Appends batches that were built against `schema`. Fails with
    /// [`Error::SchemaChanged`] if the table was altered since, so no row is ever stored under
    /// the wrong columns.
    pub fn append(&self, schema: &SchemaRef, batches: Vec<RecordBatch>) -> Result<AppendOutcome> {
        self.append_logged(schema, batches, None)
    }

    /// [`HotTable::append`] of rows logged in the WAL as record `seq`.
    pub fn append_logged(
        &self,
        schema: &SchemaRef,
        batches: Vec<RecordBatch>,
        seq: Option<u64>,
    ) -> Result<AppendOutcome> {
        let time_col = {
            let state = self.state.read();
            self.check_schema(&state, schema)?;
            state.time_col
        };
        let mut pieces = Vec::new();
        for batch in batches {
            // Re-label with the table schema: same columns, but the table's field metadata and
            // nullability, so every stored batch has one schema.
            let batch = RecordBatch::try_new(Arc::clone(schema), batch.columns().to_vec())?;
            pieces.extend(split_by_day(batch, time_col)?);
        }
        let rows = pieces.iter().map(|(_, c)| c.batch.num_rows()).sum();
        let mut state = self.state.write();
        self.check_schema(&state, schema)?;
        let before = state.partitions.len();
        if let Some(seq) = seq {
            state.active_seqs = SeqRange::extend(state.active_seqs, seq);
        }
        if rows > 0 && state.active_since.is_none() {
            state.active_since = Some(Instant::now());
        }
        for (key, chunk) in pieces {
            state
                .partitions
                .entry(key)
                .or_default()
                .push(chunk, time_col)?;
        }
        Ok(AppendOutcome {
            rows,
            new_partitions: state.partitions.len() - before,
        })
    }

    /// The batches a scan must read. Partitions and chunks outside the selection's time range
    /// (inclusive nanoseconds) are skipped, and each chunk's indexes narrow it to the rows that
    /// can match ([`index::select`]): a superset of the matching rows, never fewer.
    pub fn snapshot(&self, selection: &Selection) -> Result<Snapshot> {
        let time_range = selection.time_range;
        let (chunks, schema, hdb, time_col) = {
            let state = self.state.read();
            let mut chunks = Vec::new();
            let frozen = state.frozen.iter().flat_map(|f| f.partitions.iter());
            for (key, partition) in frozen.chain(state.partitions.iter()) {
                if let Some((lo, hi)) = time_range {
                    match key.nanos_range() {
                        Some((start, end)) if start <= hi && end >= lo => {}
                        _ => continue,
                    }
                }
                for chunk in partition.chunks() {
                    if let Some((lo, hi)) = time_range
                        && !chunk.overlaps(lo, hi)
                    {
                        continue;
                    }
                    chunks.push(chunk.clone());
                }
            }
            let schema = Arc::clone(&state.schema);
            (chunks, schema, state.hdb.clone(), state.time_col)
        };
        // Indexes are built (once per chunk) and used outside the table's lock.
        let mut batches = Vec::with_capacity(chunks.len());
        let mut rows = 0;
        for chunk in &chunks {
            for batch in index::select(chunk, selection, time_col)? {
                rows += batch.num_rows();
                batches.push(batch);
            }
        }
        Ok(Snapshot {
            schema,
            batches,
            rows,
            hdb,
        })
    }

    /// Hands the rows taking writes to a flush: they move to a frozen set that stays visible,
    /// and new writes start fresh partitions. If an earlier flush failed, its frozen rows are
    /// handed out again (new writes keep waiting for the next flush). `None`: nothing to flush.
    pub fn freeze(&self) -> Option<FrozenRows> {
        let mut state = self.state.write();
        if state.frozen.is_none() {
            if state.partitions.is_empty() {
                return None;
            }
            let partitions = std::mem::take(&mut state.partitions);
            let seqs = state.active_seqs.take();
            state.active_since = None;
            state.frozen = Some(Frozen { partitions, seqs });
        }
        let frozen = state.frozen.as_ref()?;
        let days = frozen
            .partitions
            .iter()
            .map(|(k, p)| (*k, p.chunks().iter().map(|c| c.batch.clone()).collect()))
            .collect();
        Some(FrozenRows {
            schema: Arc::clone(&state.schema),
            days,
            seqs: frozen.seqs,
            rows: frozen.partitions.values().map(Partition::rows).sum(),
            sort_key: state.sort_key.clone(),
        })
    }

    /// The flush committed: the frozen rows are now in `hdb`; both switch in one step so every
    /// row stays visible exactly once.
    pub fn finish_flush(&self, hdb: HdbView) {
        let mut state = self.state.write();
        state.frozen = None;
        state.hdb = Some(hdb);
    }

    /// Points scans at a new HDB version (after a commit that did not come from a flush).
    pub fn set_hdb(&self, hdb: HdbView) {
        self.state.write().hdb = Some(hdb);
    }

    /// Removes the in-memory days before `day` (days since the epoch; TTL). Rows being flushed
    /// are left to the HDB's expiry. Returns the rows removed.
    pub fn drop_days_before(&self, day: i64) -> usize {
        let mut state = self.state.write();
        let expired: Vec<PartitionKey> = state
            .partitions
            .keys()
            .filter(|k| k.0.is_some_and(|d| d < day))
            .copied()
            .collect();
        expired
            .iter()
            .filter_map(|k| state.partitions.remove(k))
            .map(|p| p.rows())
            .sum()
    }

    /// Whether rows of a failed flush wait for its retry.
    pub fn has_frozen(&self) -> bool {
        self.state.read().frozen.is_some()
    }

    /// The rows taking writes (not those being flushed).
    pub fn pending(&self) -> Pending {
        let state = self.state.read();
        Pending {
            rows: state.partitions.values().map(Partition::rows).sum(),
            bytes: state.partitions.values().map(Partition::bytes).sum(),
            since: state.active_since,
        }
    }

    /// The oldest WAL sequence whose rows are only in memory.
    pub fn oldest_unflushed_seq(&self) -> Option<u64> {
        let state = self.state.read();
        let frozen = state.frozen.as_ref().and_then(|f| f.seqs).map(|r| r.first);
        let active = state.active_seqs.map(|r| r.first);
        match (frozen, active) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Rows held in memory (taking writes + being flushed) and their Arrow bytes.
    pub fn memory(&self) -> (usize, usize) {
        let state = self.state.read();
        let frozen = state.frozen.iter().flat_map(|f| f.partitions.values());
        frozen
            .chain(state.partitions.values())
            .fold((0, 0), |(r, b), p| (r + p.rows(), b + p.bytes()))
    }

    /// Rewrites the table batch by batch, as UPDATE and DELETE do. `change` returns `None` for a
    /// batch it leaves alone, or its replacement (possibly empty). Nothing is changed unless every
    /// batch succeeds. Rewritten rows are re-partitioned, since their time may have changed.
    pub fn rewrite(
        &self,
        schema: &SchemaRef,
        mut change: impl FnMut(&RecordBatch) -> Result<Option<RecordBatch>>,
    ) -> Result<()> {
        let mut state = self.state.write();
        self.check_schema(&state, schema)?;
        let time_col = state.time_col;
        let mut next: BTreeMap<PartitionKey, Partition> = BTreeMap::new();
        for (key, partition) in &state.partitions {
            for chunk in partition.chunks() {
                match change(&chunk.batch)? {
                    None => next
                        .entry(*key)
                        .or_default()
                        .push(chunk.clone(), time_col)?,
                    Some(batch) => {
                        for (k, c) in split_by_day(batch, time_col)? {
                            next.entry(k).or_default().push(c, time_col)?;
                        }
                    }
                }
            }
        }
        state.partitions = next;
        Ok(())
    }

    /// Moves the table to a new definition (ALTER TABLE), converting every batch with `adapt`.
    pub fn change_schema(
        &self,
        def: &TableDefinition,
        adapt: impl Fn(&RecordBatch, &SchemaRef) -> Result<RecordBatch>,
    ) -> Result<()> {
        let schema = def.arrow_schema();
        let time_col = def.time_column();
        let convert = |parts: &BTreeMap<PartitionKey, Partition>| {
            parts
                .iter()
                .map(|(key, partition)| {
                    let chunks = partition
                        .chunks()
                        .iter()
                        .map(|c| Ok(Chunk::new(adapt(&c.batch, &schema)?, time_col)))
                        .collect::<Result<Vec<_>>>()?;
                    Ok((*key, Partition::from_chunks(chunks)))
                })
                .collect::<Result<BTreeMap<_, _>>>()
        };
        let mut state = self.state.write();
        let partitions = convert(&state.partitions)?;
        let frozen = match &state.frozen {
            Some(f) => Some(Frozen {
                partitions: convert(&f.partitions)?,
                seqs: f.seqs,
            }),
            None => None,
        };
        state.schema = Arc::clone(&schema);
        state.time_col = time_col;
        state.sort_key = def.sort_key().to_vec();
        state.partitions = partitions;
        state.frozen = frozen;
        Ok(())
    }

    /// Rows, bytes and partitions held.
    pub fn stats(&self) -> TableStats {
        let state = self.state.read();
        let frozen = state.frozen.iter().flat_map(|f| f.partitions.values());
        let all: Vec<&Partition> = frozen.chain(state.partitions.values()).collect();
        let (hdb_rows, hdb_files, hdb_version) = match &state.hdb {
            Some(hdb) => hdb_figures(hdb),
            None => (0, 0, None),
        };
        TableStats {
            name: self.name.clone(),
            rows: all.iter().map(|p| p.rows() as u64).sum(),
            bytes: all.iter().map(|p| p.bytes() as u64).sum(),
            partitions: all.len() as u64,
            hdb_rows,
            hdb_files,
            hdb_version,
        }
    }

    /// Fails with [`Error::SchemaChanged`] unless `schema` is the table's current schema.
    pub fn ensure_schema(&self, schema: &SchemaRef) -> Result<()> {
        self.check_schema(&self.state.read(), schema)
    }

    fn check_schema(&self, state: &TableState, schema: &SchemaRef) -> Result<()> {
        if Arc::ptr_eq(&state.schema, schema) || state.schema == *schema {
            Ok(())
        } else {
            Err(Error::SchemaChanged(self.name.clone()))
        }
    }
}

/// Rows, files and version of an HDB view, from its Delta log.
fn hdb_figures(hdb: &HdbView) -> (u64, u64, Option<u64>) {
    let Ok(snapshot) = hdb.snapshot() else {
        return (0, 0, None);
    };
    let (rows, files) = snapshot
        .log_data()
        .iter()
        .fold((0u64, 0u64), |(r, f), file| {
            (r + file.num_records().unwrap_or(0) as u64, f + 1)
        });
    (rows, files, hdb.version())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hot::partition::NANOS_PER_DAY;
    use arrow::array::{Int64Array, TimestampNanosecondArray};
    use strata_catalog::{ColumnDef, ColumnType};

    fn all() -> Selection {
        Selection::default()
    }

    fn within(lo: i64, hi: i64) -> Selection {
        Selection {
            time_range: Some((lo, hi)),
            ..Default::default()
        }
    }

    fn table() -> HotTable {
        let def = TableDefinition::new(
            "t",
            vec![
                ColumnDef::new("v", ColumnType::Int64).unwrap(),
                ColumnDef::new("ts", ColumnType::TimestampNs).unwrap(),
            ],
        )
        .unwrap();
        HotTable::new(&def)
    }

    fn batch(schema: &SchemaRef, rows: &[(i64, i64)]) -> RecordBatch {
        RecordBatch::try_new(
            Arc::clone(schema),
            vec![
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0))),
                Arc::new(
                    TimestampNanosecondArray::from_iter_values(rows.iter().map(|r| r.1))
                        .with_timezone("UTC"),
                ),
            ],
        )
        .unwrap()
    }

    #[test]
    fn append_partitions_by_day_and_snapshot_prunes() {
        let t = table();
        let s = t.schema();
        let out = t
            .append(
                &s,
                vec![batch(&s, &[(1, 5), (2, NANOS_PER_DAY + 5), (3, 6)])],
            )
            .unwrap();
        assert_eq!(
            out,
            AppendOutcome {
                rows: 3,
                new_partitions: 2
            }
        );
        assert_eq!(t.snapshot(&all()).unwrap().rows, 3);
        assert_eq!(t.snapshot(&within(0, 10)).unwrap().rows, 2);
        assert_eq!(
            t.snapshot(&within(NANOS_PER_DAY, i64::MAX)).unwrap().rows,
            1
        );
        assert_eq!(
            t.snapshot(&within(7, 100)).unwrap().rows,
            0,
            "chunk bounds prune too"
        );
        let stats = t.stats();
        assert_eq!((stats.rows, stats.partitions), (3, 2));
    }

    #[test]
    fn a_failed_rewrite_changes_nothing() {
        let t = table();
        let s = t.schema();
        t.append(&s, vec![batch(&s, &[(1, 5)])]).unwrap();
        t.append(&s, vec![batch(&s, &[(2, NANOS_PER_DAY)])])
            .unwrap();
        let mut seen = 0;
        let err = t.rewrite(&s, |_| {
            seen += 1;
            if seen == 2 {
                Err(Error::InvalidData("boom".into()))
            } else {
                Ok(Some(batch(&s, &[])))
            }
        });
        assert!(err.is_err());
        assert_eq!(t.snapshot(&all()).unwrap().rows, 2);
    }

    #[test]
    fn rewrite_moves_rows_whose_day_changed() {
        let t = table();
        let s = t.schema();
        t.append(&s, vec![batch(&s, &[(1, 5)])]).unwrap();
        t.rewrite(&s, |b| {
            Ok(Some(batch(&s, &[(1, 3 * NANOS_PER_DAY)])).filter(|_| b.num_rows() > 0))
        })
        .unwrap();
        assert_eq!(t.snapshot(&within(0, 10)).unwrap().rows, 0);
        assert_eq!(
            t.snapshot(&within(3 * NANOS_PER_DAY, i64::MAX))
                .unwrap()
                .rows,
            1
        );
    }

    #[test]
    fn writes_against_an_old_schema_are_refused() {
        let t = table();
        let old = t.schema();
        let def = TableDefinition::new(
            "t",
            vec![
                ColumnDef::new("v", ColumnType::Int64).unwrap(),
                ColumnDef::new("ts", ColumnType::TimestampNs).unwrap(),
                ColumnDef::new("x", ColumnType::Bool).unwrap(),
            ],
        )
        .unwrap();
        t.change_schema(&def, |b, _| Ok(b.clone())).unwrap();
        let err = t.append(&old, vec![batch(&old, &[(1, 1)])]).unwrap_err();
        assert!(matches!(err, Error::SchemaChanged(_)));
    }
}
