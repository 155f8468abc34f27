//! The right side of an as-of or window join, indexed by key and time: kdb+'s `` `g#sym ``
//! with time sorted inside each symbol, built once per query and shared by every left
//! partition.
//!
//! Rows are grouped by their key columns (encoded with Arrow's row format, so any key types
//! and any number of keys work alike) and sorted by time inside each group; rows with the same
//! time keep the order they arrived in, so "the last row at or before t" is the one read last,
//! as in kdb+. Rows whose key or time is NULL can never match and are left out.

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::buffer::ScalarBuffer;
use arrow::compute::concat_batches;
use arrow::datatypes::{DataType, Float64Type, Int64Type, SchemaRef};
use arrow::row::{RowConverter, Rows, SortField};
use datafusion::common::HashMap;
use datafusion::error::{DataFusionError, Result};
use datafusion::physical_plan::PhysicalExpr;
use std::sync::Arc;

/// One evaluated time column: its values as ordered integers, and which are NULL.
#[derive(Debug)]
pub struct Times {
    values: ScalarBuffer<i64>,
    nulls: Option<arrow::buffer::NullBuffer>,
}

impl Times {
    /// The times of `array`, an `Int64` or `Float64` column (the planner casts every time
    /// expression to one of them). Doubles become integers in the same order.
    pub fn of(array: &ArrayRef) -> Result<Self> {
        let values = match array.data_type() {
            // Shared with the array, not copied.
            DataType::Int64 => array.as_primitive::<Int64Type>().values().clone(),
            DataType::Float64 => array
                .as_primitive::<Float64Type>()
                .values()
                .iter()
                .map(|f| ordered(*f))
                .collect::<Vec<i64>>()
                .into(),
            other => {
                return Err(DataFusionError::Internal(format!(
                    "a join time is {other}, not Int64 or Float64"
                )));
            }
        };
        Ok(Self {
            values,
            nulls: array.nulls().cloned(),
        })
    }

    /// The time of row `i`, `None` if NULL.
    pub fn get(&self, i: usize) -> Option<i64> {
        match &self.nulls {
            Some(nulls) if nulls.is_null(i) => None,
            _ => Some(self.values[i]),
        }
    }
}

/// A double as an integer of the same order (IEEE 754 total order).
fn ordered(f: f64) -> i64 {
    let bits = f.to_bits() as i64;
    bits ^ ((((bits >> 63) as u64) >> 1) as i64)
}

/// Evaluates `exprs` over `batch`.
pub fn evaluate(exprs: &[Arc<dyn PhysicalExpr>], batch: &RecordBatch) -> Result<Vec<ArrayRef>> {
    exprs
        .iter()
        .map(|e| e.evaluate(batch)?.into_array(batch.num_rows()))
        .collect()
}

/// Keys encoded as rows, and which rows have a NULL key.
#[derive(Debug)]
pub struct Keys {
    /// `None` for a join without keys.
    rows: Option<Rows>,
    nulls: Vec<bool>,
}

impl Keys {
    /// The encoded key of row `i`, `None` when one of its keys is NULL.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        if self.nulls[i] {
            return None;
        }
        Some(
            self.rows
                .as_ref()
                .map_or(&[][..], |rows| rows.row(i).data()),
        )
    }
}

/// The right side, grouped by key and sorted by time.
#[derive(Debug)]
pub struct TimeIndex {
    /// Every right row, as one batch (indexes below are rows of it).
    pub batch: RecordBatch,
    converter: RowConverter,
    /// Encoded key → group number.
    groups: HashMap<Box<[u8]>, u32>,
    /// Group `g` is `order[starts[g]..starts[g + 1]]`.
    starts: Vec<usize>,
    /// Row numbers of `batch`, by group, then time, then arrival.
    order: Vec<u32>,
    /// `times[i]` is the time of `order[i]`.
    times: Vec<i64>,
    /// Whether the join has no key: then every row is in group 0.
    keyless: bool,
}

impl TimeIndex {
    /// Indexes `batches` (of `schema`) by the values of `keys` and `time`.
    pub fn build(
        schema: &SchemaRef,
        batches: &[RecordBatch],
        keys: &[Arc<dyn PhysicalExpr>],
        time: &Arc<dyn PhysicalExpr>,
    ) -> Result<Self> {
        let batch = concat_batches(schema, batches)?;
        if batch.num_rows() > u32::MAX as usize {
            return Err(DataFusionError::ResourcesExhausted(format!(
                "the right side of a join has {} rows, more than {} can be indexed",
                batch.num_rows(),
                u32::MAX
            )));
        }
        let key_arrays = evaluate(keys, &batch)?;
        let converter = RowConverter::new(
            key_arrays
                .iter()
                .map(|a| SortField::new(a.data_type().clone()))
                .collect(),
        )?;
        let encoded = encode(&converter, &key_arrays, batch.num_rows())?;
        let time_array = time.evaluate(&batch)?.into_array(batch.num_rows())?;
        let row_times = Times::of(&time_array)?;

        // Group numbers in order of first appearance; then a counting sort by group keeps
        // arrival order inside each, and a stable sort by time keeps it among equal times.
        let mut groups: HashMap<Box<[u8]>, u32> = HashMap::new();
        let mut group_of = vec![u32::MAX; batch.num_rows()];
        let mut sizes: Vec<usize> = Vec::new();
        for (i, slot) in group_of.iter_mut().enumerate() {
            let (Some(key), Some(_)) = (encoded.get(i), row_times.get(i)) else {
                continue;
            };
            let next = groups.len() as u32;
            let g = *groups.entry_ref(key).or_insert(next);
            if g as usize == sizes.len() {
                sizes.push(0);
            }
            sizes[g as usize] += 1;
            *slot = g;
        }
        let mut starts = Vec::with_capacity(sizes.len() + 1);
        let mut total = 0;
        for size in &sizes {
            starts.push(total);
            total += size;
        }
        starts.push(total);
        let mut fill = starts.clone();
        let mut order = vec![0u32; total];
        for (i, g) in group_of.iter().enumerate() {
            if *g != u32::MAX {
                order[fill[*g as usize]] = i as u32;
                fill[*g as usize] += 1;
            }
        }
        // Each group's (time, row) pairs side by side, so sorting touches one small array;
        // the row breaks ties, which keeps arrival order among equal times.
        let mut times = vec![0i64; total];
        let mut pairs: Vec<(i64, u32)> = Vec::new();
        for g in 0..sizes.len() {
            let range = starts[g]..starts[g + 1];
            pairs.clear();
            pairs.extend(
                order[range.clone()]
                    .iter()
                    .map(|row| (row_times.values[*row as usize], *row)),
            );
            pairs.sort_unstable();
            for (i, (time, row)) in range.zip(&pairs) {
                times[i] = *time;
                order[i] = *row;
            }
        }
        Ok(Self {
            batch,
            converter,
            groups,
            starts,
            order,
            times,
            keyless: keys.is_empty(),
        })
    }

    /// `keys` (the left side's, of the same types as the right's) encoded for [`Self::group`].
    pub fn encode(&self, keys: &[ArrayRef], rows: usize) -> Result<Keys> {
        encode(&self.converter, keys, rows)
    }

    /// The group of an encoded key, if any right row has it.
    pub fn group(&self, key: &[u8]) -> Option<usize> {
        if self.keyless {
            return (self.starts.len() > 1).then_some(0);
        }
        self.groups.get(key).map(|g| *g as usize)
    }

    /// Group `g`'s times, in order; position `i` of it is right row [`Self::row`]`(g, i)`.
    pub fn times(&self, g: usize) -> &[i64] {
        &self.times[self.starts[g]..self.starts[g + 1]]
    }

    /// The right row at position `i` of group `g`.
    pub fn row(&self, g: usize, i: usize) -> u32 {
        self.order[self.starts[g] + i]
    }

    /// The right rows at positions `range` of group `g`.
    pub fn rows(&self, g: usize, range: std::ops::Range<usize>) -> &[u32] {
        let start = self.starts[g];
        &self.order[start + range.start..start + range.end]
    }

    /// Bytes held, for the memory pool.
    pub fn size(&self) -> usize {
        self.batch.get_array_memory_size()
            + self.order.len() * 4
            + self.times.len() * 8
            + self.groups.len() * 48
    }
}

fn encode(converter: &RowConverter, keys: &[ArrayRef], rows: usize) -> Result<Keys> {
    let nulls = (0..rows)
        .map(|i| keys.iter().any(|k| k.is_null(i)))
        .collect();
    let rows = if keys.is_empty() {
        None
    } else {
        Some(converter.convert_columns(keys)?)
    };
    Ok(Keys { rows, nulls })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int64Array, StringArray};
    use arrow::datatypes::{Field, Schema};
    use datafusion::physical_expr::expressions::col;

    #[test]
    fn groups_are_sorted_by_time_and_ties_keep_arrival_order() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("s", DataType::Utf8, true),
            Field::new("t", DataType::Int64, true),
        ]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(StringArray::from(vec![
                    Some("a"),
                    Some("b"),
                    Some("a"),
                    None,
                    Some("a"),
                    Some("a"),
                ])),
                Arc::new(Int64Array::from(vec![
                    Some(5),
                    Some(1),
                    Some(2),
                    Some(3),
                    Some(5),
                    None,
                ])),
            ],
        )
        .unwrap();
        let keys = vec![col("s", &schema).unwrap()];
        let index =
            TimeIndex::build(&schema, &[batch], &keys, &col("t", &schema).unwrap()).unwrap();
        let probe: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), Some("c"), None]));
        let encoded = index.encode(&[probe], 3).unwrap();
        let a = index.group(encoded.get(0).unwrap()).unwrap();
        assert_eq!(index.times(a), &[2, 5, 5]);
        assert_eq!(index.rows(a, 0..3), &[2, 0, 4]);
        assert!(index.group(encoded.get(1).unwrap()).is_none());
        assert!(encoded.get(2).is_none());
    }

    #[test]
    fn doubles_keep_their_order_as_integers() {
        let values = [-f64::INFINITY, -2.5, -0.0, 0.0, 1e-300, 3.0, f64::INFINITY];
        let array: ArrayRef = Arc::new(Float64Array::from(values.to_vec()));
        let times = Times::of(&array).unwrap();
        let ordered: Vec<i64> = (0..values.len()).map(|i| times.get(i).unwrap()).collect();
        assert!(ordered.windows(2).all(|w| w[0] < w[1]), "{ordered:?}");
    }
}
