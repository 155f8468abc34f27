//! Approximate search's lifecycle: when the in-memory IVF index ([`super::ivf`]) is wanted, a
//! background task (its work on a blocking thread) trains its centroids (or adopts those saved with the datasets) and
//! assigns the stored rows to them, without holding up writers or searches for long; searches
//! use the index once every row is placed, and the exact scan until then.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::AgentMemory;
use super::ivf::{self, Ivf};
use super::memories::MemoryTable;
use super::settings::AnnMode;
pub use super::settings::AnnSettings;

/// Fewest memories an index is trained on (k-means needs enough points per partition).
pub const MIN_TRAIN_ROWS: usize = 1024;
/// Rows per IVF partition aimed for, and the most partitions.
const ROWS_PER_PARTITION: usize = 4096;
const MAX_PARTITIONS: usize = 256;
/// Training rows per partition (a sample of the store), and k-means rounds.
const SAMPLE_PER_PARTITION: usize = 64;
const ITERATIONS: usize = 10;
/// Train again once the store has grown past this multiple of the rows trained on.
const RETRAIN_GROWTH: usize = 2;
/// Rows assigned per pass; the table's read lock is held for one pass (well under a second
/// at 1 M memories of dimension 384 on 2 cores), its write lock only to file the result.
const ASSIGN_CHUNK: usize = 1 << 16;
/// How often the maintainer looks at the store.
const POLL: Duration = Duration::from_millis(250);
/// The k-means seed: the same store trains the same centroids.
const SEED: u64 = 0x5354_5241_5441_4956;

/// ANN stats for `/api/ai/stats` and `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnnStats {
    /// Whether searches use the index now.
    pub enabled: bool,
    /// Rows placed in a partition.
    pub indexed_vectors: u64,
    /// Rows with a vector not placed yet (searches use the exact scan until this is 0).
    pub unindexed_vectors: u64,
    /// IVF partitions.
    pub partitions: usize,
    /// Partitions whose rows a search bounds from their codes.
    pub probes: usize,
    /// Trainings since start (adopting saved centroids is not one).
    pub rebuilds: u64,
    /// Duration of the last build (training and assignment), ms.
    pub last_rebuild_ms: f64,
    /// Searches answered from the index.
    pub searches: u64,
    /// Searches that fell back to the exact scan.
    pub fallbacks: u64,
}

/// Centroids trained earlier, as the datasets keep them.
#[derive(Debug, Clone, PartialEq)]
pub struct Centroids {
    /// Vector dimension.
    pub dim: usize,
    /// `partitions × dim`.
    pub values: Vec<f32>,
    /// Memories in the store when they were trained.
    pub trained_rows: usize,
}

/// The index's settings, state and counters.
#[derive(Debug)]
pub struct Ann {
    settings: AnnSettings,
    searches: AtomicU64,
    fallbacks: AtomicU64,
    rebuilds: AtomicU64,
    last_rebuild_ms: Mutex<f64>,
    /// Centroids loaded at start, adopted by the first build.
    saved: Mutex<Option<Centroids>>,
}

impl Ann {
    /// No index yet.
    pub fn new(settings: AnnSettings) -> Self {
        Self {
            settings,
            searches: AtomicU64::new(0),
            fallbacks: AtomicU64::new(0),
            rebuilds: AtomicU64::new(0),
            last_rebuild_ms: Mutex::new(0.0),
            saved: Mutex::new(None),
        }
    }

    /// The settings.
    pub fn settings(&self) -> AnnSettings {
        self.settings
    }

    /// Whether a store of `rows` memories wants an index.
    pub fn wanted(&self, rows: usize) -> bool {
        match self.settings.mode {
            AnnMode::Off => false,
            AnnMode::On => rows >= MIN_TRAIN_ROWS,
            AnnMode::Auto => rows >= self.settings.min_records.max(MIN_TRAIN_ROWS),
        }
    }

    /// Partitions a search of an index of `partitions` bounds from their codes: the setting, or a
    /// thirty-second of them (4 to 64).
    pub fn probes(&self, partitions: usize) -> usize {
        let p = match self.settings.probes {
            0 => (partitions / 32).clamp(4, 64),
            p => p,
        };
        p.min(partitions.max(1))
    }

    /// Centroids saved with the datasets, for the first build to adopt.
    pub fn adopt(&self, saved: Centroids) {
        *self.saved.lock() = Some(saved);
    }

    /// Counts a search answered from the index, or one that fell back to the scan.
    pub fn count_search(&self, fell_back: bool) {
        let counter = if fell_back {
            &self.fallbacks
        } else {
            &self.searches
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Stats of the index over `table`.
    pub fn stats(&self, table: &MemoryTable) -> AnnStats {
        let (indexed, pending, partitions) = table.ivf().map_or((0, 0, 0), |i| {
            (i.indexed() as u64, i.pending() as u64, i.partitions())
        });
        AnnStats {
            enabled: table.ivf().is_some_and(|i| i.pending() == 0) && self.wanted(table.len()),
            indexed_vectors: indexed,
            unindexed_vectors: pending,
            partitions,
            probes: if partitions > 0 {
                self.probes(partitions)
            } else {
                0
            },
            rebuilds: self.rebuilds.load(Ordering::Relaxed),
            last_rebuild_ms: *self.last_rebuild_ms.lock(),
            searches: self.searches.load(Ordering::Relaxed),
            fallbacks: self.fallbacks.load(Ordering::Relaxed),
        }
    }
}

/// Starts the task that keeps `memory`'s index built (nothing with `--agent-memory-ann off`,
/// or outside a Tokio runtime). The work runs on a blocking thread, so searches and writers on
/// the runtime go on; the task holds the store only while working and ends once it is dropped.
pub fn spawn_maintainer(memory: &Arc<AgentMemory>) {
    if memory.ann.settings().mode == AnnMode::Off {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::error!("no runtime for the vector index task; searches use the exact scan");
        return;
    };
    let weak: Weak<AgentMemory> = Arc::downgrade(memory);
    runtime.spawn(async move {
        while let Some(memory) = weak.upgrade() {
            let worked = tokio::task::spawn_blocking(move || {
                let trained = memory.maintain_index();
                (memory, trained)
            })
            .await;
            let Ok((memory, trained)) = worked else {
                tracing::error!("the vector index task failed; searches use the exact scan");
                return;
            };
            if let (Some(saved), Some(datasets)) = (trained, memory.datasets())
                && let Err(e) = datasets.save_centroids(&saved).await
            {
                tracing::warn!("vector index centroids not saved (a restart trains again): {e}");
            }
            drop(memory);
            tokio::time::sleep(POLL).await;
        }
    });
}

impl AgentMemory {
    /// One look at the store: builds, retrains or finishes assigning the index as needed.
    /// Returns newly trained centroids, for the caller to save with the datasets.
    pub(super) fn maintain_index(&self) -> Option<Centroids> {
        let (rows, dim, state) = {
            let t = self.memories.read();
            let state = t.ivf().map(|i| (i.trained_rows(), i.pending()));
            (t.len(), t.dim(), state)
        };
        if dim == 0 || !self.ann.wanted(rows) {
            return None;
        }
        match state {
            None => self.build_index(dim, rows),
            Some((trained, _)) if rows > RETRAIN_GROWTH * trained.max(1) => {
                self.build_index(dim, rows)
            }
            Some((_, pending)) if pending > 0 => {
                self.assign_rows(dim);
                None
            }
            Some(_) => None,
        }
    }

    /// Trains centroids (or adopts the saved ones), installs the index and assigns every row;
    /// returns the centroids when they were trained (not adopted).
    fn build_index(&self, dim: usize, rows: usize) -> Option<Centroids> {
        let started = Instant::now();
        let saved = self.ann.saved.lock().take().filter(|c| c.dim == dim);
        let (centroids, trained_rows, trained) = match saved {
            // Saved centroids serve until the store outgrows them.
            Some(c) if rows <= RETRAIN_GROWTH * c.trained_rows.max(1) => {
                (c.values, c.trained_rows, false)
            }
            _ => {
                let partitions = (rows / ROWS_PER_PARTITION).clamp(1, MAX_PARTITIONS);
                let sample = self.training_sample(partitions * SAMPLE_PER_PARTITION);
                let c = ivf::train(sample, dim, partitions, ITERATIONS, SEED);
                (c, rows, true)
            }
        };
        if centroids.is_empty() {
            return None;
        }
        {
            let mut t = self.memories.write();
            if t.dim() != dim {
                return None;
            }
            let ivf = Ivf::new(dim, centroids.clone(), t.embedded(), trained_rows);
            t.install_ivf(ivf);
        }
        self.assign_rows(dim);
        if trained {
            self.ann.rebuilds.fetch_add(1, Ordering::Relaxed);
        }
        *self.ann.last_rebuild_ms.lock() = started.elapsed().as_secs_f64() * 1e3;
        tracing::info!(
            partitions = centroids.len() / dim,
            rows,
            trained,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "agent memory vector index ready"
        );
        trained.then_some(Centroids {
            dim,
            values: centroids,
            trained_rows,
        })
    }

    /// Up to `n` stored vectors picked at random (the same store, the same pick), copied out
    /// so training holds no lock.
    fn training_sample(&self, n: usize) -> Vec<f32> {
        let t = self.memories.read();
        let embedded: Vec<u32> = t
            .embedded()
            .enumerate()
            .filter(|(_, e)| *e)
            .map(|(r, _)| r as u32)
            .collect();
        let mut sample = Vec::with_capacity(n.min(embedded.len()) * t.dim());
        for i in ivf::pick_distinct(embedded.len(), n, SEED) {
            sample.extend_from_slice(t.vector(embedded[i]));
        }
        sample
    }

    /// Places every pending row: each pass computes under the read lock (searches go on) and
    /// files the result under the write lock, unless rows changed in between; after a few
    /// such misses a pass runs under the write lock, so a busy writer cannot starve it.
    fn assign_rows(&self, dim: usize) {
        let mut misses = 0;
        loop {
            let filed = if misses < 3 {
                let (placed, at) = {
                    let t = self.memories.read();
                    let Some(ivf) = t.ivf() else { return };
                    if ivf.pending() == 0 || t.dim() != dim {
                        return;
                    }
                    let rows = ivf.unassigned(0, ASSIGN_CHUNK);
                    let placed = ivf::nearest_of_rows(ivf.centroids(), dim, &rows, |r| t.vector(r));
                    (placed, t.changes())
                };
                self.memories.write().assign(&placed, at)
            } else {
                let mut t = self.memories.write();
                let Some(ivf) = t.ivf() else { return };
                if ivf.pending() == 0 || t.dim() != dim {
                    return;
                }
                let rows = ivf.unassigned(0, ASSIGN_CHUNK / 8);
                let placed = ivf::nearest_of_rows(ivf.centroids(), dim, &rows, |r| t.vector(r));
                let at = t.changes();
                t.assign(&placed, at)
            };
            if filed {
                misses = 0;
            } else {
                misses += 1;
            }
        }
    }

    /// ANN stats.
    pub fn ann_stats(&self) -> AnnStats {
        self.ann.stats(&self.memories.read())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::record::Memory;
    use crate::memory::service::Limits;

    fn settings(mode: AnnMode) -> AnnSettings {
        AnnSettings {
            mode,
            min_records: 10,
            max_candidates: 50_000,
            probes: 0,
        }
    }

    #[test]
    fn probes_and_thresholds() {
        let ann = Ann::new(settings(AnnMode::Auto));
        assert!(!ann.wanted(1000) && ann.wanted(MIN_TRAIN_ROWS));
        assert_eq!(ann.probes(244), 7);
        assert_eq!(ann.probes(2), 2);
        assert_eq!(ann.probes(10_000), 64);
        let fixed = Ann::new(AnnSettings {
            probes: 3,
            ..settings(AnnMode::On)
        });
        assert_eq!(fixed.probes(244), 3);
        assert!(!Ann::new(settings(AnnMode::Off)).wanted(1 << 20));
    }

    #[test]
    fn the_maintainer_builds_the_index_and_follows_writes() {
        let memory = Arc::new(AgentMemory::with_ann(
            Limits::default(),
            settings(AnnMode::On),
        ));
        let dim = 8;
        let vector = |i: usize| -> Vec<f32> {
            (0..dim)
                .map(|d| {
                    if d == i % dim {
                        1.0
                    } else {
                        (i % 5) as f32 / 50.0
                    }
                })
                .collect()
        };
        for i in 0..2000 {
            memory
                .put_memory(Memory::sample(&format!("m{i}"), vector(i)), 1)
                .unwrap();
        }
        memory.maintain_index();
        let s = memory.ann_stats();
        assert!(s.enabled, "{s:?}");
        assert_eq!((s.indexed_vectors, s.unindexed_vectors), (2000, 0));
        assert_eq!(s.rebuilds, 1);
        // Later writes are placed as they happen.
        memory
            .put_memory(Memory::sample("late", vector(3)), 1)
            .unwrap();
        assert_eq!(memory.ann_stats().indexed_vectors, 2001);
        // Doubling the store retrains.
        for i in 2000..4500 {
            memory
                .put_memory(Memory::sample(&format!("m{i}"), vector(i)), 1)
                .unwrap();
        }
        memory.maintain_index();
        let s = memory.ann_stats();
        assert_eq!((s.rebuilds, s.indexed_vectors), (2, 4501));
    }
}
