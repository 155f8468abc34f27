//! Zone maps of one hot-tier chunk: the smallest and largest value of a numeric column in each
//! block of [`BLOCK_ROWS`] rows, so a scan filtered by a value range (`price > 100`) skips the
//! blocks that cannot hold a match — what DuckDB's and ClickHouse's per-granule statistics do
//! for them. Tick data is ordered by time, and prices, counters and levels drift rather than
//! jump, so their blocks cover narrow, mostly disjoint ranges.
//!
//! A zone map only ever narrows a scan to a superset of the matching rows: bounds are compared
//! loosely (strict comparisons as non-strict, `-0.0` equal to `0.0`, a block holding NaN kept
//! for every lower bound), and DataFusion applies the filter itself to every row that is read.

use arrow::array::{Array, ArrayRef, ArrowPrimitiveType, AsArray, PrimitiveArray};
use arrow::datatypes::{
    DataType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
};

/// Rows per zone-map block: small enough that a drifting value's blocks rarely straddle a
/// bound, large enough that the map costs nothing (16 bytes per block and column).
pub const BLOCK_ROWS: usize = 8192;

/// The values a column must lie in, both ends inclusive (`None`: unbounded), stated in the
/// column's kind.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueRange {
    /// An integer column's bounds.
    Int(Option<i64>, Option<i64>),
    /// A floating-point column's bounds (never NaN).
    Float(Option<f64>, Option<f64>),
}

/// Per-block bounds of one column; a block whose values are all NULL has none.
#[derive(Debug)]
pub enum ZoneMap {
    /// An integer column.
    Int(Vec<Option<(i64, i64)>>),
    /// A floating-point column; a block's largest value is NaN when it holds one.
    Float(Vec<Option<(f64, f64)>>),
}

impl ZoneMap {
    /// The zone map of `column`, or `None` for a type it does not cover.
    pub fn build(column: &ArrayRef) -> Option<Self> {
        Some(match column.data_type() {
            DataType::Int64 => ZoneMap::Int(int_blocks(column.as_primitive::<Int64Type>())),
            DataType::Int32 => ZoneMap::Int(int_blocks(column.as_primitive::<Int32Type>())),
            DataType::Int16 => ZoneMap::Int(int_blocks(column.as_primitive::<Int16Type>())),
            DataType::Int8 => ZoneMap::Int(int_blocks(column.as_primitive::<Int8Type>())),
            DataType::Float64 => ZoneMap::Float(float_blocks(column.as_primitive::<Float64Type>())),
            DataType::Float32 => ZoneMap::Float(float_blocks(column.as_primitive::<Float32Type>())),
            _ => return None,
        })
    }

    /// Whether block `b` may hold a value in `range` (`true` when the kinds differ).
    pub fn may_match(&self, b: usize, range: &ValueRange) -> bool {
        match (self, range) {
            (ZoneMap::Int(blocks), ValueRange::Int(lo, hi)) => {
                blocks[b].is_some_and(|(min, max)| {
                    lo.is_none_or(|lo| max >= lo) && hi.is_none_or(|hi| min <= hi)
                })
            }
            (ZoneMap::Float(blocks), ValueRange::Float(lo, hi)) => {
                blocks[b].is_some_and(|(min, max)| {
                    (max.is_nan() || lo.is_none_or(|lo| max >= lo)) && hi.is_none_or(|hi| min <= hi)
                })
            }
            _ => true,
        }
    }

    /// Blocks in the map.
    pub fn blocks(&self) -> usize {
        match self {
            ZoneMap::Int(b) => b.len(),
            ZoneMap::Float(b) => b.len(),
        }
    }
}

fn int_blocks<T>(values: &PrimitiveArray<T>) -> Vec<Option<(i64, i64)>>
where
    T: ArrowPrimitiveType,
    T::Native: Into<i64>,
{
    blocks(
        values,
        |v: T::Native| v.into(),
        |a, b| a.min(b),
        |a, b| a.max(b),
    )
}

fn float_blocks<T>(values: &PrimitiveArray<T>) -> Vec<Option<(f64, f64)>>
where
    T: ArrowPrimitiveType,
    T::Native: Into<f64>,
{
    // NaN wins the maximum (a NaN passes every lower bound in Arrow's total order) and loses
    // the minimum (`f64::min` ignores it).
    let max = |a: f64, b: f64| {
        if a.is_nan() || b.is_nan() {
            f64::NAN
        } else {
            a.max(b)
        }
    };
    blocks(values, |v: T::Native| v.into(), f64::min, max)
}

fn blocks<T, V: Copy>(
    values: &PrimitiveArray<T>,
    widen: impl Fn(T::Native) -> V,
    min: impl Fn(V, V) -> V,
    max: impl Fn(V, V) -> V,
) -> Vec<Option<(V, V)>>
where
    T: ArrowPrimitiveType,
{
    let raw = values.values();
    (0..raw.len().div_ceil(BLOCK_ROWS))
        .map(|b| {
            let (start, end) = (b * BLOCK_ROWS, ((b + 1) * BLOCK_ROWS).min(raw.len()));
            let mut bounds: Option<(V, V)> = None;
            let mut fold = |v: V| {
                bounds = Some(match bounds {
                    None => (v, v),
                    Some((lo, hi)) => (min(lo, v), max(hi, v)),
                });
            };
            if values.null_count() == 0 {
                raw[start..end].iter().for_each(|&v| fold(widen(v)));
            } else {
                (start..end)
                    .filter(|&i| values.is_valid(i))
                    .for_each(|i| fold(widen(raw[i])));
            }
            bounds
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Float64Array, Int64Array};

    use super::*;

    #[test]
    fn blocks_hold_their_bounds() {
        let n = BLOCK_ROWS * 2 + 10;
        let ints: ArrayRef = Arc::new(Int64Array::from_iter_values(0..n as i64));
        let map = ZoneMap::build(&ints).unwrap();
        assert_eq!(map.blocks(), 3);
        let at_least = |v| ValueRange::Int(Some(v), None);
        assert!(!map.may_match(0, &at_least(BLOCK_ROWS as i64)));
        assert!(map.may_match(1, &at_least(BLOCK_ROWS as i64)));
        assert!(map.may_match(0, &ValueRange::Int(None, Some(0))));
        assert!(!map.may_match(2, &ValueRange::Int(None, Some(5))));
        // Another kind of bound never prunes.
        assert!(map.may_match(0, &ValueRange::Float(Some(1e9), None)));
    }

    #[test]
    fn nulls_and_nans_are_kept_safe() {
        let mut values: Vec<Option<f64>> = vec![None; BLOCK_ROWS];
        values.extend((0..BLOCK_ROWS).map(|i| Some(if i == 7 { f64::NAN } else { 1.0 })));
        values.push(Some(-0.0));
        let floats: ArrayRef = Arc::new(Float64Array::from(values));
        let map = ZoneMap::build(&floats).unwrap();
        // All NULL: no comparison can hold.
        assert!(!map.may_match(0, &ValueRange::Float(None, None)));
        // NaN passes any lower bound in Arrow's order; the other values still bound the block.
        assert!(map.may_match(1, &ValueRange::Float(Some(1e300), None)));
        assert!(!map.may_match(1, &ValueRange::Float(None, Some(0.5))));
        // -0.0 meets a bound of 0.0 from either side.
        assert!(map.may_match(2, &ValueRange::Float(Some(0.0), None)));
        assert!(map.may_match(2, &ValueRange::Float(None, Some(0.0))));
    }
}
