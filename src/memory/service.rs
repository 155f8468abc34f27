//! [`AgentMemory`]: the service behind `/api/ai/*`. It validates what the HTTP layer parsed,
//! logs every change before applying it, enforces TTL and capacity on every write, and answers
//! searches, context assembly and cache lookups from memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use parking_lot::{Mutex, RwLock};

use super::cache::{HitKind, PromptCache, cache_key};
use super::memories::{Filter, MemoryTable, Resolved};
use super::persist::ann::{AnnFigures, Candidates, equals_filter};
use super::persist::lance::{Changes, Datasets};
use super::persist::log::{Dirty, Mutation, MutationLog};
use super::record::{CacheEntry, Memory, estimate_tokens};
use super::score::{Scored, inverse_norm};
use super::stats::ANN_OVERSAMPLE;
use crate::error::{Error, Result};

/// Limits and retention settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// Most memories kept (0: no limit); pinned ones may exceed it.
    pub max_memories: usize,
    /// Most cache entries kept (0: no limit).
    pub max_cache_entries: usize,
}

/// A memory search.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// Which memories qualify.
    pub filter: Filter,
    /// Query vector (empty: rank without similarity).
    pub embedding: Vec<f32>,
    /// Most results.
    pub limit: usize,
}

/// One search result.
#[derive(Debug, Clone)]
pub struct Match {
    /// The memory, access figures after this search counted.
    pub memory: Memory,
    /// Ranking score.
    pub score: f64,
    /// Cosine similarity to the query.
    pub similarity: f64,
}

/// What a store did.
#[derive(Debug, Clone)]
pub struct Stored {
    /// Id of the stored record.
    pub id: String,
    /// Whether capacity eviction removed the record just stored.
    pub evicted: bool,
}

/// A cache hit.
#[derive(Debug, Clone)]
pub struct CacheHit {
    /// Exact or semantic.
    pub kind: HitKind,
    /// 1 for exact hits, the similarity for semantic ones.
    pub score: f64,
    /// The entry.
    pub entry: CacheEntry,
}

/// Figures for `/api/ai/stats` and `/metrics` (no content).
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoryFigures {
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
    limits: Limits,
    memories: RwLock<MemoryTable>,
    cache: Mutex<PromptCache>,
    /// One embedding dimension for every vector in the store; 0 until the first arrives.
    dim: AtomicUsize,
    dim_lock: Mutex<()>,
    next_memory: AtomicU64,
    next_cache: AtomicU64,
    evicted_memories: AtomicU64,
    evicted_cache: AtomicU64,
    log: Option<MutationLog>,
    datasets: Option<Arc<Datasets>>,
}

impl AgentMemory {
    /// An empty store, kept only in memory until a log is attached.
    pub fn new(limits: Limits) -> Self {
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
        }
    }

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
                self.note_id(&m.memory_id, "mem_", &self.next_memory);
                if self.fix_dim(m.embedding.len(), "embedding").is_err() {
                    tracing::warn!(memory_id = %m.memory_id, "dropping a stored embedding of another dimension");
                    m.embedding.clear();
                }
                let mut table = self.memories.write();
                Self::align_table(&mut table, self.dim());
                table.upsert(m);
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

    /// Keeps generated ids ahead of every `<prefix>N` id seen.
    fn note_id(&self, id: &str, prefix: &str, counter: &AtomicU64) {
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

    /// The store's embedding dimension (0: none yet).
    pub fn dim(&self) -> usize {
        self.dim.load(Ordering::Acquire)
    }

    /// Checks a vector's length against the store dimension, fixing it on first use.
    fn fix_dim(&self, len: usize, field: &str) -> Result<()> {
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
            d => Err(Error::BadRequest(format!(
                "{field} dimension mismatch: expected {d}, got {len} (the first embedding stored fixes the dimension for the whole store)"
            ))),
        }
    }

    fn align_table(table: &mut MemoryTable, dim: usize) {
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
                .is_some_and(|owner| owner != memory.tenant_id)
            {
                return Err(Error::BadRequest(format!(
                    "memory_id '{}' is already used by another tenant; choose another id",
                    memory.memory_id
                )));
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
            .filter(|m| in_scope(&m.tenant_id, &m.namespace, tenant, namespace))
    }

    /// Deletes one memory; `false` if there was none in scope.
    pub fn delete_memory(&self, id: &str, tenant: &str, namespace: Option<&str>) -> Result<bool> {
        let mut seq = None;
        {
            let mut table = self.memories.write();
            let Some(m) = table.get(id) else {
                return Ok(false);
            };
            if !in_scope(&m.tenant_id, &m.namespace, tenant, namespace) {
                return Ok(false);
            }
            self.log_change(&Mutation::DeleteMemory(id.to_string()), &mut seq)?;
            table.remove(id);
        }
        self.sync(seq)?;
        Ok(true)
    }

    /// The best `limit` memories for a query, best first; each counts one access.
    pub fn search(&self, query: &SearchQuery, now: i64) -> Result<Vec<Match>> {
        let dim = self.dim();
        if !query.embedding.is_empty() && dim > 0 && query.embedding.len() != dim {
            return Err(Error::BadRequest(format!(
                "query_embedding dimension mismatch: expected {dim}, got {}",
                query.embedding.len()
            )));
        }
        let normalised: Vec<f32> = {
            let inv = inverse_norm(&query.embedding);
            query.embedding.iter().map(|x| x * inv).collect()
        };
        let embedding = (!query.embedding.is_empty()).then_some(normalised.as_slice());
        // Candidates from the vector index are fetched before the table is locked: the index
        // search is I/O and must not hold up writers.
        let candidates = match embedding {
            Some(q) => self.ann_candidates(query, q),
            None => None,
        };
        let table = self.memories.read();
        let Some(filter) = table.resolve(&query.filter) else {
            return Ok(Vec::new());
        };
        let hits = match candidates {
            Some(c) => {
                let dirty = self
                    .log
                    .as_ref()
                    .map(|l| l.dirty_memories())
                    .unwrap_or_default();
                let rows = c
                    .ids
                    .iter()
                    .chain(dirty.iter())
                    .filter_map(|id| table.row_of(id))
                    .collect::<std::collections::BTreeSet<u32>>();
                let ranked =
                    table.rank_rows(rows.iter().copied(), &filter, embedding, query.limit, now);
                // When every indexed match came back, only memories without a vector (similarity
                // 0) were left out.
                let left_out = if c.complete { 0.0 } else { c.min_similarity };
                let exact = ranked.len() == query.limit
                    && Self::provably_best(&table, &filter, &ranked, &rows, left_out, now);
                if let Some(d) = &self.datasets {
                    d.ann().count_search(!exact);
                }
                if exact {
                    ranked
                } else {
                    table.search(&filter, embedding, query.limit, now)
                }
            }
            None => table.search(&filter, embedding, query.limit, now),
        };
        let rows: Vec<u32> = hits.iter().map(|h| h.row).collect();
        table.touch(&rows, now);
        let matches: Vec<Match> = hits
            .iter()
            .map(|h| Match {
                memory: table.row(h.row),
                score: h.score,
                similarity: h.similarity,
            })
            .collect();
        if let Some(log) = &self.log {
            log.touched_memories(matches.iter().map(|m| m.memory.memory_id.as_str()));
        }
        Ok(matches)
    }

    /// Context assembly: the ranked memories of `query`, each distinct content once, taken
    /// greedily while they fit `token_budget` (0: no limit; negative: nothing). Returns the
    /// memories taken and their tokens.
    pub fn context(
        &self,
        query: &SearchQuery,
        token_budget: i64,
        now: i64,
    ) -> Result<(Vec<Match>, i64)> {
        if token_budget < 0 {
            return Ok((Vec::new(), 0));
        }
        let mut seen = std::collections::HashSet::new();
        let mut taken = Vec::new();
        let mut used = 0i64;
        for m in self.search(query, now)? {
            if seen.contains(&m.memory.content) {
                continue;
            }
            let tokens = if m.memory.token_count > 0 {
                m.memory.token_count
            } else {
                estimate_tokens(&m.memory.content)
            };
            // Greedy: a later, smaller memory may still fit.
            if token_budget > 0 && used + tokens > token_budget {
                continue;
            }
            used += tokens;
            seen.insert(m.memory.content.clone());
            taken.push(m);
        }
        Ok((taken, used))
    }

    /// Whether the ranked candidates are certainly the exact answer: no memory outside them can
    /// outscore the last one kept. A memory left out by the index is at most `min_similarity`
    /// similar to the query (one without a vector counts 0), so it scores at most
    /// `10·max(min_similarity, 0)` plus the largest non-similarity part of any memory outside
    /// the candidates.
    fn provably_best(
        table: &MemoryTable,
        filter: &Resolved,
        ranked: &[Scored],
        candidates: &std::collections::BTreeSet<u32>,
        min_similarity: f64,
        now: i64,
    ) -> bool {
        let Some(last) = ranked.last() else {
            return true;
        };
        // Room for float error between Lance's distances and ours.
        let ceiling = 10.0 * min_similarity.max(0.0) + 1e-5;
        // Cheapest bound first; the scans over every memory only when it is not enough.
        if last.score > ceiling + table.bonus_ceiling(now)
            || last.score > ceiling + table.max_bonus(filter, None, now)
        {
            return true;
        }
        let mut skip = vec![false; table.len()];
        for &r in candidates {
            skip[r as usize] = true;
        }
        last.score > ceiling + table.max_bonus(filter, Some(&skip), now)
    }

    /// Ids the vector index proposes for a search, when approximate search applies: a persisted
    /// store with a usable index, a query naming its tenant and namespace (the index partition
    /// the reference uses too), and a query vector.
    fn ann_candidates(&self, query: &SearchQuery, normalised: &[f32]) -> Option<Candidates> {
        let datasets = self.datasets.as_ref()?;
        let ann = datasets.ann();
        let f = &query.filter;
        if query.limit == 0
            || f.tenant_id.is_empty()
            || f.namespace.is_empty()
            || !ann.usable(self.memories.read().len())
        {
            return None;
        }
        let mut terms = vec![
            ("tenant_id", f.tenant_id.as_str()),
            ("namespace", f.namespace.as_str()),
        ];
        for (column, value) in [
            ("user_id", &f.user_id),
            ("session_id", &f.session_id),
            ("agent_id", &f.agent_id),
            ("type", &f.kind),
        ] {
            if !value.is_empty() {
                terms.push((column, value.as_str()));
            }
        }
        let filter = equals_filter(&terms);
        let k = query.limit.saturating_mul(ANN_OVERSAMPLE);
        let handle = tokio::runtime::Handle::try_current().ok()?;
        match handle.block_on(ann.candidates(normalised, &filter, k)) {
            Ok(candidates) => candidates,
            Err(e) => {
                tracing::warn!("vector index search failed, using the exact scan: {e}");
                None
            }
        }
    }

    /// ANN figures (all zero for a store kept only in memory).
    pub fn ann_figures(&self) -> AnnFigures {
        self.datasets
            .as_ref()
            .map(|d| d.ann().figures())
            .unwrap_or_default()
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
    pub fn lookup_cache(
        &self,
        tenant: &str,
        namespace: &str,
        prompt: &str,
        embedding: &[f32],
        threshold: f64,
        now: i64,
    ) -> Result<Option<CacheHit>> {
        let dim = self.dim();
        if !embedding.is_empty() && dim > 0 && embedding.len() != dim {
            return Err(Error::BadRequest(format!(
                "embedding dimension mismatch: expected {dim}, got {}",
                embedding.len()
            )));
        }
        let hit = self
            .cache
            .lock()
            .lookup(tenant, namespace, prompt, embedding, threshold, now);
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

    /// Current figures.
    pub fn figures(&self) -> MemoryFigures {
        let (memories, memory_bytes) = {
            let t = self.memories.read();
            (t.len(), t.vector_bytes())
        };
        let (cache_entries, cache_bytes) = {
            let c = self.cache.lock();
            (c.len(), c.vector_bytes())
        };
        MemoryFigures {
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
fn in_scope(owner: &str, ns: &str, tenant: &str, namespace: Option<&str>) -> bool {
    (tenant.is_empty() || owner == tenant) && namespace.is_none_or(|n| n == ns)
}
