//! The two Lance datasets, `memories.lance` and `cache.lance`, under the Agent Memory root.
//!
//! A commit writes a batch of changes: new records are appended, changed ones merged in by key
//! (`merge_insert`), removed ones deleted by key; each is one Lance version, so readers never see
//! half a batch. Compaction keeps the fragment count low and old versions are cleaned up after
//! each commit, so many small commits cannot pile up files. Strata's id counters ride along in
//! the memories dataset's table metadata.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{RecordBatch, RecordBatchIterator};
use arrow::datatypes::SchemaRef;
use futures::TryStreamExt;
use lance::Dataset;
use lance::dataset::builder::DatasetBuilder;
use lance::dataset::cleanup::CleanupPolicyBuilder;
use lance::dataset::optimize::{CompactionOptions, compact_files};
use lance::dataset::{MergeInsertBuilder, WhenMatched, WhenNotMatched, WriteMode, WriteParams};
use lance::io::{ObjectStoreParams, StorageOptionsAccessor};
use parking_lot::Mutex;

use super::centroids::{self, CENTROIDS_DATASET};
use super::schema::{
    CACHE_ID, EMBEDDING, MEMORY_ID, MemoryRows, cache_from_batch, cache_schema, cache_to_batch,
    list_size, memories_from_batch, memories_to_batch, memory_rows, memory_schema,
};
use crate::memory::ann::Centroids;
use crate::memory::error::{Error, Result};
use crate::memory::record::{CacheEntry, Memory};
use crate::memory::settings::Storage;

/// Directory (under the root) of the memories dataset.
pub const MEMORIES_DATASET: &str = "memories.lance";
/// Directory (under the root) of the cache dataset.
pub const CACHE_DATASET: &str = "cache.lance";
/// Table-metadata keys of the id counters.
const NEXT_MEMORY_KEY: &str = "strata.next_memory_id";
const NEXT_CACHE_KEY: &str = "strata.next_cache_id";
/// Compact once a dataset has more fragments than this.
const MAX_FRAGMENTS: usize = 16;
/// Versions kept after a cleanup (time travel for readers of a recent version).
const KEEP_VERSIONS: usize = 8;

/// Changes to write to the datasets in one commit.
#[derive(Debug, Default)]
pub struct Changes {
    /// The store's embedding dimension.
    pub dim: usize,
    /// Memories stored or changed since the last commit.
    pub memory_upserts: Vec<Memory>,
    /// Memory ids removed since the last commit.
    pub memory_deletes: Vec<String>,
    /// Cache entries stored or changed.
    pub cache_upserts: Vec<CacheEntry>,
    /// Cache ids removed.
    pub cache_deletes: Vec<String>,
    /// Next `mem_N` and `cache_N` numbers.
    pub counters: (u64, u64),
}

/// What the datasets hold, handed over batch by batch as it is read, so a large store is
/// never held twice (as Arrow and as records) at start.
#[derive(Debug)]
pub enum Loaded {
    /// How many memories follow and their vectors' dimension (a capacity hint).
    MemoryCount { rows: usize, dim: usize },
    /// A batch of memories.
    Memories(MemoryRows),
    /// A batch of cache entries.
    Cache(Vec<CacheEntry>),
}

/// What opening found besides the records.
#[derive(Debug, Default)]
pub struct Opened {
    /// Memories read.
    pub memories: usize,
    /// Cache entries read.
    pub cache_entries: usize,
    /// Saved id counters.
    pub counters: (u64, u64),
    /// The vector index's centroids, if they were saved.
    pub centroids: Option<Centroids>,
}

/// Lance stats for `/api/ai/stats` and `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LanceStats {
    /// Commits since start.
    pub commits: u64,
    /// Failed commits since start (changes kept in the WAL and retried).
    pub failures: u64,
    /// Duration of the last commit, ms.
    pub last_commit_ms: f64,
    /// Compactions since start.
    pub compactions: u64,
    /// Lance version of the memories dataset (0: not created yet).
    pub memories_version: u64,
    /// Fragments of the memories dataset.
    pub memories_fragments: usize,
    /// Lance version of the cache dataset.
    pub cache_version: u64,
    /// Fragments of the cache dataset.
    pub cache_fragments: usize,
}

/// One dataset and the keys it holds.
#[derive(Debug)]
struct Slot {
    uri: String,
    key: &'static str,
    dataset: Option<Dataset>,
    /// Keys present in the dataset's current version.
    keys: HashSet<String>,
}

/// The memories and cache datasets.
#[derive(Debug)]
pub struct Datasets {
    options: HashMap<String, String>,
    memories: tokio::sync::Mutex<Slot>,
    cache: tokio::sync::Mutex<Slot>,
    stats: Mutex<LanceStats>,
    /// Where the vector index's centroids are saved.
    centroids_uri: String,
}

impl Datasets {
    /// Opens the datasets under `storage` (absent ones are created by the first commit) and
    /// hands everything they hold to `sink`, one batch at a time.
    pub async fn open(storage: &Storage, mut sink: impl FnMut(Loaded)) -> Result<(Self, Opened)> {
        let uri = |name: &str| -> Result<String> {
            storage
                .root
                .join(name)
                .map(|u| u.to_string().trim_end_matches('/').to_string())
                .map_err(|e| Error::Storage(format!("bad Agent Memory location: {e}")))
        };
        let options = storage.options.clone();
        let mut memories = Slot {
            uri: uri(MEMORIES_DATASET)?,
            key: MEMORY_ID,
            dataset: open_dataset(&uri(MEMORIES_DATASET)?, &options).await?,
            keys: HashSet::new(),
        };
        let mut cache = Slot {
            uri: uri(CACHE_DATASET)?,
            key: CACHE_ID,
            dataset: open_dataset(&uri(CACHE_DATASET)?, &options).await?,
            keys: HashSet::new(),
        };
        let mut opened = Opened::default();
        if let Some(ds) = &memories.dataset {
            let rows = ds
                .count_rows(None)
                .await
                .map_err(lance_err(&memories.uri))?;
            let dim = embedding_size(ds).map_or(0, |d| d.max(0) as usize);
            sink(Loaded::MemoryCount { rows, dim });
            memories.keys.reserve(rows);
            let mut batches = scan(ds).await?;
            while let Some(batch) = batches.try_next().await.map_err(lance_err(&memories.uri))? {
                let rows = memory_rows(&batch).map_err(corrupt(&memories.uri))?;
                opened.memories += rows.records.len();
                memories
                    .keys
                    .extend(rows.records.iter().map(|m| m.memory_id.clone()));
                sink(Loaded::Memories(rows));
            }
            let meta = ds.metadata();
            let counter = |k: &str| meta.get(k).and_then(|v| v.parse().ok()).unwrap_or(1);
            opened.counters = (counter(NEXT_MEMORY_KEY), counter(NEXT_CACHE_KEY));
        }
        if let Some(ds) = &cache.dataset {
            let mut batches = scan(ds).await?;
            while let Some(batch) = batches.try_next().await.map_err(lance_err(&cache.uri))? {
                let records = cache_from_batch(&batch).map_err(corrupt(&cache.uri))?;
                opened.cache_entries += records.len();
                cache
                    .keys
                    .extend(records.iter().map(|e| e.cache_id.clone()));
                sink(Loaded::Cache(records));
            }
        }
        let centroids_uri = uri(CENTROIDS_DATASET)?;
        if let Some(ds) = open_dataset(&centroids_uri, &options).await? {
            opened.centroids = centroids::load(&ds).await?;
        }
        let datasets = Self {
            options,
            memories: tokio::sync::Mutex::new(memories),
            cache: tokio::sync::Mutex::new(cache),
            stats: Mutex::new(LanceStats::default()),
            centroids_uri,
        };
        datasets.refresh_stats().await;
        Ok((datasets, opened))
    }

    /// Writes one batch of changes. On error nothing is assumed written; the caller keeps the
    /// changes (they are still in the WAL) and tries again later.
    pub async fn commit(&self, changes: Changes) -> Result<()> {
        let started = Instant::now();
        let result = self.commit_inner(changes).await;
        {
            let mut f = self.stats.lock();
            match &result {
                Ok(()) => {
                    f.commits += 1;
                    f.last_commit_ms = started.elapsed().as_secs_f64() * 1e3;
                }
                Err(_) => f.failures += 1,
            }
        }
        self.refresh_stats().await;
        result
    }

    async fn commit_inner(&self, changes: Changes) -> Result<()> {
        let dim = changes.dim;
        let memory_ids: Vec<&str> = changes
            .memory_upserts
            .iter()
            .map(|m| m.memory_id.as_str())
            .collect();
        let memory_rows = (!memory_ids.is_empty())
            .then(|| memories_to_batch(&changes.memory_upserts, dim))
            .transpose()
            .map_err(arrow_err)?;
        {
            let mut slot = self.memories.lock().await;
            let (schema, deletes) = (memory_schema(dim), &changes.memory_deletes);
            self.apply(&mut slot, schema, dim, memory_rows, &memory_ids, deletes)
                .await?;
            if let Some(ds) = slot.dataset.as_mut() {
                save_counters(ds, changes.counters).await?;
            }
            self.maintain(&mut slot).await?;
        }
        let cache_ids: Vec<&str> = changes
            .cache_upserts
            .iter()
            .map(|e| e.cache_id.as_str())
            .collect();
        let cache_rows = (!cache_ids.is_empty())
            .then(|| cache_to_batch(&changes.cache_upserts, dim))
            .transpose()
            .map_err(arrow_err)?;
        let mut slot = self.cache.lock().await;
        let (schema, deletes) = (cache_schema(dim), &changes.cache_deletes);
        self.apply(&mut slot, schema, dim, cache_rows, &cache_ids, deletes)
            .await?;
        self.maintain(&mut slot).await
    }

    /// Upserts and deletes on one dataset.
    async fn apply(
        &self,
        slot: &mut Slot,
        schema: SchemaRef,
        dim: usize,
        upserts: Option<RecordBatch>,
        upsert_ids: &[&str],
        deletes: &[String],
    ) -> Result<()> {
        let params = self.write_params(WriteMode::Append);
        if let Some(ds) = slot.dataset.as_ref()
            && embedding_size(ds) != Some(list_size(dim))
        {
            // The dimension was fixed after the dataset was created (every vector in it is
            // null): rewrite it with the new vector type.
            let rows: Vec<RecordBatch> = scan(ds)
                .await?
                .try_collect()
                .await
                .map_err(lance_err(&slot.uri))?;
            let rewritten = retype(&rows, dim, slot.key)?;
            let reader =
                RecordBatchIterator::new(rewritten.into_iter().map(Ok), Arc::clone(&schema));
            let ds = Dataset::write(
                reader,
                slot.uri.as_str(),
                Some(self.write_params(WriteMode::Overwrite)),
            )
            .await
            .map_err(lance_err(&slot.uri))?;
            slot.dataset = Some(ds);
        }
        let to_delete: Vec<&str> = deletes
            .iter()
            .map(String::as_str)
            .filter(|id| slot.keys.contains(*id))
            .collect();
        if let Some(batch) = upserts {
            let existing = upsert_ids.iter().any(|id| slot.keys.contains(*id));
            let reader = RecordBatchIterator::new([Ok(batch)], Arc::clone(&schema));
            slot.dataset = Some(match slot.dataset.take() {
                None => Dataset::write(
                    reader,
                    slot.uri.as_str(),
                    Some(self.write_params(WriteMode::Create)),
                )
                .await
                .map_err(lance_err(&slot.uri))?,
                Some(mut ds) if !existing => {
                    ds.append(reader, Some(params))
                        .await
                        .map_err(lance_err(&slot.uri))?;
                    ds
                }
                Some(ds) => {
                    let uri = slot.uri.clone();
                    let mut builder =
                        MergeInsertBuilder::try_new(Arc::new(ds), vec![slot.key.to_string()])
                            .map_err(lance_err(&uri))?;
                    builder
                        .when_matched(WhenMatched::UpdateAll)
                        .when_not_matched(WhenNotMatched::InsertAll);
                    let job = builder.try_build().map_err(lance_err(&uri))?;
                    let (ds, _) = job.execute_reader(reader).await.map_err(lance_err(&uri))?;
                    Arc::unwrap_or_clone(ds)
                }
            });
            slot.keys.extend(upsert_ids.iter().map(|s| s.to_string()));
        }
        if !to_delete.is_empty()
            && let Some(ds) = slot.dataset.as_mut()
        {
            let predicate = in_list(slot.key, &to_delete);
            ds.delete(&predicate).await.map_err(lance_err(&slot.uri))?;
            for id in to_delete {
                slot.keys.remove(id);
            }
        }
        Ok(())
    }

    /// Saves the vector index's centroids (replacing earlier ones).
    pub async fn save_centroids(&self, c: &Centroids) -> Result<()> {
        centroids::save(
            &self.centroids_uri,
            self.write_params(WriteMode::Overwrite),
            c,
        )
        .await
    }

    /// Compacts a dataset with many fragments and drops versions beyond the last few.
    async fn maintain(&self, slot: &mut Slot) -> Result<()> {
        let Some(ds) = slot.dataset.as_mut() else {
            return Ok(());
        };
        if ds.count_fragments() > MAX_FRAGMENTS {
            let options = CompactionOptions {
                target_rows_per_fragment: 1 << 20,
                materialize_deletions_threshold: 0.1,
                ..CompactionOptions::default()
            };
            compact_files(ds, options, None)
                .await
                .map_err(lance_err(&slot.uri))?;
            self.stats.lock().compactions += 1;
        }
        let versions = ds.versions().await.map_err(lance_err(&slot.uri))?;
        if versions.len() > 2 * KEEP_VERSIONS {
            let policy = CleanupPolicyBuilder::default()
                .retain_n_versions(ds, KEEP_VERSIONS)
                .await
                .map_err(lance_err(&slot.uri))?
                .build();
            ds.cleanup_with_policy(policy)
                .await
                .map_err(lance_err(&slot.uri))?;
        }
        Ok(())
    }

    fn write_params(&self, mode: WriteMode) -> WriteParams {
        WriteParams {
            mode,
            store_params: Some(ObjectStoreParams {
                storage_options_accessor: Some(Arc::new(
                    StorageOptionsAccessor::with_static_options(self.options.clone()),
                )),
                ..ObjectStoreParams::default()
            }),
            ..WriteParams::default()
        }
    }

    async fn refresh_stats(&self) {
        let (mv, mf) = {
            let slot = self.memories.lock().await;
            slot.dataset
                .as_ref()
                .map_or((0, 0), |d| (d.version().version, d.count_fragments()))
        };
        let (cv, cf) = {
            let slot = self.cache.lock().await;
            slot.dataset
                .as_ref()
                .map_or((0, 0), |d| (d.version().version, d.count_fragments()))
        };
        let mut f = self.stats.lock();
        f.memories_version = mv;
        f.memories_fragments = mf;
        f.cache_version = cv;
        f.cache_fragments = cf;
    }

    /// Current stats.
    pub fn stats(&self) -> LanceStats {
        *self.stats.lock()
    }
}

async fn open_dataset(uri: &str, options: &HashMap<String, String>) -> Result<Option<Dataset>> {
    match DatasetBuilder::from_uri(uri)
        .with_storage_options(options.clone())
        .load()
        .await
    {
        Ok(ds) => Ok(Some(ds)),
        Err(lance::Error::DatasetNotFound { .. }) => Ok(None),
        Err(source) => Err(Error::Lance {
            uri: uri.to_string(),
            source,
        }),
    }
}

async fn scan(ds: &Dataset) -> Result<lance::dataset::scanner::DatasetRecordBatchStream> {
    ds.scan()
        .try_into_stream()
        .await
        .map_err(lance_err(ds.uri()))
}

async fn save_counters(ds: &mut Dataset, (memory, cache): (u64, u64)) -> Result<()> {
    let (m, c) = (memory.to_string(), cache.to_string());
    let meta = ds.metadata();
    if meta.get(NEXT_MEMORY_KEY) == Some(&m) && meta.get(NEXT_CACHE_KEY) == Some(&c) {
        return Ok(());
    }
    let uri = ds.uri().to_string();
    ds.update_metadata([(NEXT_MEMORY_KEY, m.as_str()), (NEXT_CACHE_KEY, c.as_str())])
        .await
        .map_err(lance_err(&uri))?;
    Ok(())
}

/// The list size of a dataset's embedding column.
fn embedding_size(ds: &Dataset) -> Option<i32> {
    let schema: arrow::datatypes::Schema = ds.schema().into();
    match schema.field_with_name(EMBEDDING).ok()?.data_type() {
        arrow::datatypes::DataType::FixedSizeList(_, n) => Some(*n),
        _ => None,
    }
}

/// Rows of an old-dimension dataset (no vectors) in the schema of `dim`.
fn retype(rows: &[RecordBatch], dim: usize, key: &str) -> Result<Vec<RecordBatch>> {
    rows.iter()
        .map(|b| {
            if key == MEMORY_ID {
                let memories = memories_from_batch(b).map_err(Error::Encoding)?;
                memories_to_batch(&memories, dim).map_err(arrow_err)
            } else {
                let entries = cache_from_batch(b).map_err(Error::Encoding)?;
                cache_to_batch(&entries, dim).map_err(arrow_err)
            }
        })
        .collect()
}

/// `key IN ('a', 'b')` with quotes escaped.
fn in_list(key: &str, ids: &[&str]) -> String {
    let quoted: Vec<String> = ids
        .iter()
        .map(|id| format!("'{}'", id.replace('\'', "''")))
        .collect();
    format!("{key} IN ({})", quoted.join(", "))
}

fn lance_err(uri: &str) -> impl Fn(lance::Error) -> Error + '_ {
    Error::lance(uri)
}

fn arrow_err(e: arrow::error::ArrowError) -> Error {
    Error::Encoding(format!("cannot build a Lance batch: {e}"))
}

fn corrupt(uri: &str) -> impl Fn(String) -> Error + '_ {
    move |reason| {
        Error::Storage(format!(
            "the Lance dataset {uri} does not hold Agent Memory records: {reason}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delete_predicates_escape_quotes() {
        assert_eq!(
            in_list("memory_id", &["a", "o'k"]),
            "memory_id IN ('a', 'o''k')"
        );
    }
}
