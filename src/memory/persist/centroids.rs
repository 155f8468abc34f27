//! The vector index's centroids as a small Lance dataset, `ivf_centroids.lance`, beside the
//! memories: one row per IVF partition (`centroid`, `FixedSizeList<float32, D>`) and the number
//! of memories they were trained on (`trained_rows`, the same in every row). A restart reads
//! them back and only assigns the rows, instead of training again.

use std::sync::Arc;

use arrow::array::{
    Array, AsArray, FixedSizeListArray, Float32Array, Int64Array, RecordBatch, RecordBatchIterator,
};
use arrow::datatypes::{DataType, Field, Float32Type, Int64Type, Schema};
use futures::TryStreamExt;
use lance::Dataset;
use lance::dataset::WriteParams;

use crate::memory::ann::Centroids;
use crate::memory::error::{Error, Result};

/// Directory (under the root) of the centroids dataset.
pub const CENTROIDS_DATASET: &str = "ivf_centroids.lance";
const CENTROID: &str = "centroid";
const TRAINED_ROWS: &str = "trained_rows";

/// Writes `centroids` over whatever the dataset at `uri` held.
pub async fn save(uri: &str, params: WriteParams, centroids: &Centroids) -> Result<()> {
    let batch = to_batch(centroids)
        .map_err(|e| Error::Encoding(format!("cannot build the centroids batch: {e}")))?;
    let schema = batch.schema();
    let reader = RecordBatchIterator::new([Ok(batch)], schema);
    Dataset::write(reader, uri, Some(params))
        .await
        .map_err(Error::lance(uri))?;
    Ok(())
}

/// The centroids saved in `ds`; `None` if it does not hold them in this shape.
pub async fn load(ds: &Dataset) -> Result<Option<Centroids>> {
    let batches: Vec<RecordBatch> = ds
        .scan()
        .try_into_stream()
        .await
        .map_err(Error::lance(ds.uri()))?
        .try_collect()
        .await
        .map_err(Error::lance(ds.uri()))?;
    let mut out: Option<Centroids> = None;
    for batch in &batches {
        let (Some(c), Some(t)) = (
            batch.column_by_name(CENTROID),
            batch.column_by_name(TRAINED_ROWS),
        ) else {
            return Ok(None);
        };
        let (Some(list), Some(trained)) = (
            c.as_fixed_size_list_opt(),
            t.as_primitive_opt::<Int64Type>(),
        ) else {
            return Ok(None);
        };
        let Some(values) = list.values().as_primitive_opt::<Float32Type>() else {
            return Ok(None);
        };
        if list.null_count() > 0 || values.null_count() > 0 {
            return Ok(None);
        }
        let dim = list.value_length() as usize;
        let entry = out.get_or_insert_with(|| Centroids {
            dim,
            values: Vec::new(),
            trained_rows: trained.values().first().copied().unwrap_or(0).max(0) as usize,
        });
        if entry.dim != dim {
            return Ok(None);
        }
        let start = list.offset() * dim;
        entry
            .values
            .extend_from_slice(&values.values()[start..start + list.len() * dim]);
    }
    Ok(out.filter(|c| c.dim > 0 && !c.values.is_empty()))
}

fn to_batch(c: &Centroids) -> std::result::Result<RecordBatch, arrow::error::ArrowError> {
    let dim = c.dim as i32;
    let item = Arc::new(Field::new("item", DataType::Float32, false));
    let rows = c.values.len() / c.dim.max(1);
    let schema = Arc::new(Schema::new(vec![
        Field::new(
            CENTROID,
            DataType::FixedSizeList(Arc::clone(&item), dim),
            false,
        ),
        Field::new(TRAINED_ROWS, DataType::Int64, false),
    ]));
    let list = FixedSizeListArray::try_new(
        item,
        dim,
        Arc::new(Float32Array::from(c.values.clone())),
        None,
    )?;
    let trained = Int64Array::from(vec![c.trained_rows as i64; rows]);
    RecordBatch::try_new(schema, vec![Arc::new(list), Arc::new(trained)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn centroids_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let uri = dir.path().join(CENTROIDS_DATASET);
        let uri = uri.to_str().unwrap();
        let c = Centroids {
            dim: 3,
            values: vec![1.0, 0.0, 0.0, 0.0, 0.6, 0.8],
            trained_rows: 4096,
        };
        save(uri, WriteParams::default(), &c).await.unwrap();
        let ds = Dataset::open(uri).await.unwrap();
        assert_eq!(load(&ds).await.unwrap(), Some(c.clone()));
        // Saving again replaces them.
        let params = WriteParams {
            mode: lance::dataset::WriteMode::Overwrite,
            ..WriteParams::default()
        };
        let d = Centroids {
            dim: 2,
            values: vec![0.0, 1.0],
            trained_rows: 9,
        };
        save(uri, params, &d).await.unwrap();
        let ds = Dataset::open(uri).await.unwrap();
        assert_eq!(load(&ds).await.unwrap(), Some(d));
    }
}
