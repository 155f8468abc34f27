//! The memory table: every memory in columns shaped for the exact scan.
//!
//! Vectors sit in one contiguous `f32` matrix (row-major, one row per memory) next to a compact
//! per-row header of interned scope ids, times and ranking inputs, so a search streams through
//! memory once and compares integers instead of strings. Rows are dense: a removal moves the last
//! row into the hole. Access counts are atomics, so searches bump them under a shared lock.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use super::ivf::Ivf;
use super::record::Memory;
use super::scope::{SCOPE_LEN, Scope};
use super::score::{Scored, TopK, dot, inverse_norm, memory_retention, rank};

/// Rows × dimension from which a scan is split over every core.
const PARALLEL_MIN_FLOATS: usize = 1 << 21;

/// A search's [`Scope`] with its strings turned into interned ids (`None`: wildcard).
#[derive(Debug, Clone, Copy)]
pub struct Resolved {
    scopes: [Option<u32>; SCOPE_LEN],
}

/// The scan-time header of one row.
#[derive(Debug, Clone, Copy)]
struct Header {
    /// tenant, namespace, user, session, agent, type (interned).
    scopes: [u32; SCOPE_LEN],
    created_at_ns: i64,
    expires_at_ns: i64,
    importance: f64,
    /// `1/‖v‖`; 0 when the memory has no (or a zero) embedding.
    inv_norm: f32,
    pinned: bool,
    embedded: bool,
}

/// Every memory, scan-ready.
#[derive(Debug, Default)]
pub struct MemoryTable {
    dim: usize,
    /// Each memory without its embedding (that is in `vectors`) and access figures (atomics).
    records: Vec<Memory>,
    headers: Vec<Header>,
    vectors: Vec<f32>,
    access_count: Vec<AtomicU64>,
    last_accessed: Vec<AtomicI64>,
    by_id: HashMap<String, u32>,
    /// (expiry, id) of memories that expire.
    expiries: BTreeSet<(i64, String)>,
    interner: Interner,
    /// Running maxima of the score's non-similarity inputs, for [`MemoryTable::bonus_ceiling`].
    /// They only grow (removals leave them high), which keeps the ceiling safe.
    ceiling: Ceiling,
    /// The vector index, kept in step with every row change once installed.
    ivf: Option<Ivf>,
    /// Row changes so far: work computed against row numbers is valid while this stands still.
    changes: u64,
}

#[derive(Debug)]
struct Ceiling {
    importance_and_pin: f64,
    newest: i64,
    accesses: AtomicU64,
}

impl Default for Ceiling {
    fn default() -> Self {
        Self {
            importance_and_pin: f64::NEG_INFINITY,
            newest: 0,
            accesses: AtomicU64::new(0),
        }
    }
}

impl MemoryTable {
    /// Number of memories.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The vector dimension of the rows (0: not fixed yet).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Bytes of vector data held.
    pub fn vector_bytes(&self) -> usize {
        self.vectors.len() * std::mem::size_of::<f32>()
    }

    /// Fixes the embedding dimension; rows stored so far (all without embeddings) get zero
    /// vectors. Only valid while no row has an embedding.
    pub fn set_dim(&mut self, dim: usize) {
        debug_assert!(self.headers.iter().all(|h| !h.embedded));
        self.dim = dim;
        // Keeps the room a load reserved.
        self.vectors.clear();
        self.vectors.resize(self.records.len() * dim, 0.0);
        self.ivf = None;
        self.changes += 1;
    }

    /// The vector index, if one is installed.
    pub fn ivf(&self) -> Option<&Ivf> {
        self.ivf.as_ref()
    }

    /// Installs (or replaces) the vector index; its rows are then assigned with
    /// [`MemoryTable::assign`].
    pub fn install_ivf(&mut self, ivf: Ivf) {
        self.ivf = Some(ivf);
    }

    /// Which rows have a vector, in row order.
    pub fn embedded(&self) -> impl Iterator<Item = bool> + '_ {
        self.headers.iter().map(|h| h.embedded)
    }

    /// How many row changes the table has seen (see [`MemoryTable::assign`]).
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// Places rows in the index's partitions, `(row, partition)` as computed when
    /// [`MemoryTable::changes`] read `at`; refused (`false`) if rows changed since.
    pub fn assign(&mut self, placed: &[(u32, u32)], at: u64) -> bool {
        match &mut self.ivf {
            Some(ivf) if self.changes == at => {
                let (vectors, dim) = (&self.vectors, self.dim);
                ivf.assign(placed, |r| {
                    &vectors[r as usize * dim..(r as usize + 1) * dim]
                });
                true
            }
            _ => false,
        }
    }

    /// The stored vector of `row` (zeros when it has none).
    pub fn vector(&self, row: u32) -> &[f32] {
        let r = row as usize;
        &self.vectors[r * self.dim..(r + 1) * self.dim]
    }

    /// Whether a memory with this id exists.
    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// Tenant of a stored memory.
    pub fn tenant_of(&self, id: &str) -> Option<&str> {
        self.by_id
            .get(id)
            .map(|&r| self.records[r as usize].scope.tenant_id.as_str())
    }

    /// Makes room for `n` more rows of dimension `dim` (0: unknown yet, vectors grow later).
    pub fn reserve(&mut self, n: usize, dim: usize) {
        self.records.reserve(n);
        self.headers.reserve(n);
        self.access_count.reserve(n);
        self.last_accessed.reserve(n);
        self.by_id.reserve(n);
        self.vectors.reserve(n.saturating_mul(dim));
    }

    /// Inserts or replaces (by id) a memory whose embedding is empty or of the table's
    /// dimension; returns the replaced one.
    pub fn upsert(&mut self, mut memory: Memory) -> Option<Memory> {
        let embedding = std::mem::take(&mut memory.embedding);
        self.upsert_with(memory, &embedding)
    }

    /// [`MemoryTable::upsert`] with the vector apart (`memory.embedding` is ignored).
    pub fn upsert_with(&mut self, mut memory: Memory, embedding: &[f32]) -> Option<Memory> {
        memory.embedding = Vec::new();
        debug_assert!(embedding.is_empty() || embedding.len() == self.dim);
        let header = Header {
            scopes: memory.scope.values().map(|v| self.interner.intern(v)),
            created_at_ns: memory.created_at_ns,
            expires_at_ns: memory.expires_at_ns,
            importance: memory.importance,
            inv_norm: inverse_norm(embedding),
            pinned: memory.pinned,
            embedded: !embedding.is_empty(),
        };
        if memory.expires_at_ns > 0 {
            self.expiries
                .insert((memory.expires_at_ns, memory.memory_id.clone()));
        }
        let c = &mut self.ceiling;
        let pin = if memory.pinned { 5.0 } else { 0.0 };
        c.importance_and_pin = c.importance_and_pin.max(memory.importance + pin);
        c.newest = c.newest.max(memory.created_at_ns);
        c.accesses.fetch_max(memory.access_count, Ordering::Relaxed);
        let dim = self.dim;
        if let Some(&row) = self.by_id.get(&memory.memory_id) {
            let r = row as usize;
            let old = self.take_row(r);
            if old.expires_at_ns > 0 && old.expires_at_ns != memory.expires_at_ns {
                self.expiries
                    .remove(&(old.expires_at_ns, old.memory_id.clone()));
            }
            let slot = &mut self.vectors[r * dim..(r + 1) * dim];
            if embedding.is_empty() {
                slot.fill(0.0);
            } else {
                slot.copy_from_slice(embedding);
            }
            self.headers[r] = header;
            self.access_count[r] = AtomicU64::new(memory.access_count);
            self.last_accessed[r] = AtomicI64::new(memory.last_accessed_ns);
            self.records[r] = memory;
            self.changes += 1;
            if let Some(ivf) = &mut self.ivf {
                let v = &self.vectors[r * dim..(r + 1) * dim];
                ivf.replace(row, header.embedded.then_some(v));
            }
            Some(old)
        } else {
            let row = self.records.len() as u32;
            if embedding.is_empty() {
                self.vectors.resize(self.vectors.len() + dim, 0.0);
            } else {
                self.vectors.extend_from_slice(embedding);
            }
            self.headers.push(header);
            self.access_count.push(AtomicU64::new(memory.access_count));
            self.last_accessed
                .push(AtomicI64::new(memory.last_accessed_ns));
            self.by_id.insert(memory.memory_id.clone(), row);
            self.records.push(memory);
            self.changes += 1;
            if let Some(ivf) = &mut self.ivf {
                let r = row as usize;
                let v = &self.vectors[r * dim..(r + 1) * dim];
                ivf.push(header.embedded.then_some(v));
            }
            None
        }
    }

    /// Removes a memory; returns it.
    pub fn remove(&mut self, id: &str) -> Option<Memory> {
        let row = self.by_id.remove(id)? as usize;
        let removed = self.take_row(row);
        if removed.expires_at_ns > 0 {
            self.expiries
                .remove(&(removed.expires_at_ns, removed.memory_id.clone()));
        }
        let last = self.records.len() - 1;
        let dim = self.dim;
        if row != last {
            self.vectors
                .copy_within(last * dim..(last + 1) * dim, row * dim);
            let moved = self.records[last].memory_id.clone();
            self.by_id.insert(moved, row as u32);
        }
        self.vectors.truncate(last * dim);
        self.records.swap_remove(row);
        self.headers.swap_remove(row);
        self.access_count.swap_remove(row);
        self.last_accessed.swap_remove(row);
        self.changes += 1;
        if let Some(ivf) = &mut self.ivf {
            ivf.swap_remove(row as u32);
        }
        Some(removed)
    }

    /// A copy of one memory, embedding and access figures included.
    pub fn get(&self, id: &str) -> Option<Memory> {
        self.by_id.get(id).map(|&r| self.take_row(r as usize))
    }

    /// A copy of the memory at `row`.
    pub fn row(&self, row: u32) -> Memory {
        self.take_row(row as usize)
    }

    fn take_row(&self, r: usize) -> Memory {
        let mut m = self.records[r].clone();
        if self.headers[r].embedded {
            m.embedding = self.vectors[r * self.dim..(r + 1) * self.dim].to_vec();
        }
        m.access_count = self.access_count[r].load(Ordering::Relaxed);
        m.last_accessed_ns = self.last_accessed[r].load(Ordering::Relaxed);
        m
    }

    /// Counts one more access of `rows` at `now` (searches and context assembly).
    pub fn touch(&self, rows: &[u32], now: i64) {
        for &r in rows {
            let count = self.access_count[r as usize].fetch_add(1, Ordering::Relaxed) + 1;
            self.ceiling.accesses.fetch_max(count, Ordering::Relaxed);
            self.last_accessed[r as usize].store(now, Ordering::Relaxed);
        }
    }

    /// The filter's strings as interned ids; `None` when some value was never stored, so
    /// nothing can match.
    pub fn resolve(&self, filter: &Scope) -> Option<Resolved> {
        let mut scopes = [None; SCOPE_LEN];
        for (slot, value) in scopes.iter_mut().zip(filter.values()) {
            if !value.is_empty() {
                *slot = Some(self.interner.get(value)?);
            }
        }
        Some(Resolved { scopes })
    }

    /// Whether row `r` matches `filter` and has not expired at `now`.
    pub(super) fn matches(&self, r: usize, filter: &Resolved, now: i64) -> bool {
        let h = &self.headers[r];
        if h.expires_at_ns > 0 && h.expires_at_ns <= now {
            return false;
        }
        filter
            .scopes
            .iter()
            .zip(&h.scopes)
            .all(|(want, have)| want.is_none_or(|w| w == *have))
    }

    /// Cosine similarity of row `r` with the normalised `query`, computed exactly as the scan
    /// computes it (0 for a row without a vector).
    pub(super) fn similarity(&self, r: usize, query: &[f32]) -> f64 {
        let h = &self.headers[r];
        if h.embedded && query.len() == self.dim {
            f64::from(dot(query, &self.vectors[r * self.dim..(r + 1) * self.dim]) * h.inv_norm)
        } else {
            0.0
        }
    }

    fn score_row(&self, r: usize, query: Option<&[f32]>, now: i64) -> (f64, f64) {
        let similarity = query.map_or(0.0, |q| self.similarity(r, q));
        self.score_known(r, query.map(|_| similarity), now)
    }

    /// Row `r`'s score with its similarity already known (`None`: no query vector).
    fn score_known(&self, r: usize, similarity: Option<f64>, now: i64) -> (f64, f64) {
        let h = &self.headers[r];
        let score = rank(
            similarity,
            h.importance,
            h.pinned,
            h.created_at_ns,
            self.access_count[r].load(Ordering::Relaxed),
            now,
        );
        (score, similarity.unwrap_or(0.0))
    }

    /// The best `k` of rows whose similarity to the query is known (ANN candidates), best
    /// first; the rows match the search's filter.
    pub fn rank_known(&self, rows: &[(f64, u32)], k: usize, now: i64) -> Vec<Scored> {
        let mut top = TopK::new(k);
        for &(similarity, row) in rows {
            let (score, similarity) = self.score_known(row as usize, Some(similarity), now);
            top.push(Scored {
                score,
                similarity,
                created_at_ns: self.headers[row as usize].created_at_ns,
                row,
            });
        }
        top.into_sorted()
    }

    /// The best `k` matching memories, best first. `query` must be L2-normalised.
    pub fn search(
        &self,
        filter: &Resolved,
        query: Option<&[f32]>,
        k: usize,
        now: i64,
    ) -> Vec<Scored> {
        let n = self.records.len();
        if k == 0 || n == 0 {
            return Vec::new();
        }
        let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
        if threads < 2 || n * self.dim.max(1) < PARALLEL_MIN_FLOATS {
            return self.scan(0..n, filter, query, k, now).into_sorted();
        }
        let chunk = n.div_ceil(threads);
        let mut top = TopK::new(k);
        std::thread::scope(|s| {
            let workers: Vec<_> = (1..threads)
                .map(|t| {
                    let range = (t * chunk).min(n)..((t + 1) * chunk).min(n);
                    s.spawn(move || self.scan(range, filter, query, k, now))
                })
                .collect();
            top.merge(self.scan(0..chunk.min(n), filter, query, k, now));
            for w in workers {
                match w.join() {
                    Ok(part) => top.merge(part),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
        });
        top.into_sorted()
    }

    fn scan(
        &self,
        rows: std::ops::Range<usize>,
        filter: &Resolved,
        query: Option<&[f32]>,
        k: usize,
        now: i64,
    ) -> TopK {
        let mut top = TopK::new(k);
        for r in rows {
            if !self.matches(r, filter, now) {
                continue;
            }
            let (score, similarity) = self.score_row(r, query, now);
            if top.admits(score) {
                top.push(Scored {
                    score,
                    similarity,
                    created_at_ns: self.headers[r].created_at_ns,
                    row: r as u32,
                });
            }
        }
        top
    }

    /// A bound, in O(1), on what any memory scores without its similarity term: the largest
    /// importance plus pin bonus ever stored, the newest creation's recency (1 if it lies in
    /// the future), and the access bonus of the most accessed memory.
    pub fn bonus_ceiling(&self, now: i64) -> f64 {
        let c = &self.ceiling;
        let recency = if c.newest > 0 && now > c.newest {
            rank(None, 0.0, false, c.newest, 0, now)
        } else {
            1.0
        };
        c.importance_and_pin + recency + (0.01 * c.accesses.load(Ordering::Relaxed) as f64).min(1.0)
    }

    /// Rows matching `filter` whose score without its similarity term (the importance,
    /// pinning, recency and access parts) exceeds `threshold`: the only memories a candidate
    /// set must also hold when everything else is bounded by `threshold` plus a similarity.
    pub fn rows_above(&self, filter: &Resolved, threshold: f64, now: i64) -> Vec<u32> {
        (0..self.records.len())
            .filter(|&r| self.bonus(r, now) > threshold && self.matches(r, filter, now))
            .map(|r| r as u32)
            .collect()
    }

    /// Row `r`'s score without its similarity term.
    fn bonus(&self, r: usize, now: i64) -> f64 {
        let h = &self.headers[r];
        rank(
            None,
            h.importance,
            h.pinned,
            h.created_at_ns,
            self.access_count[r].load(Ordering::Relaxed),
            now,
        )
    }

    /// Ids of memories expired at `now`.
    pub fn expired(&self, now: i64) -> Vec<String> {
        self.expiries
            .range(..=(now, String::from("\u{10FFFF}")))
            .map(|(_, id)| id.clone())
            .collect()
    }

    /// The memory capacity eviction takes next: lowest retention (oldest on ties), never a
    /// pinned one when `protect_pinned`.
    pub fn eviction_victim(&self, protect_pinned: bool, now: i64) -> Option<String> {
        let mut best: Option<(f64, i64, usize)> = None;
        for (r, h) in self.headers.iter().enumerate() {
            if protect_pinned && h.pinned {
                continue;
            }
            let touched = self.last_accessed[r].load(Ordering::Relaxed);
            let touched = if touched > 0 {
                touched
            } else {
                h.created_at_ns
            };
            let retention = memory_retention(
                h.importance,
                self.access_count[r].load(Ordering::Relaxed),
                touched,
                h.pinned,
                now,
            );
            let better = best
                .is_none_or(|(s, c, _)| retention < s || (retention == s && h.created_at_ns < c));
            if better {
                best = Some((retention, h.created_at_ns, r));
            }
        }
        best.map(|(_, _, r)| self.records[r].memory_id.clone())
    }
}

/// Strings to small ids, so scans compare integers. Ids are never reused.
#[derive(Debug, Default)]
struct Interner {
    ids: HashMap<String, u32>,
}

impl Interner {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.ids.len() as u32;
        self.ids.insert(s.to_string(), id);
        id
    }

    fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory(id: &str, tenant: &str, embedding: Vec<f32>) -> Memory {
        let mut memory = Memory::sample(id, embedding);
        memory.scope.tenant_id = tenant.into();
        memory
    }

    fn filter(tenant: &str) -> Scope {
        Scope {
            tenant_id: tenant.into(),
            namespace: "default".into(),
            ..Scope::default()
        }
    }

    #[test]
    fn upsert_remove_and_search_keep_rows_consistent() {
        let mut t = MemoryTable::default();
        t.set_dim(2);
        t.upsert(memory("a", "t1", vec![1.0, 0.0]));
        t.upsert(memory("b", "t1", vec![0.0, 2.0]));
        t.upsert(memory("c", "t2", vec![1.0, 1.0]));
        t.upsert(memory("d", "t1", vec![]));
        assert_eq!(t.remove("a").map(|m| m.embedding), Some(vec![1.0, 0.0]));
        // "d" moved into row 0: its vector must have moved with it.
        assert_eq!(t.get("d").map(|m| m.embedding), Some(vec![]));
        assert_eq!(t.get("b").map(|m| m.embedding), Some(vec![0.0, 2.0]));
        let f = t.resolve(&filter("t1")).unwrap();
        let hits = t.search(&f, Some(&[0.0, 1.0]), 10, 2);
        let ids: Vec<_> = hits.iter().map(|s| t.row(s.row).memory_id).collect();
        assert_eq!(ids, vec!["b", "d"]);
        assert!((hits[0].similarity - 1.0).abs() < 1e-6);
        assert!(t.resolve(&filter("nobody")).is_none());
        let everyone = t.resolve(&filter("")).unwrap();
        assert_eq!(t.search(&everyone, None, 10, 2).len(), 3);
    }

    #[test]
    fn parallel_scan_finds_what_a_serial_scan_finds() {
        let mut t = MemoryTable::default();
        let dim = 64;
        t.set_dim(dim);
        let n = PARALLEL_MIN_FLOATS / dim + 1000;
        for i in 0..n {
            let v: Vec<f32> = (0..dim)
                .map(|j| ((i * 31 + j * 7) % 97) as f32 - 48.0)
                .collect();
            t.upsert(memory(&format!("m{i}"), "t", v));
        }
        let f = t.resolve(&filter("t")).unwrap();
        let q: Vec<f32> = (0..dim).map(|j| (j % 5) as f32).collect();
        let inv = inverse_norm(&q);
        let q: Vec<f32> = q.iter().map(|x| x * inv).collect();
        let parallel = t.search(&f, Some(&q), 20, 2);
        let serial = t.scan(0..n, &f, Some(&q), 20, 2).into_sorted();
        let rows = |v: &[Scored]| v.iter().map(|s| s.row).collect::<Vec<_>>();
        assert_eq!(rows(&parallel), rows(&serial));
    }

    #[test]
    fn bonus_ceiling_bounds_every_bonus() {
        let mut t = MemoryTable::default();
        let now = 10 * 3_600_000_000_000;
        let mut a = memory("a", "t", vec![]);
        a.importance = 2.0;
        a.created_at_ns = now - 3_600_000_000_000;
        let mut b = memory("b", "t", vec![]);
        b.pinned = true;
        t.upsert(a);
        t.upsert(b);
        t.touch(&[0, 0, 0], now);
        let all = t.resolve(&filter("t")).unwrap();
        let ceiling = t.bonus_ceiling(now);
        // 5 (pin) + 0.5 (recency of the newest) + 0.03 (three accesses) bounds both memories.
        assert!((ceiling - 5.53).abs() < 1e-9, "{ceiling}");
        assert!(t.rows_above(&all, ceiling, now).is_empty());
        // a: 2 + 0.5 + 0.03; b: 5.
        assert_eq!(t.rows_above(&all, 2.6, now), vec![1]);
        assert_eq!(t.rows_above(&all, 2.0, now), vec![0, 1]);
    }

    #[test]
    fn expiry_and_eviction_victims() {
        let mut t = MemoryTable::default();
        let mut a = memory("a", "t", vec![]);
        a.expires_at_ns = 10;
        let mut b = memory("b", "t", vec![]);
        b.importance = 1.0;
        let mut p = memory("p", "t", vec![]);
        p.pinned = true;
        t.upsert(a);
        t.upsert(b);
        t.upsert(p);
        assert_eq!(t.expired(9), Vec::<String>::new());
        assert_eq!(t.expired(10), vec!["a".to_string()]);
        assert_eq!(t.eviction_victim(true, 20).as_deref(), Some("a"));
        t.remove("a");
        assert_eq!(t.expired(10), Vec::<String>::new());
        assert_eq!(t.eviction_victim(true, 20).as_deref(), Some("b"));
        t.remove("b");
        assert_eq!(t.eviction_victim(true, 20), None);
        assert_eq!(t.eviction_victim(false, 20).as_deref(), Some("p"));
    }
}
