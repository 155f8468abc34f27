//! Day partitions of the hot tier and the chunks they hold.
//!
//! A table with a time column is partitioned by UTC day of that column, the unit kdb+ users
//! partition their HDB by and the unit the flush to Delta writes. Rows whose time is NULL, and
//! every row of a table without a time column, share one partition without a day.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, UInt32Array, make_array};
use arrow::compute::{CastOptions, cast_with_options, concat_batches, take_record_batch};
use arrow::datatypes::{DataType, TimeUnit, TimestampNanosecondType};

use super::footprint::retained_bytes;
use super::index::ChunkIndex;
use crate::error::Result;

/// Nanoseconds in a UTC day.
pub const NANOS_PER_DAY: i64 = 86_400 * 1_000_000_000;

/// Chunks below this many rows are merged as they arrive, so a stream of single-row INSERTs
/// still yields batches large enough for vectorised scans.
const SMALL_CHUNK_ROWS: usize = 8 * 1024;

/// How many small chunks may trail a partition before they are merged into one. Merging every
/// arrival would copy the whole growing chunk per INSERT (thousands of rows for one, under the
/// table's write lock); merging a run copies each row about once per run instead, and a scan
/// meets at most this many small batches per partition.
const SMALL_CHUNK_RUN: usize = 64;

/// Which partition a row belongs to: its UTC day (days since the epoch), or `None` when the table
/// has no time column or the row's time is NULL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartitionKey(pub Option<i64>);

impl PartitionKey {
    /// The key of a timestamp in nanoseconds.
    pub fn of_nanos(ts: i64) -> Self {
        Self(Some(ts.div_euclid(NANOS_PER_DAY)))
    }

    /// Inclusive nanosecond range the partition covers, if it has a day.
    pub fn nanos_range(self) -> Option<(i64, i64)> {
        self.0.map(|d| {
            let lo = d.saturating_mul(NANOS_PER_DAY);
            (lo, lo.saturating_add(NANOS_PER_DAY - 1))
        })
    }
}

/// An immutable batch plus the bounds of its time column, used to skip it in scans.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// The rows.
    pub batch: RecordBatch,
    /// Smallest and largest non-null time in the batch; `None` if there is no time column or
    /// every time is NULL.
    pub time_range: Option<(i64, i64)>,
    /// Its symbol and time indexes, built when a scan first needs them.
    pub(crate) index: Arc<ChunkIndex>,
}

impl Chunk {
    /// A chunk, computing its time bounds from column `time_col`.
    pub fn new(batch: RecordBatch, time_col: Option<usize>) -> Self {
        let time_range = time_col.and_then(|i| time_bounds(batch.column(i).as_ref()));
        Self {
            batch,
            time_range,
            index: Arc::default(),
        }
    }

    /// Whether any row may fall in the inclusive range `[lo, hi]`.
    pub fn overlaps(&self, lo: i64, hi: i64) -> bool {
        self.time_range
            .is_some_and(|(min, max)| min <= hi && max >= lo)
    }
}

/// All rows of one table for one day.
#[derive(Debug, Clone, Default)]
pub struct Partition {
    chunks: Vec<Chunk>,
    rows: usize,
    bytes: usize,
}

impl Partition {
    /// A partition holding `chunks`.
    pub fn from_chunks(chunks: Vec<Chunk>) -> Self {
        let rows = chunks.iter().map(|c| c.batch.num_rows()).sum();
        let bytes = chunks.iter().map(|c| retained_bytes(&c.batch)).sum();
        Self {
            chunks,
            rows,
            bytes,
        }
    }

    /// Appends a chunk; once `SMALL_CHUNK_RUN` (64) small chunks trail the partition, they are
    /// merged into one.
    pub fn push(&mut self, chunk: Chunk, time_col: Option<usize>) -> Result<()> {
        self.rows += chunk.batch.num_rows();
        self.bytes += retained_bytes(&chunk.batch);
        self.chunks.push(chunk);
        let small = |c: &Chunk| c.batch.num_rows() < SMALL_CHUNK_ROWS;
        let run = self.chunks.iter().rev().take_while(|c| small(c)).count();
        if run >= SMALL_CHUNK_RUN {
            let tail = self.chunks.split_off(self.chunks.len() - run);
            let schema = tail[0].batch.schema();
            let merged = concat_batches(&schema, tail.iter().map(|c| &c.batch))?;
            for c in &tail {
                self.bytes -= retained_bytes(&c.batch);
            }
            let merged = Chunk::new(merged, time_col);
            self.bytes += retained_bytes(&merged.batch);
            self.chunks.push(merged);
        }
        Ok(())
    }

    /// The chunks, oldest first.
    pub fn chunks(&self) -> &[Chunk] {
        &self.chunks
    }

    /// Rows held.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Arrow memory held, in bytes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

/// Smallest and largest non-null instant of a timestamp column, in nanoseconds.
fn time_bounds(col: &dyn Array) -> Option<(i64, i64)> {
    let ts = as_nanos(col)?;
    let ts = ts.as_primitive_opt::<TimestampNanosecondType>()?;
    let min = arrow::compute::min(ts)?;
    let max = arrow::compute::max(ts)?;
    Some((min, max))
}

/// A timestamp column of any unit as nanoseconds (`None` if it is not a timestamp column, or
/// holds an instant nanoseconds cannot count).
fn as_nanos(col: &dyn Array) -> Option<ArrayRef> {
    match col.data_type() {
        DataType::Timestamp(TimeUnit::Nanosecond, _) => Some(make_array(col.to_data())),
        DataType::Timestamp(_, tz) => {
            let strict = CastOptions {
                safe: false,
                ..Default::default()
            };
            let to = DataType::Timestamp(TimeUnit::Nanosecond, tz.clone());
            cast_with_options(col, &to, &strict).ok()
        }
        _ => None,
    }
}

/// Splits `batch` into one chunk per day of column `time_col`. The common case of a batch within
/// one day costs two passes over the time column and no copy.
pub fn split_by_day(
    batch: RecordBatch,
    time_col: Option<usize>,
) -> Result<Vec<(PartitionKey, Chunk)>> {
    if batch.num_rows() == 0 {
        return Ok(vec![]);
    }
    let Some(tc) = time_col else {
        return Ok(vec![(PartitionKey(None), Chunk::new(batch, None))]);
    };
    let Some(nanos) = as_nanos(batch.column(tc)) else {
        return Ok(vec![(PartitionKey(None), Chunk::new(batch, None))]);
    };
    let Some(ts) = nanos.as_primitive_opt::<TimestampNanosecondType>() else {
        return Ok(vec![(PartitionKey(None), Chunk::new(batch, None))]);
    };
    let bounds = time_bounds(ts);
    match bounds {
        None => return Ok(vec![(PartitionKey(None), Chunk::new(batch, None))]),
        Some((min, max))
            if ts.null_count() == 0
                && PartitionKey::of_nanos(min) == PartitionKey::of_nanos(max) =>
        {
            let chunk = Chunk {
                batch,
                time_range: bounds,
                index: Arc::default(),
            };
            return Ok(vec![(PartitionKey::of_nanos(min), chunk)]);
        }
        Some(_) => {}
    }
    let mut rows_by_day: BTreeMap<PartitionKey, Vec<u32>> = BTreeMap::new();
    for (row, value) in ts.iter().enumerate() {
        let key = value.map_or(PartitionKey(None), PartitionKey::of_nanos);
        // Batches are bounded by the request size limit, far below u32::MAX rows.
        rows_by_day.entry(key).or_default().push(row as u32);
    }
    rows_by_day
        .into_iter()
        .map(|(key, rows)| {
            let part = take_record_batch(&batch, &UInt32Array::from(rows))?;
            Ok((key, Chunk::new(part, Some(tc))))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, TimestampNanosecondArray};
    use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
    use std::sync::Arc;

    fn batch(ts: Vec<Option<i64>>) -> RecordBatch {
        let n = ts.len() as i64;
        let schema = Arc::new(Schema::new(vec![
            Field::new("v", DataType::Int64, true),
            Field::new(
                "ts",
                DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
                true,
            ),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from_iter_values(0..n)),
                Arc::new(TimestampNanosecondArray::from(ts).with_timezone("UTC")),
            ],
        )
        .unwrap()
    }

    #[test]
    fn one_day_is_not_copied() {
        let b = batch(vec![Some(10), Some(NANOS_PER_DAY - 1)]);
        let parts = split_by_day(b, Some(1)).unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].0, PartitionKey(Some(0)));
        assert_eq!(parts[0].1.time_range, Some((10, NANOS_PER_DAY - 1)));
    }

    #[test]
    fn rows_go_to_their_day_and_nulls_to_the_dayless_partition() {
        let b = batch(vec![
            Some(NANOS_PER_DAY + 5),
            None,
            Some(-1),
            Some(NANOS_PER_DAY),
        ]);
        let parts = split_by_day(b, Some(1)).unwrap();
        let keys: Vec<_> = parts.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            [
                PartitionKey(None),
                PartitionKey(Some(-1)),
                PartitionKey(Some(1))
            ]
        );
        let rows: Vec<_> = parts.iter().map(|(_, c)| c.batch.num_rows()).collect();
        assert_eq!(rows, [1, 1, 2]);
        assert_eq!(
            parts[2].1.time_range,
            Some((NANOS_PER_DAY, NANOS_PER_DAY + 5))
        );
    }

    #[test]
    fn small_chunks_merge_and_counts_stay_exact() {
        let mut p = Partition::default();
        for i in 0..100 {
            p.push(Chunk::new(batch(vec![Some(i)]), Some(1)), Some(1))
                .unwrap();
        }
        // The first run of 64 became one chunk; 36 small ones trail it.
        assert_eq!(p.chunks().len(), 1 + 100 - SMALL_CHUNK_RUN);
        assert_eq!(p.chunks()[0].batch.num_rows(), SMALL_CHUNK_RUN);
        assert_eq!(p.rows(), 100);
        assert_eq!(p.chunks()[0].time_range, Some((0, 63)));
        assert_eq!(p.chunks()[36].time_range, Some((99, 99)));
        let bytes: usize = p.chunks().iter().map(|c| retained_bytes(&c.batch)).sum();
        assert_eq!(p.bytes(), bytes);
        for i in 100..10_000 {
            p.push(Chunk::new(batch(vec![Some(i)]), Some(1)), Some(1))
                .unwrap();
        }
        assert!(
            p.chunks().len() <= 2 + SMALL_CHUNK_RUN,
            "{}",
            p.chunks().len()
        );
        assert!(p.chunks()[0].batch.num_rows() >= SMALL_CHUNK_ROWS);
        let rows: usize = p.chunks().iter().map(|c| c.batch.num_rows()).sum();
        assert_eq!((p.rows(), rows), (10_000, 10_000));
    }
}
