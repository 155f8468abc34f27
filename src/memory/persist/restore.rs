//! How the in-memory store meets its persistence: attaching the WAL and datasets, taking the
//! changes a commit writes, and rebuilding from loaded records and replayed WAL entries.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::lance::{Changes, Datasets};
use super::log::{Dirty, Mutation, MutationLog};
use super::schema::MemoryRows;
use crate::memory::AgentMemory;
use crate::memory::memories::MemoryTable;
use crate::memory::record::Memory;
use crate::memory::settings::Limits;

impl AgentMemory {
    /// From now on every change goes to `log` before it is applied, and commits go to
    /// `datasets`.
    pub fn attach(&mut self, log: MutationLog, datasets: Arc<Datasets>) {
        self.log = Some(log);
        self.datasets = Some(datasets);
    }

    /// The Lance datasets, when the store is persisted.
    pub fn datasets(&self) -> Option<&Arc<Datasets>> {
        self.datasets.as_ref()
    }

    /// The changes not yet in the datasets, with the ids they came from and the last WAL
    /// sequence they cover; `None` when there is nothing to commit or no log.
    pub fn take_changes(&self) -> Option<(Changes, Dirty, u64)> {
        let log = self.log.as_ref()?;
        // Both locks: no change can be logged while the dirty set and sequence are taken.
        let table = self.memories.read();
        let cache = self.cache.lock();
        let (dirty, through) = log.take_dirty();
        if dirty.is_empty() {
            log.restore_dirty(dirty);
            return None;
        }
        let mut changes = Changes {
            dim: self.dim(),
            counters: self.counters(),
            ..Changes::default()
        };
        for id in dirty.memories.union(&dirty.touched) {
            match table.get(id) {
                Some(m) => changes.memory_upserts.push(m),
                None => changes.memory_deletes.push(id.clone()),
            }
        }
        for id in &dirty.cache {
            match cache.key_of(id).and_then(|k| cache.get(k)) {
                Some(e) => changes.cache_upserts.push(e.clone()),
                None => changes.cache_deletes.push(id.clone()),
            }
        }
        Some((changes, dirty, through))
    }

    /// Limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The mutation log, when the store is persisted.
    pub fn log(&self) -> Option<&MutationLog> {
        self.log.as_ref()
    }

    /// Applies a change as it was logged (load and replay): no validation, no eviction.
    pub fn restore(&self, mutation: Mutation) {
        match mutation {
            Mutation::PutMemory(mut m) => {
                let vector = std::mem::take(&mut m.embedding);
                let mut table = self.memories.write();
                let vector = self.fit_vector(&mut table, &m, &vector);
                table.upsert_with(m, vector);
            }
            Mutation::DeleteMemory(id) => {
                self.memories.write().remove(&id);
            }
            Mutation::PutCache(mut e) => {
                self.note_id(&e.cache_id, "cache_", &self.next_cache);
                if self.fix_dim(e.embedding.len(), "embedding").is_err() {
                    e.embedding.clear();
                }
                self.cache.lock().upsert(e);
            }
            Mutation::DeleteCache(id) => {
                let mut cache = self.cache.lock();
                if let Some(key) = cache.key_of(&id).map(str::to_string) {
                    cache.remove(&key);
                }
            }
        }
    }

    /// Makes room for `n` memories of dimension `dim` (what a load announces).
    pub fn reserve_memories(&self, n: usize, dim: usize) {
        self.memories.write().reserve(n, dim);
    }

    /// Restores loaded memories under one hold of the table's lock, each vector copied once
    /// from the loaded batch into the table.
    pub fn restore_memories(&self, mut batch: MemoryRows) {
        let mut table = self.memories.write();
        for (i, m) in batch.take_records().into_iter().enumerate() {
            let vector = self.fit_vector(&mut table, &m, batch.vector(i));
            table.upsert_with(m, vector);
        }
    }

    /// Readies the table for a restored memory: notes its id and fixes the dimension; its
    /// vector is dropped (with a warning) when it is of another dimension.
    fn fit_vector<'v>(&self, table: &mut MemoryTable, m: &Memory, vector: &'v [f32]) -> &'v [f32] {
        self.note_id(&m.memory_id, "mem_", &self.next_memory);
        let vector = if self.fix_dim(vector.len(), "embedding").is_err() {
            tracing::warn!(memory_id = %m.memory_id, "dropping a stored embedding of another dimension");
            &[]
        } else {
            vector
        };
        Self::align_table(table, self.dim());
        vector
    }

    /// Keeps generated ids ahead of every `<prefix>N` id seen.
    pub(crate) fn note_id(&self, id: &str, prefix: &str, counter: &AtomicU64) {
        if let Some(n) = id.strip_prefix(prefix).and_then(|n| n.parse::<u64>().ok()) {
            counter.fetch_max(n.saturating_add(1), Ordering::Relaxed);
        }
    }

    /// The next id of a counter (`mem_N`, `cache_N`) no record has.
    pub fn counters(&self) -> (u64, u64) {
        (
            self.next_memory.load(Ordering::Relaxed),
            self.next_cache.load(Ordering::Relaxed),
        )
    }

    /// Restores the id counters saved with the datasets.
    pub fn restore_counters(&self, next_memory: u64, next_cache: u64) {
        self.next_memory.fetch_max(next_memory, Ordering::Relaxed);
        self.next_cache.fetch_max(next_cache, Ordering::Relaxed);
    }
}
