//! Approximate search: a Lance vector index (IVF, cosine) on the memories dataset proposes
//! candidate ids; the store re-ranks them by the full score. Bitmap indexes on `tenant_id` and
//! `namespace` make the prefilter cheap, and prefiltering is on (Lance's default post-filter
//! loses results for selective filters).
//!
//! The index covers what was committed when it was last built or extended; rows committed since
//! are searched by Lance without the index, and changes not yet committed are re-ranked by the
//! caller from the WAL's dirty set, so nothing acknowledged is ever missed. The index is
//! committed with the dataset, so a restart reopens it (its partitions read from Lance's
//! statistics) and trains again only once the dataset has grown past twice what it covers.

use std::time::Instant;

use arrow::array::{Float32Array, StringArray};
use lance::Dataset;
use lance::dataset::optimize::{CompactionOptions, compact_files};
use lance::index::DatasetIndexExt;
use lance::index::vector::VectorIndexParams;
use lance_index::IndexType;
use lance_index::optimize::OptimizeOptions;
use lance_index::scalar::{BuiltinIndexType, ScalarIndexParams};
use lance_linalg::distance::MetricType;
use parking_lot::{Mutex, RwLock};

use super::schema::{EMBEDDING, MEMORY_ID};
use crate::memory::error::{Error, Result};
use crate::memory::settings::AnnMode;

/// The distance column Lance adds to vector search results.
const DISTANCE: &str = "_distance";
/// Name of the vector index.
const VECTOR_INDEX: &str = "embedding_ivf";
/// Fewest rows an index is trained on (k-means needs enough points per partition).
pub const MIN_TRAIN_ROWS: usize = 1024;
/// Rows per IVF partition aimed for, and the most partitions: k-means training time grows
/// with the square of the partition count.
const ROWS_PER_PARTITION: usize = 4096;
const MAX_PARTITIONS: usize = 256;
/// Rebuild (retrain) once the dataset has grown past this multiple of the rows trained on.
const RETRAIN_GROWTH: usize = 2;

pub use crate::memory::settings::AnnSettings;

/// ANN stats for `/api/ai/stats` and `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnnStats {
    /// Whether searches use the index now.
    pub enabled: bool,
    /// Rows covered by the index.
    pub indexed_vectors: u64,
    /// Rows committed since (searched without the index).
    pub unindexed_vectors: u64,
    /// IVF partitions.
    pub partitions: usize,
    /// Full builds since start.
    pub rebuilds: u64,
    /// Duration of the last build or extension, ms.
    pub last_rebuild_ms: f64,
    /// Searches answered from ANN candidates.
    pub searches: u64,
    /// ANN searches that fell back to the exact scan.
    pub fallbacks: u64,
}

/// The index state and the dataset version searches read.
#[derive(Debug)]
pub struct Ann {
    settings: AnnSettings,
    /// Latest committed memories dataset that carries the index.
    indexed: RwLock<Option<Dataset>>,
    trained_rows: Mutex<usize>,
    stats: Mutex<AnnStats>,
}

impl Ann {
    /// No index yet.
    pub fn new(settings: AnnSettings) -> Self {
        Self {
            settings,
            indexed: RwLock::new(None),
            trained_rows: Mutex::new(0),
            stats: Mutex::new(AnnStats::default()),
        }
    }

    /// Current stats.
    pub fn stats(&self) -> AnnStats {
        *self.stats.lock()
    }

    /// Whether a store of `rows` memories wants an index.
    fn wanted(&self, rows: usize) -> bool {
        match self.settings.mode {
            AnnMode::Off => false,
            AnnMode::On => rows >= MIN_TRAIN_ROWS,
            AnnMode::Auto => rows >= self.settings.min_records.max(MIN_TRAIN_ROWS),
        }
    }

    /// Whether searches of a store of `rows` memories should ask the index.
    pub fn usable(&self, rows: usize) -> bool {
        self.wanted(rows) && self.indexed.read().is_some()
    }

    /// Counts a search answered from candidates, or one that fell back to the scan.
    pub fn count_search(&self, fell_back: bool) {
        let mut f = self.stats.lock();
        if fell_back {
            f.fallbacks += 1;
        } else {
            f.searches += 1;
        }
    }

    /// Builds, extends or retrains the index of the just-committed `ds` as the settings and
    /// its size ask, and makes it the version searches read.
    pub async fn refresh(&self, ds: &mut Dataset) -> Result<()> {
        if self.settings.mode == AnnMode::Off {
            // No index wanted: no reason to count rows after every commit.
            return Ok(());
        }
        let rows = ds.count_rows(None).await.map_err(lance_err)?;
        if !self.wanted(rows) {
            *self.indexed.write() = None;
            self.stats.lock().enabled = false;
            return Ok(());
        }
        let started = Instant::now();
        let has_index = !ds
            .load_indices_by_name(VECTOR_INDEX)
            .await
            .map_err(lance_err)?
            .is_empty();
        let mut trained = *self.trained_rows.lock();
        if has_index && trained == 0 {
            // The index was built before this start and committed with the dataset: adopt it
            // (the rows it covers count as trained on) rather than train it again.
            let statistics = self.statistics(ds).await?;
            trained = statistics.indexed_rows.max(1);
            *self.trained_rows.lock() = trained;
            self.stats.lock().partitions = statistics.partitions;
        }
        if !has_index || rows > RETRAIN_GROWTH * trained.max(1) {
            // Training samples rows by position; with deletion vectors Lance 8.0.1 checks
            // every sampled row against them one by one (measured: over ten minutes at 1 M
            // rows). Rewriting the fragments without their deleted rows first takes seconds.
            if ds
                .get_fragments()
                .iter()
                .any(|f| f.metadata().deletion_file.is_some())
            {
                let options = CompactionOptions {
                    target_rows_per_fragment: 1 << 20,
                    materialize_deletions: true,
                    materialize_deletions_threshold: 0.0,
                    ..CompactionOptions::default()
                };
                compact_files(ds, options, None).await.map_err(lance_err)?;
            }
            let partitions = (rows / ROWS_PER_PARTITION).clamp(1, MAX_PARTITIONS);
            let params = VectorIndexParams::ivf_flat(partitions, MetricType::Cosine);
            ds.create_index(
                &[EMBEDDING],
                IndexType::IvfFlat,
                Some(VECTOR_INDEX.into()),
                &params,
                true,
            )
            .await
            .map_err(lance_err)?;
            for column in ["tenant_id", "namespace"] {
                let params = ScalarIndexParams::for_builtin(BuiltinIndexType::Bitmap);
                ds.create_index(
                    &[column],
                    IndexType::Bitmap,
                    Some(format!("{column}_bitmap")),
                    &params,
                    true,
                )
                .await
                .map_err(lance_err)?;
            }
            *self.trained_rows.lock() = rows;
            let mut f = self.stats.lock();
            f.rebuilds += 1;
            f.partitions = partitions;
        } else {
            let unindexed = self.unindexed(ds).await?;
            if unindexed > 0 {
                ds.optimize_indices(&OptimizeOptions::append())
                    .await
                    .map_err(lance_err)?;
            }
        }
        // Searches read the index from memory, not from the object store.
        ds.prewarm_index(VECTOR_INDEX).await.map_err(lance_err)?;
        let unindexed = self.unindexed(ds).await?;
        {
            let mut f = self.stats.lock();
            f.enabled = true;
            f.indexed_vectors = rows.saturating_sub(unindexed) as u64;
            f.unindexed_vectors = unindexed as u64;
            f.last_rebuild_ms = started.elapsed().as_secs_f64() * 1e3;
        }
        *self.indexed.write() = Some(ds.clone());
        Ok(())
    }

    async fn unindexed(&self, ds: &Dataset) -> Result<usize> {
        Ok(self.statistics(ds).await?.unindexed_rows)
    }

    /// What Lance says of the vector index of `ds`.
    async fn statistics(&self, ds: &Dataset) -> Result<IndexStatistics> {
        let stats = ds.index_statistics(VECTOR_INDEX).await.map_err(lance_err)?;
        let doc: serde_json::Value = serde_json::from_str(&stats)
            .map_err(|e| Error::Encoding(format!("Lance index statistics: {e}")))?;
        let count = |v: &serde_json::Value| v.as_u64().unwrap_or(0) as usize;
        Ok(IndexStatistics {
            indexed_rows: count(&doc["num_indexed_rows"]),
            unindexed_rows: count(&doc["num_unindexed_rows"]),
            // Every delta of an IVF index shares the first one's partitions.
            partitions: count(&doc["indices"][0]["num_partitions"]),
        })
    }

    /// Up to `k` memories nearest to `query` among those matching `filter` (a Lance SQL
    /// predicate), from the indexed dataset; `None` without an index.
    pub async fn candidates(
        &self,
        query: &[f32],
        filter: &str,
        k: usize,
    ) -> Result<Option<Candidates>> {
        let Some(ds) = self.indexed.read().clone() else {
            return Ok(None);
        };
        let k = k.min(self.settings.max_candidates).max(1);
        let partitions = self.stats.lock().partitions;
        let mut scan = ds.scan();
        let q = Float32Array::from(query.to_vec());
        scan.nearest(EMBEDDING, &q, k).map_err(lance_err)?;
        scan.prefilter(true);
        // A fixed number of partitions, enough that the k nearest are almost surely among them.
        // Both bounds matter: with only a minimum, Lance's early-pruning rule for large k
        // widens the search to nearly every partition.
        scan.nprobes(probes(partitions));
        if !filter.is_empty() {
            scan.filter(filter).map_err(lance_err)?;
        }
        scan.project(&[MEMORY_ID]).map_err(lance_err)?;
        let started = Instant::now();
        let batch = scan.try_into_batch().await.map_err(lance_err)?;
        tracing::debug!(
            elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
            rows = batch.num_rows(),
            "vector index search"
        );
        let ids = batch
            .column_by_name(MEMORY_ID)
            .and_then(|c| c.as_any().downcast_ref::<StringArray>())
            .ok_or_else(|| Error::Encoding("Lance vector search returned no ids".into()))?;
        // Cosine distance is 1 - cos; the farthest candidate bounds everything left out.
        let farthest = batch
            .column_by_name(DISTANCE)
            .and_then(|c| c.as_any().downcast_ref::<Float32Array>())
            .and_then(|d| d.iter().flatten().reduce(f32::max))
            .unwrap_or(2.0);
        Ok(Some(Candidates {
            ids: ids.iter().flatten().map(str::to_string).collect(),
            min_similarity: 1.0 - f64::from(farthest),
            complete: batch.num_rows() < k,
        }))
    }
}

/// The figures of a vector index that Lance's statistics give.
struct IndexStatistics {
    indexed_rows: usize,
    unindexed_rows: usize,
    partitions: usize,
}

/// Candidates of an approximate search.
#[derive(Debug, Clone)]
pub struct Candidates {
    /// Memory ids, nearest first.
    pub ids: Vec<String>,
    /// Cosine similarity of the farthest candidate: every indexed memory left out is at most
    /// this similar to the query.
    pub min_similarity: f64,
    /// Fewer than asked for came back: every indexed memory matching the filter is here.
    pub complete: bool,
}

/// Partitions probed per search.
fn probes(partitions: usize) -> usize {
    (partitions / 20).clamp(8, 64).min(partitions.max(1))
}

/// `column = 'value'` terms joined by AND, quotes escaped.
pub fn equals_filter(terms: &[(&str, &str)]) -> String {
    terms
        .iter()
        .map(|(c, v)| format!("{c} = '{}'", v.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(" AND ")
}

fn lance_err(source: lance::Error) -> Error {
    Error::Lance {
        uri: "vector index".into(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_quote_values() {
        assert_eq!(
            equals_filter(&[("tenant_id", "a'b"), ("namespace", "n")]),
            "tenant_id = 'a''b' AND namespace = 'n'"
        );
    }
}
