//! How HDB Parquet files are laid out, so scans prune by time and by symbol at once.
//!
//! A file holds one day. Its rows are cut, in time order, into clusters of [`FileLayout`]'s
//! `group_rows` rows ([`GROUP_ROWS`] unless configured),
//! and each cluster — one row group — is sorted by the table's sort key (ClickHouse's `ORDER
//! BY`), else by (symbol, time). So a row group's statistics span a short time range (a narrow
//! time window reads one or two row groups), and inside it each symbol's rows are contiguous in
//! pages of at most [`PAGE_ROWS`] rows, whose page-index statistics let a scan for one symbol
//! read only that symbol's pages. Kdb+ partitions by date and sorts by symbol inside (its
//! parted attribute); ClickHouse sorts a part by its key and keeps a sparse index of granules;
//! this is both at once, in plain Parquet that DuckDB, Spark and deltalake read as they are.
//!
//! Encodings are chosen per column type for decode speed: LZ4 (raw) pages, no dictionary for
//! floating-point columns (random doubles never repeat, and a dictionary that overflows only
//! costs time), delta encoding for the time column, dictionaries for strings and other integers
//! (symbols repeat). Every file carries [`LAYOUT_KEY`] in its footer, so `OPTIMIZE` knows which
//! files predate this layout and rewrites them.

use std::sync::Arc;

use arrow::array::{RecordBatch, UInt32Array};
use arrow::compute::{SortColumn, lexsort_to_indices, sort_to_indices, take, take_record_batch};
use arrow::datatypes::{DataType, Schema};
use parquet::arrow::async_reader::{AsyncFileReader, ParquetObjectReader};
use parquet::basic::{Compression, Encoding};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use strata_catalog::time_column_index;

use crate::error::Result;

/// Rows per row group (one time cluster) unless configured otherwise.
pub const GROUP_ROWS: usize = 1 << 20;

/// Most rows a data page holds: the granule of page-index pruning (smaller for small groups).
pub const PAGE_ROWS: usize = 4096;

/// Footer key naming the layout a file was written in.
pub const LAYOUT_KEY: &str = "strata.layout";

/// This layout's name, the value of [`LAYOUT_KEY`].
pub const LAYOUT: &str = "time-clustered/1";

/// How a table's HDB files are cut and encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileLayout {
    /// Rows per row group: the size of a time cluster.
    pub group_rows: usize,
}

impl Default for FileLayout {
    fn default() -> Self {
        Self {
            group_rows: GROUP_ROWS,
        }
    }
}

impl FileLayout {
    /// The writer properties of a file of a table of `schema` (the table's own Arrow types,
    /// which name its time column; the Delta columns have the same names).
    pub(crate) fn writer_properties(&self, schema: &Schema) -> Result<WriterProperties> {
        let group = self.group_rows.max(1);
        // A page is at most a sixteenth of a group, so page-index pruning can always choose
        // inside a row group, even with small groups.
        let page = PAGE_ROWS.min((group / 16).max(8));
        let mut builder = WriterProperties::builder()
            .set_compression(Compression::LZ4_RAW)
            .set_max_row_group_row_count(Some(group))
            .set_data_page_row_count_limit(page)
            // The writer checks the page limit once per mini-batch of this many rows.
            .set_write_batch_size(page.min(1024))
            .set_key_value_metadata(Some(vec![KeyValue::new(
                LAYOUT_KEY.to_string(),
                LAYOUT.to_string(),
            )]));
        let time = time_column_index(schema);
        for (i, field) in schema.fields().iter().enumerate() {
            let path = ColumnPath::from(field.name().as_str());
            if Some(i) == time || matches!(field.data_type(), DataType::Timestamp(..)) {
                builder = builder
                    .set_column_dictionary_enabled(path.clone(), false)
                    .set_column_encoding(path, Encoding::DELTA_BINARY_PACKED);
            } else if field.data_type().is_floating() {
                builder = builder.set_column_dictionary_enabled(path, false);
            }
        }
        Ok(builder.build())
    }

    /// `batch` (one day) in file order: clusters of `group_rows` rows in time order, each
    /// sorted by its key columns. A table without a time column is sorted by its key alone.
    pub(crate) fn arrange(&self, batch: &RecordBatch, sort_key: &[String]) -> Result<RecordBatch> {
        let group = self.group_rows.max(1);
        let schema = batch.schema();
        let keys = key_columns(&schema, sort_key);
        let rows = batch.num_rows();
        let order: Vec<u32> = match time_column_index(&schema) {
            Some(time) if rows > group => {
                let by_time = sort_to_indices(batch.column(time), None, None)?;
                let mut order = Vec::with_capacity(rows);
                for cluster in by_time.values().chunks(group) {
                    let cluster = UInt32Array::from(cluster.to_vec());
                    let local = sorted_by(batch, &keys, Some(&cluster))?;
                    order.extend(local.iter().map(|&i| cluster.value(i as usize)));
                }
                order
            }
            _ => sorted_by(batch, &keys, None)?,
        };
        if order.iter().enumerate().all(|(i, &r)| i == r as usize) {
            return Ok(batch.clone());
        }
        Ok(take_record_batch(batch, &UInt32Array::from(order))?)
    }
}

/// Whether the data file at `path` (relative to the table root, `size` bytes) was written in
/// this layout, by its footer.
pub(crate) async fn is_current(
    store: &deltalake::logstore::ObjectStoreRef,
    path: &str,
    size: i64,
) -> Result<bool> {
    let path = deltalake::Path::parse(path)
        .map_err(|e| crate::error::Error::InvalidData(e.to_string()))?;
    let mut reader = ParquetObjectReader::new(Arc::clone(store), path).with_file_size(size as u64);
    let metadata = reader.get_metadata(None).await?;
    Ok(metadata
        .file_metadata()
        .key_value_metadata()
        .is_some_and(|kv| {
            kv.iter()
                .any(|e| e.key == LAYOUT_KEY && e.value.as_deref() == Some(LAYOUT))
        }))
}

/// The columns a cluster is sorted by: the sort key's, else (symbol, time) — whichever of the
/// two the table has.
fn key_columns(schema: &Schema, sort_key: &[String]) -> Vec<usize> {
    if sort_key.is_empty() {
        let symbol = schema.index_of("symbol").ok();
        symbol
            .into_iter()
            .chain(time_column_index(schema))
            .collect()
    } else {
        sort_key
            .iter()
            .filter_map(|c| schema.index_of(c).ok())
            .collect()
    }
}

/// The order of `rows` of `batch` (all of them when `None`) by `keys`, as positions in `rows`.
fn sorted_by(batch: &RecordBatch, keys: &[usize], rows: Option<&UInt32Array>) -> Result<Vec<u32>> {
    let count = rows.map_or(batch.num_rows(), |r| r.len());
    if keys.is_empty() {
        return Ok((0..count as u32).collect());
    }
    let columns = keys
        .iter()
        .map(|&k| {
            let values = match rows {
                Some(rows) => take(batch.column(k), rows, None)?,
                None => Arc::clone(batch.column(k)),
            };
            Ok(SortColumn {
                values,
                options: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(lexsort_to_indices(&columns, None)?.values().to_vec())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use arrow::array::{ArrayRef, AsArray, Int64Array, StringArray, TimestampNanosecondArray};
    use arrow::datatypes::{Field, Int64Type, TimeUnit};
    use strata_catalog::TIME_COLUMN_METADATA_KEY;

    use super::*;

    fn ids(batch: &RecordBatch) -> Vec<i64> {
        batch
            .column_by_name("id")
            .unwrap()
            .as_primitive::<Int64Type>()
            .values()
            .to_vec()
    }

    #[test]
    fn without_a_time_column_rows_follow_the_sort_key_else_symbol() {
        let batch = RecordBatch::try_from_iter(vec![
            (
                "symbol",
                Arc::new(StringArray::from(vec!["b", "a", "b"])) as ArrayRef,
            ),
            ("id", Arc::new(Int64Array::from(vec![1, 3, 2])) as ArrayRef),
        ])
        .unwrap();
        assert_eq!(
            ids(&FileLayout::default().arrange(&batch, &[]).unwrap()),
            [3, 1, 2]
        );
        let key = ["id".to_string()];
        assert_eq!(
            ids(&FileLayout::default().arrange(&batch, &key).unwrap()),
            [1, 2, 3]
        );
        let key = ["symbol".to_string(), "id".to_string()];
        assert_eq!(
            ids(&FileLayout::default().arrange(&batch, &key).unwrap()),
            [3, 1, 2]
        );
    }

    /// A batch of (symbol, ts, id) whose `ts` is marked as the table's time column.
    fn ticks(symbols: Vec<&str>, times: Vec<i64>, ids: Vec<i64>) -> RecordBatch {
        let time =
            Field::new("ts", DataType::Timestamp(TimeUnit::Nanosecond, None), false).with_metadata(
                HashMap::from([(TIME_COLUMN_METADATA_KEY.to_string(), "true".to_string())]),
            );
        let schema = Schema::new(vec![
            Field::new("symbol", DataType::Utf8, false),
            time,
            Field::new("id", DataType::Int64, false),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(StringArray::from(symbols)),
                Arc::new(TimestampNanosecondArray::from(times)),
                Arc::new(Int64Array::from(ids)),
            ],
        )
        .unwrap()
    }

    #[test]
    fn a_small_day_is_one_cluster_sorted_by_symbol_then_time() {
        let batch = ticks(vec!["b", "a", "b", "a"], vec![4, 3, 2, 1], vec![1, 2, 3, 4]);
        let out = FileLayout::default().arrange(&batch, &[]).unwrap();
        assert_eq!(ids(&out), [4, 2, 3, 1]);
    }

    #[test]
    fn a_day_is_cut_in_time_order_into_clusters_each_sorted_by_symbol_then_time() {
        // Times 9..0 descending, so odd times are symbol b and even times a.
        let times: Vec<i64> = (0..10).rev().collect();
        let symbols = (0..10)
            .map(|i| if i % 2 == 0 { "b" } else { "a" })
            .collect();
        let batch = ticks(symbols, times.clone(), times);
        // Clusters of four by time, each by symbol then time.
        let out = FileLayout { group_rows: 4 }.arrange(&batch, &[]).unwrap();
        assert_eq!(ids(&out), [0, 2, 1, 3, 4, 6, 5, 7, 8, 9]);
        // A sort key replaces (symbol, time) inside each cluster.
        let key = ["id".to_string()];
        let out = FileLayout { group_rows: 4 }.arrange(&batch, &key).unwrap();
        assert_eq!(ids(&out), (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn floats_have_no_dictionary_and_the_time_column_is_delta_encoded() {
        let batch = ticks(vec!["a"], vec![1], vec![1]);
        let props = FileLayout::default()
            .writer_properties(&batch.schema())
            .unwrap();
        let ts = ColumnPath::from("ts");
        assert_eq!(props.encoding(&ts), Some(Encoding::DELTA_BINARY_PACKED));
        assert!(!props.dictionary_enabled(&ts));
        assert!(props.dictionary_enabled(&ColumnPath::from("symbol")));
        assert_eq!(props.compression(&ts), Compression::LZ4_RAW);
        assert_eq!(props.max_row_group_row_count(), Some(GROUP_ROWS));
        let floats = Schema::new(vec![Field::new("price", DataType::Float64, true)]);
        let props = FileLayout::default().writer_properties(&floats).unwrap();
        assert!(!props.dictionary_enabled(&ColumnPath::from("price")));
    }
}
