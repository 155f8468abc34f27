//! [`AgentMemory`]: the store behind `/api/ai/*`. It logs every change before applying it,
//! enforces TTL and capacity on every write, and answers point reads and cache lookups from
//! memory. Search lives in `search`, the persistence hooks in `persist::restore`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use parking_lot::{Mutex, RwLock};

use super::ann::{Ann, AnnSettings};
use super::cache::{PromptCache, cache_key};
use super::error::{Error, Result};
use super::memories::MemoryTable;
use super::persist::lance::Datasets;
use super::persist::log::{Mutation, MutationLog};
pub use super::query::{CacheHit, CacheLookup, Match, SearchQuery, Stored};
use super::record::{CacheEntry, Memory};

/// Limits and retention settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// Most memories kept (0: no limit); pinned ones may exceed it.
    pub max_memories: usize,
    /// Most cache entries kept (0: no limit).
    pub max_cache_entries: usize,
}

/// Stats for `/api/ai/stats` and `/metrics` (no content).
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoryStats {
    /// Memories held.
    pub memories: usize,
    /// Cache entries held.
    pub cache_entries: usize,
    /// The store's embedding dimension (0: not fixed yet).
    pub embedding_dim: usize,
    /// Memories removed by TTL or capacity since start.
    pub evicted_memories: u64,
    /// Cache entries removed by TTL or capacity since start.
    pub evicted_cache: u64,
    /// Vector bytes in memory.
    pub vector_bytes: usize,
}

/// Agent memories and the prompt cache.
#[derive(Debug)]
pub struct AgentMemory {
    pub(super) limits: Limits,
    pub(super) memories: RwLock<MemoryTable>,
    pub(super) cache: Mutex<PromptCache>,
    /// One embedding dimension for every vector in the store; 0 until the first arrives.
    pub(super) dim: AtomicUsize,
    pub(super) dim_lock: Mutex<()>,
    pub(super) next_memory: AtomicU64,
    pub(super) next_cache: AtomicU64,
    pub(super) evicted_memories: AtomicU64,
    pub(super) evicted_cache: AtomicU64,
    pub(super) log: Option<MutationLog>,
    pub(super) datasets: Option<Arc<Datasets>>,
    /// Approximate search: the vector index's settings and counters.
    pub(super) ann: Ann,
}

impl AgentMemory {
    /// An empty store without approximate search, kept only in memory until a log is attached.
    pub fn new(limits: Limits) -> Self {
        Self::with_ann(limits, AnnSettings::default())
    }

    /// An empty store whose searches use a vector index as `ann` says (once
    /// [`super::ann::spawn_maintainer`] builds it).
    pub fn with_ann(limits: Limits, ann: AnnSettings) -> Self {
        Self {
            limits,
            memories: RwLock::new(MemoryTable::default()),
            cache: Mutex::new(PromptCache::default()),
            dim: AtomicUsize::new(0),
            dim_lock: Mutex::new(()),
            next_memory: AtomicU64::new(1),
            next_cache: AtomicU64::new(1),
            evicted_memories: AtomicU64::new(0),
            evicted_cache: AtomicU64::new(0),
            log: None,
            datasets: None,
            ann: Ann::new(ann),
        }
    }

    /// The store's embedding dimension (0: none yet).
    pub fn dim(&self) -> usize {
        self.dim.load(Ordering::Acquire)
    }

    /// Checks a vector's length against the store dimension, fixing it on first use.
    pub(super) fn fix_dim(&self, len: usize, field: &'static str) -> Result<()> {
        if len == 0 {
            return Ok(());
        }
        let _one_at_a_time = self.dim_lock.lock();
        match self.dim.load(Ordering::Acquire) {
            0 => {
                self.dim.store(len, Ordering::Release);
                Ok(())
            }
            d if d == len => Ok(()),
            d => Err(Error::DimensionMismatch {
                field,
                expected: d,
                got: len,
                stored: true,
            }),
        }
    }

    pub(super) fn align_table(table: &mut MemoryTable, dim: usize) {
        if table.dim() != dim && dim > 0 {
            table.set_dim(dim);
        }
    }

    fn log_change(&self, mutation: &Mutation, last_seq: &mut Option<u64>) -> Result<()> {
        if let Some(log) = &self.log {
            *last_seq = Some(log.append(mutation, self.dim())?);
        }
        Ok(())
    }

    fn sync(&self, seq: Option<u64>) -> Result<()> {
        match (&self.log, seq) {
            (Some(log), Some(seq)) => log.sync(seq),
            _ => Ok(()),
        }
    }

    /// Stores or replaces a memory (an empty id gets `mem_N`).
    pub fn put_memory(&self, mut memory: Memory, now: i64) -> Result<Stored> {
        let mut seq = None;
        let stored = {
            let mut table = self.memories.write();
            // Refusals first: a refused write must not fix the store's dimension.
            if table
                .tenant_of(&memory.memory_id)
                .is_some_and(|owner| owner != memory.scope.tenant_id)
            {
                return Err(Error::IdTaken {
                    id: memory.memory_id,
                });
            }
            self.fix_dim(memory.embedding.len(), "embedding")?;
            Self::align_table(&mut table, self.dim());
            if memory.memory_id.is_empty() {
                memory.memory_id = loop {
                    let id = format!("mem_{}", self.next_memory.fetch_add(1, Ordering::Relaxed));
                    if !table.contains(&id) {
                        break id;
                    }
                };
            } else {
                self.note_id(&memory.memory_id, "mem_", &self.next_memory);
            }
            let id = memory.memory_id.clone();
            self.log_change(&Mutation::PutMemory(memory.clone()), &mut seq)?;
            table.upsert(memory);
            self.evict_memories(&mut table, now, &mut seq)?;
            let evicted = !table.contains(&id);
            Stored { id, evicted }
        };
        self.sync(seq)?;
        Ok(stored)
    }

    /// TTL first, then capacity: the lowest-retention unpinned memories go until the count fits.
    fn evict_memories(
        &self,
        table: &mut MemoryTable,
        now: i64,
        seq: &mut Option<u64>,
    ) -> Result<()> {
        let mut victims = table.expired(now);
        for id in &victims {
            self.log_change(&Mutation::DeleteMemory(id.clone()), seq)?;
            table.remove(id);
        }
        let max = self.limits.max_memories;
        while max > 0 && table.len() > max {
            let Some(id) = table.eviction_victim(true, now) else {
                break;
            };
            self.log_change(&Mutation::DeleteMemory(id.clone()), seq)?;
            table.remove(&id);
            victims.push(id);
        }
        self.evicted_memories
            .fetch_add(victims.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// One memory, if it exists and belongs to `tenant` (empty: any) and, when given,
    /// `namespace`.
    pub fn get_memory(&self, id: &str, tenant: &str, namespace: Option<&str>) -> Option<Memory> {
        self.memories
            .read()
            .get(id)
            .filter(|m| in_scope(&m.scope.tenant_id, &m.scope.namespace, tenant, namespace))
    }

    /// Deletes one memory; `false` if there was none in scope.
    pub fn delete_memory(&self, id: &str, tenant: &str, namespace: Option<&str>) -> Result<bool> {
        let mut seq = None;
        {
            let mut table = self.memories.write();
            let Some(m) = table.get(id) else {
                return Ok(false);
            };
            if !in_scope(&m.scope.tenant_id, &m.scope.namespace, tenant, namespace) {
                return Ok(false);
            }
            self.log_change(&Mutation::DeleteMemory(id.to_string()), &mut seq)?;
            table.remove(id);
        }
        self.sync(seq)?;
        Ok(true)
    }

    /// Stores or replaces the cache entry of a prompt; returns its id.
    pub fn put_cache(&self, mut entry: CacheEntry, now: i64) -> Result<Stored> {
        let mut seq = None;
        let stored = {
            let mut cache = self.cache.lock();
            self.fix_dim(entry.embedding.len(), "embedding")?;
            let key = cache_key(&entry.tenant_id, &entry.namespace, &entry.prompt);
            entry.cache_id = match cache.get(&key) {
                Some(existing) => existing.cache_id.clone(),
                None => loop {
                    let id = format!("cache_{}", self.next_cache.fetch_add(1, Ordering::Relaxed));
                    if cache.key_of(&id).is_none() {
                        break id;
                    }
                },
            };
            let id = entry.cache_id.clone();
            self.log_change(&Mutation::PutCache(entry.clone()), &mut seq)?;
            cache.upsert(entry);
            self.evict_cache(&mut cache, now, &mut seq)?;
            let evicted = cache.key_of(&id).is_none();
            Stored { id, evicted }
        };
        self.sync(seq)?;
        Ok(stored)
    }

    fn evict_cache(&self, cache: &mut PromptCache, now: i64, seq: &mut Option<u64>) -> Result<()> {
        let mut victims = cache.expired(now);
        let max = self.limits.max_cache_entries;
        let mut evicted = 0u64;
        loop {
            let key = match victims.pop() {
                Some(key) => key,
                None if max > 0 && cache.len() > max => match cache.eviction_victim(now) {
                    Some(key) => key,
                    None => break,
                },
                None => break,
            };
            if let Some(id) = cache.get(&key).map(|e| e.cache_id.clone()) {
                self.log_change(&Mutation::DeleteCache(id), seq)?;
                cache.remove(&key);
                evicted += 1;
            }
        }
        self.evicted_cache.fetch_add(evicted, Ordering::Relaxed);
        Ok(())
    }

    /// Exact prompt lookup, then semantic fallback at `threshold`.
    pub fn lookup_cache(&self, lookup: &CacheLookup, now: i64) -> Result<Option<CacheHit>> {
        let CacheLookup {
            tenant,
            namespace,
            prompt,
            embedding,
            threshold,
        } = lookup;
        let dim = self.dim();
        if !embedding.is_empty() && dim > 0 && embedding.len() != dim {
            return Err(Error::DimensionMismatch {
                field: "embedding",
                expected: dim,
                got: embedding.len(),
                stored: false,
            });
        }
        let hit = self
            .cache
            .lock()
            .lookup(tenant, namespace, prompt, embedding, *threshold, now);
        Ok(hit.map(|(kind, score, entry)| {
            if let Some(log) = &self.log {
                log.touched_cache(&entry.cache_id);
            }
            CacheHit { kind, score, entry }
        }))
    }

    /// Deletes the entry of a prompt; returns its id, `None` if there was none.
    pub fn delete_cache(
        &self,
        tenant: &str,
        namespace: &str,
        prompt: &str,
    ) -> Result<Option<String>> {
        let mut seq = None;
        let id = {
            let mut cache = self.cache.lock();
            let key = cache_key(tenant, namespace, prompt);
            let Some(id) = cache.get(&key).map(|e| e.cache_id.clone()) else {
                return Ok(None);
            };
            self.log_change(&Mutation::DeleteCache(id.clone()), &mut seq)?;
            cache.remove(&key);
            id
        };
        self.sync(seq)?;
        Ok(Some(id))
    }

    /// Current stats.
    pub fn stats(&self) -> MemoryStats {
        let (memories, memory_bytes) = {
            let t = self.memories.read();
            (t.len(), t.vector_bytes())
        };
        let (cache_entries, cache_bytes) = {
            let c = self.cache.lock();
            (c.len(), c.vector_bytes())
        };
        MemoryStats {
            memories,
            cache_entries,
            embedding_dim: self.dim(),
            evicted_memories: self.evicted_memories.load(Ordering::Relaxed),
            evicted_cache: self.evicted_cache.load(Ordering::Relaxed),
            vector_bytes: memory_bytes + cache_bytes,
        }
    }
}

/// Whether a record of `(owner, ns)` is visible to a request for `tenant` (empty: any) and
/// `namespace` (absent: any).
pub(super) fn in_scope(owner: &str, ns: &str, tenant: &str, namespace: Option<&str>) -> bool {
    (tenant.is_empty() || owner == tenant) && namespace.is_none_or(|n| n == ns)
}
