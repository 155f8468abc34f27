//! Indexes of one hot-tier chunk, built the first time a query can use them: the rows of each
//! symbol (kdb+'s parted attribute), whether the chunk is in time order (its sorted time,
//! which turns a time window into a binary search) and the [`ZoneMap`] of a numeric column.
//!
//! Chunks never change once made, so an index is built once and shared by every later scan;
//! a chunk no query filters by symbol never pays for one. A scan asks [`select`] for the rows of
//! a chunk that can match a [`Selection`]; what it returns is a superset of the matching rows
//! (DataFusion still applies every filter), so an index can only make a scan read less, never
//! answer differently.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, RecordBatchOptions, UInt32Array};
use arrow::compute::{cast, take_record_batch};
use arrow::datatypes::{DataType, TimestampNanosecondType};
use parking_lot::Mutex;

use super::partition::Chunk;
use super::zone::{BLOCK_ROWS, ValueRange, ZoneMap};
use crate::error::Result;

/// What a scan's filters say about the rows it needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    /// Inclusive nanosecond range of the time column.
    pub time_range: Option<(i64, i64)>,
    /// `SYMBOL` columns, each with the values it must equal (one of), all at once.
    pub symbols: Vec<(usize, Vec<String>)>,
    /// Numeric columns, each with a range its values must lie in, all at once.
    pub values: Vec<(usize, ValueRange)>,
    /// The columns the scan reads (all when `None`), in the order it wants them.
    pub columns: Option<Vec<usize>>,
}

/// The lazily built indexes of one chunk.
#[derive(Debug, Default)]
pub struct ChunkIndex {
    /// Whether the time column never decreases (and holds no NULL).
    time_sorted: OnceLock<bool>,
    /// Column position → the rows of each of its values.
    symbols: Mutex<HashMap<usize, Arc<SymbolRows>>>,
    /// Column position → its zone map (`None`: a type zone maps do not cover).
    zones: Mutex<HashMap<usize, Option<Arc<ZoneMap>>>>,
}

/// The rows of each value of a string column, grouped: `rows[start..start + len]` ascending.
#[derive(Debug)]
struct SymbolRows {
    spans: HashMap<Box<str>, (u32, u32)>,
    rows: Vec<u32>,
}

impl SymbolRows {
    /// Built in two passes: count the rows of each value, then place them. A column that is
    /// not plain `Utf8` is read as `Utf8`.
    fn build(column: &ArrayRef) -> Result<Self> {
        let column = match column.data_type() {
            DataType::Utf8 => Arc::clone(column),
            _ => cast(column, &DataType::Utf8)?,
        };
        let strings = column.as_string::<i32>();
        let mut ids: HashMap<&str, u32> = HashMap::new();
        let mut counts: Vec<u32> = Vec::new();
        let mut of_row: Vec<u32> = Vec::with_capacity(strings.len());
        for value in strings.iter() {
            let id = match value {
                Some(v) => *ids.entry(v).or_insert_with(|| {
                    counts.push(0);
                    counts.len() as u32 - 1
                }),
                None => u32::MAX,
            };
            if id != u32::MAX {
                counts[id as usize] += 1;
            }
            of_row.push(id);
        }
        let mut starts = Vec::with_capacity(counts.len());
        let mut next = 0u32;
        for &c in &counts {
            starts.push(next);
            next += c;
        }
        let mut fill = starts.clone();
        let mut rows = vec![0u32; next as usize];
        for (row, &id) in of_row.iter().enumerate() {
            if id != u32::MAX {
                rows[fill[id as usize] as usize] = row as u32;
                fill[id as usize] += 1;
            }
        }
        let spans = ids
            .into_iter()
            .map(|(v, id)| (v.into(), (starts[id as usize], counts[id as usize])))
            .collect();
        Ok(Self { spans, rows })
    }

    fn rows_of(&self, value: &str) -> &[u32] {
        self.spans.get(value).map_or(&[], |&(start, len)| {
            &self.rows[start as usize..(start + len) as usize]
        })
    }
}

impl ChunkIndex {
    fn time_sorted(&self, batch: &RecordBatch, time_col: usize) -> bool {
        *self.time_sorted.get_or_init(|| {
            batch
                .column(time_col)
                .as_primitive_opt::<TimestampNanosecondType>()
                .is_some_and(|ts| {
                    ts.null_count() == 0 && ts.values().windows(2).all(|w| w[0] <= w[1])
                })
        })
    }

    fn symbols(&self, batch: &RecordBatch, column: usize) -> Result<Arc<SymbolRows>> {
        if let Some(built) = self.symbols.lock().get(&column) {
            return Ok(Arc::clone(built));
        }
        // Built outside the lock: another scan may build the same index meanwhile, and the
        // first one stored wins (both are the same).
        let built = Arc::new(SymbolRows::build(batch.column(column))?);
        Ok(Arc::clone(
            self.symbols.lock().entry(column).or_insert(built),
        ))
    }

    fn zones(&self, batch: &RecordBatch, column: usize) -> Option<Arc<ZoneMap>> {
        if let Some(built) = self.zones.lock().get(&column) {
            return built.clone();
        }
        let built = ZoneMap::build(batch.column(column)).map(Arc::new);
        self.zones.lock().entry(column).or_insert(built).clone()
    }

    /// Which blocks of [`BLOCK_ROWS`] rows may hold a match for every value range; `None`
    /// when no range applies to this chunk.
    fn blocks(&self, batch: &RecordBatch, values: &[(usize, ValueRange)]) -> Option<Vec<bool>> {
        let mut keep: Option<Vec<bool>> = None;
        for (column, range) in values {
            let Some(zones) = self.zones(batch, *column) else {
                continue;
            };
            let keep = keep.get_or_insert_with(|| vec![true; zones.blocks()]);
            for (b, k) in keep.iter_mut().enumerate() {
                *k = *k && zones.may_match(b, range);
            }
        }
        keep
    }
}

/// The rows of `chunk` that can match `selection` (`time_col` is the table's time column), in
/// the selection's columns: nothing when none can, else the whole batch, slices of it (no
/// copy) or the rows taken out. The symbol constraints are applied exactly (the provider reports
/// them as exact filters); the time range only where the chunk is in time order; value ranges
/// by block, loosely.
pub fn select(
    chunk: &Chunk,
    selection: &Selection,
    time_col: Option<usize>,
) -> Result<Vec<RecordBatch>> {
    let batch = &chunk.batch;
    let columns = match &selection.columns {
        Some(columns) => batch.project(columns)?,
        None => batch.clone(),
    };
    // The rows [from, to) of a time-sorted chunk that fall in the time range.
    let (from, to) = match (selection.time_range, time_col) {
        (Some((lo, hi)), Some(tc)) if chunk.index.time_sorted(batch, tc) => {
            let values = batch
                .column(tc)
                .as_primitive::<TimestampNanosecondType>()
                .values();
            (
                values.partition_point(|&t| t < lo),
                values.partition_point(|&t| t <= hi),
            )
        }
        _ => (0, batch.num_rows()),
    };
    if from >= to {
        return Ok(Vec::new());
    }
    let blocks = chunk.index.blocks(batch, &selection.values);
    let in_kept_block = |r: usize| blocks.as_ref().is_none_or(|k| k[r / BLOCK_ROWS]);
    let mut rows: Option<Vec<u32>> = None;
    for (column, values) in &selection.symbols {
        let index = chunk.index.symbols(batch, *column)?;
        let mut of_values: Vec<u32> = Vec::new();
        for value in values {
            let of_value = index.rows_of(value);
            let start = of_value.partition_point(|&r| (r as usize) < from);
            let end = of_value.partition_point(|&r| (r as usize) < to);
            of_values.extend(
                of_value[start..end]
                    .iter()
                    .filter(|&&r| in_kept_block(r as usize)),
            );
        }
        if values.len() > 1 {
            of_values.sort_unstable();
            of_values.dedup();
        }
        rows = Some(match rows {
            None => of_values,
            Some(earlier) => intersect(&earlier, &of_values),
        });
    }
    let Some(rows) = rows else {
        return Ok(runs(from, to, blocks.as_deref())
            .into_iter()
            .map(|(start, end)| {
                if end - start < batch.num_rows() {
                    columns.slice(start, end - start)
                } else {
                    columns.clone()
                }
            })
            .collect());
    };
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    if rows.len() == batch.num_rows() {
        return Ok(vec![columns]);
    }
    if columns.num_columns() == 0 {
        // `count(*)`: only how many rows.
        let options = RecordBatchOptions::new().with_row_count(Some(rows.len()));
        return Ok(vec![RecordBatch::try_new_with_options(
            columns.schema(),
            vec![],
            &options,
        )?]);
    }
    Ok(vec![take_record_batch(&columns, &UInt32Array::from(rows))?])
}

/// The row ranges within `[from, to)` that lie in kept blocks (all of it without a block map),
/// adjacent kept blocks joined.
fn runs(from: usize, to: usize, blocks: Option<&[bool]>) -> Vec<(usize, usize)> {
    let Some(keep) = blocks else {
        return vec![(from, to)];
    };
    let mut out: Vec<(usize, usize)> = Vec::new();
    for b in from / BLOCK_ROWS..to.div_ceil(BLOCK_ROWS) {
        if !keep.get(b).copied().unwrap_or(true) {
            continue;
        }
        let (start, end) = ((b * BLOCK_ROWS).max(from), ((b + 1) * BLOCK_ROWS).min(to));
        match out.last_mut() {
            Some(last) if last.1 == start => last.1 = end,
            _ => out.push((start, end)),
        }
    }
    out
}

/// The rows in both ascending lists.
fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Int64Array, StringArray, TimestampNanosecondArray};
    use arrow::datatypes::Int64Type;

    use super::*;

    fn chunk(symbols: Vec<Option<&str>>, times: Vec<i64>) -> Chunk {
        let ids: Vec<i64> = (0..symbols.len() as i64).collect();
        let batch = RecordBatch::try_from_iter(vec![
            ("symbol", Arc::new(StringArray::from(symbols)) as ArrayRef),
            (
                "ts",
                Arc::new(TimestampNanosecondArray::from(times)) as ArrayRef,
            ),
            ("id", Arc::new(Int64Array::from(ids)) as ArrayRef),
        ])
        .unwrap();
        Chunk::new(batch, Some(1))
    }

    fn ids(batches: Vec<RecordBatch>) -> Vec<i64> {
        batches
            .iter()
            .flat_map(|b| b.column(2).as_primitive::<Int64Type>().values().to_vec())
            .collect()
    }

    fn symbols(values: &[&str]) -> Vec<(usize, Vec<String>)> {
        vec![(0, values.iter().map(|v| v.to_string()).collect())]
    }

    #[test]
    fn symbols_and_time_windows_select_rows_in_order() {
        let c = chunk(
            vec![Some("a"), Some("b"), None, Some("a"), Some("c"), Some("a")],
            vec![1, 2, 3, 4, 5, 6],
        );
        let sel = |time_range, symbols| Selection {
            time_range,
            symbols,
            ..Default::default()
        };
        let pick = |s: Selection| ids(select(&c, &s, Some(1)).unwrap());
        assert_eq!(pick(sel(None, symbols(&["a"]))), [0, 3, 5]);
        assert_eq!(pick(sel(None, symbols(&["c", "b"]))), [1, 4]);
        assert_eq!(pick(sel(None, symbols(&["z"]))), Vec::<i64>::new());
        assert_eq!(pick(sel(Some((2, 4)), vec![])), [1, 2, 3]);
        assert_eq!(pick(sel(Some((2, 5)), symbols(&["a"]))), [3]);
        assert_eq!(pick(sel(Some((7, 9)), vec![])), Vec::<i64>::new());
        assert_eq!(pick(sel(None, vec![])), [0, 1, 2, 3, 4, 5]);
        // Several constraints hold at once.
        let both = [symbols(&["a", "b"]), symbols(&["b", "c"])].concat();
        assert_eq!(pick(sel(None, both)), [1]);
    }

    #[test]
    fn an_unsorted_chunk_is_not_cut_by_time() {
        let c = chunk(vec![Some("a"), Some("b"), Some("a")], vec![5, 1, 3]);
        let s = Selection {
            time_range: Some((2, 4)),
            ..Default::default()
        };
        assert_eq!(ids(select(&c, &s, Some(1)).unwrap()), [0, 1, 2]);
        let s = Selection {
            time_range: Some((2, 4)),
            symbols: symbols(&["a"]),
            ..Default::default()
        };
        assert_eq!(ids(select(&c, &s, Some(1)).unwrap()), [0, 2]);
    }

    #[test]
    fn only_the_scanned_columns_are_taken_even_none() {
        let c = chunk(vec![Some("a"), Some("b"), Some("a")], vec![1, 2, 3]);
        let s = Selection {
            symbols: symbols(&["a"]),
            columns: Some(vec![2, 0]),
            ..Default::default()
        };
        let out = select(&c, &s, Some(1)).unwrap().remove(0);
        assert_eq!(out.schema().field(0).name(), "id");
        assert_eq!(out.num_columns(), 2);
        assert_eq!(out.column(0).as_primitive::<Int64Type>().values(), &[0, 2]);
        let s = Selection {
            symbols: symbols(&["a"]),
            columns: Some(vec![]),
            ..Default::default()
        };
        let out = select(&c, &s, Some(1)).unwrap().remove(0);
        assert_eq!((out.num_columns(), out.num_rows()), (0, 2));
    }

    #[test]
    fn value_ranges_skip_blocks_and_keep_every_match() {
        // ids 0..n in order: block b holds ids [b·B, (b+1)·B).
        let n = BLOCK_ROWS * 4 + 100;
        let c = chunk(vec![Some("a"); n], (0..n as i64).collect());
        let range = |lo: i64, hi: i64| Selection {
            values: vec![(2, ValueRange::Int(Some(lo), Some(hi)))],
            ..Default::default()
        };
        let b = BLOCK_ROWS as i64;
        // Two blocks, as slices of the chunk (no copy), joined where adjacent.
        let out = select(&c, &range(b + 5, 2 * b + 5), Some(1)).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(ids(out), (b..3 * b).collect::<Vec<_>>());
        // Disjoint blocks come as separate slices, with the time window applied too.
        let mut s = range(0, 4 * b + 1000);
        s.values.push((2, ValueRange::Int(None, Some(10))));
        assert_eq!(
            ids(select(&c, &s, Some(1)).unwrap()),
            (0..b).collect::<Vec<_>>()
        );
        let s = Selection {
            time_range: Some((3, 7)),
            ..range(0, 5)
        };
        assert_eq!(ids(select(&c, &s, Some(1)).unwrap()), [3, 4, 5, 6, 7]);
        // With a symbol constraint the kept rows are taken from kept blocks only.
        let s = Selection {
            symbols: symbols(&["a"]),
            ..range(4 * b, 4 * b)
        };
        assert_eq!(
            ids(select(&c, &s, Some(1)).unwrap()),
            (4 * b..n as i64).collect::<Vec<_>>()
        );
        // A range no block meets selects nothing; a range on a column without zones, everything.
        assert!(select(&c, &range(-10, -1), Some(1)).unwrap().is_empty());
        let s = Selection {
            values: vec![(0, ValueRange::Int(Some(1), Some(1)))],
            ..Default::default()
        };
        assert_eq!(ids(select(&c, &s, Some(1)).unwrap()).len(), n);
    }
}
