//! The quick-start table and its optional demo rows (`--ticks N`).
//!
//! A fresh data root gets `trades (symbol SYMBOL, price FLOAT64, volume INT64, timestamp
//! TIMESTAMP_NS)`, so the README's first query works. Demo rows are a deterministic random walk
//! per symbol, one tick per millisecond ending now.

use std::sync::Arc;

use arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray, TimestampNanosecondArray};
use strata_catalog::{ColumnDef, ColumnType, TableDefinition};
use strata_tiers::Tiers;

use crate::error::{Error, Result};
use strata_tiers::clock::now_nanos;

/// Name of the quick-start table.
pub const QUICK_START_TABLE: &str = "trades";

const SYMBOLS: [(&str, f64); 5] = [
    ("AAPL", 190.0),
    ("MSFT", 410.0),
    ("GOOG", 150.0),
    ("AMZN", 180.0),
    ("NVDA", 880.0),
];

/// Creates the quick-start table when no table exists yet, then adds `ticks` demo rows to it.
pub async fn seed(tiers: &Tiers, ticks: usize) -> Result<()> {
    load(tiers, ticks)
        .await
        .map_err(|e| Error::Demo(Box::new(e)))
}

async fn load(tiers: &Tiers, ticks: usize) -> strata_tiers::Result<()> {
    if tiers.catalog().list().is_empty() {
        let columns = [
            ("symbol", ColumnType::Symbol),
            ("price", ColumnType::Float64),
            ("volume", ColumnType::Int64),
            ("timestamp", ColumnType::TimestampNs),
        ]
        .into_iter()
        .map(|(n, t)| ColumnDef::new(n, t))
        .collect::<Result<Vec<_>, _>>()?;
        tiers
            .create_table(TableDefinition::new(QUICK_START_TABLE, columns)?, true)
            .await?;
    }
    if ticks == 0 {
        return Ok(());
    }
    let handle = tiers.table(QUICK_START_TABLE)?;
    let schema = handle.schema();
    let batch = demo_batch(ticks, now_nanos())?;
    let batch = strata_tiers::conform::conform_batch(QUICK_START_TABLE, &schema, &batch)?;
    handle.append(&schema, vec![batch]).await?;
    tracing::info!(rows = ticks, table = QUICK_START_TABLE, "loaded demo ticks");
    Ok(())
}

/// `n` ticks ending at `end_ns`, one per millisecond, symbols in rotation.
fn demo_batch(n: usize, end_ns: i64) -> Result<RecordBatch, arrow::error::ArrowError> {
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        // xorshift64*: deterministic, dependency-free, good enough for demo prices.
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let mut prices: Vec<f64> = SYMBOLS.iter().map(|s| s.1).collect();
    let (mut sym, mut price, mut volume, mut ts) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for i in 0..n {
        let s = i % SYMBOLS.len();
        let step = ((next() % 2001) as f64 - 1000.0) / 100_000.0;
        prices[s] = (prices[s] * (1.0 + step) * 100.0).round() / 100.0;
        sym.push(SYMBOLS[s].0);
        price.push(prices[s]);
        volume.push(1 + (next() % 1000) as i64);
        ts.push(end_ns - (n - i) as i64 * 1_000_000);
    }
    let columns: Vec<(&str, arrow::array::ArrayRef)> = vec![
        ("symbol", Arc::new(StringArray::from(sym))),
        ("price", Arc::new(Float64Array::from(price))),
        ("volume", Arc::new(Int64Array::from(volume))),
        (
            "timestamp",
            Arc::new(TimestampNanosecondArray::from(ts).with_timezone("UTC")),
        ),
    ];
    RecordBatch::try_from_iter(columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_rows_are_ordered_in_time_and_deterministic() {
        let a = demo_batch(1000, 10_000_000_000).unwrap();
        let b = demo_batch(1000, 10_000_000_000).unwrap();
        assert_eq!(a, b);
        let ts = a
            .column(3)
            .as_any()
            .downcast_ref::<TimestampNanosecondArray>()
            .unwrap();
        assert!(ts.values().windows(2).all(|w| w[0] < w[1]));
        assert_eq!(ts.value(999), 10_000_000_000 - 1_000_000);
    }
}
