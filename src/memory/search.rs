//! Search and context assembly: the vector index (when it applies) answers from the rows of
//! the partitions nearest the query, and its answer is kept only when it provably is the
//! exact scan's; otherwise the exact scan answers.
//!
//! The index's rows are first bounded from their 8-bit codes (`codes.rs`), read in partition
//! order; only the rows whose bound reaches the best similarities found are compared exactly,
//! from the table's vectors as the scan compares them.

use std::sync::Arc;

use super::AgentMemory;
use super::error::{Error, Result};
use super::ivf::Ivf;
use super::memories::{MemoryTable, Resolved};
use super::parallel::map_rows;
use super::query::{Match, SearchQuery};
use super::record::estimate_tokens;
use super::score::{Scored, inverse_norm};
use super::stats::ANN_OVERSAMPLE;

/// Rows compared in a search from which the comparisons are split over every core.
const PARALLEL_ROWS: usize = 16 * 1024;
/// When the bound fails, the candidates are widened once by this factor: enough for the access
/// counts of a busy store, and still the nearest neighbours (an IVF index's assumption, that
/// what is nearest lies in the nearest partitions, weakens as the candidates reach further).
const WIDEN: usize = 4;

impl AgentMemory {
    /// The best `limit` memories for a query, best first; each counts one access. The ranking
    /// (CPU, proportional to what it reads) runs on a blocking thread so it cannot stall the
    /// runtime's I/O threads.
    pub async fn search(self: &Arc<Self>, query: SearchQuery, now: i64) -> Result<Vec<Match>> {
        let dim = self.dim();
        if !query.embedding.is_empty() && dim > 0 && query.embedding.len() != dim {
            return Err(Error::DimensionMismatch {
                field: "query_embedding",
                expected: dim,
                got: query.embedding.len(),
                stored: false,
            });
        }
        let normalised: Vec<f32> = {
            let inv = inverse_norm(&query.embedding);
            query.embedding.iter().map(|x| x * inv).collect()
        };
        let memory = Arc::clone(self);
        tokio::task::spawn_blocking(move || memory.rank(&query, &normalised, now)).await?
    }

    /// The ranking part of [`AgentMemory::search`]: the index's answer when it provably is the
    /// exact one, else the exact scan.
    fn rank(&self, query: &SearchQuery, normalised: &[f32], now: i64) -> Result<Vec<Match>> {
        let embedding = (!query.embedding.is_empty()).then_some(normalised);
        let table = self.memories.read();
        let Some(filter) = table.resolve(&query.filter) else {
            return Ok(Vec::new());
        };
        let approximate = match embedding {
            Some(q) if query.limit > 0 && self.ann.wanted(table.len()) && table.ivf().is_some() => {
                let answer = self.approximate(&table, &filter, q, query.limit, now);
                self.ann.count_search(answer.is_none());
                answer
            }
            _ => None,
        };
        let hits = match approximate {
            Some(hits) => hits,
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

    /// The best `limit` memories from the vector index, when they provably are the exact
    /// answer; `None` sends the search to the exact scan (no index, rows not all placed yet,
    /// or no proof).
    ///
    /// The rows of the partitions nearest the query (more partitions while fewer than the
    /// candidates wanted match the filter) are bounded from their codes, and compared exactly,
    /// as the scan compares them, in the order of their bounds until no bound left reaches the
    /// most similar rows found (so every row not compared is less similar than any candidate).
    /// The most similar of them are ranked by the full score; the answer stands when no
    /// memory outside them can outscore the last one kept. Such a memory is at most as similar
    /// as the least similar candidate (for memories in partitions not compared, that is what
    /// an IVF index assumes: what is nearest lies in the nearest partitions), and its other
    /// score terms are bounded by the store's largest importance, pin, recency and access
    /// figures. When the bound fails, four times as many candidates are taken, then a pass over
    /// every memory's score terms adds those the bound cannot leave out.
    fn approximate(
        &self,
        table: &MemoryTable,
        filter: &Resolved,
        query: &[f32],
        limit: usize,
        now: i64,
    ) -> Option<Vec<Scored>> {
        let ivf = table.ivf()?;
        if ivf.pending() > 0 {
            return None;
        }
        let settings = self.ann.settings();
        let want = limit
            .saturating_mul(ANN_OVERSAMPLE)
            .min(settings.max_candidates.max(limit));
        let probes = self.ann.probes(ivf.partitions());
        let order = ivf.probe_order(query);
        let query_l1: f32 = query.iter().map(|x| x.abs()).sum();
        let keep = want.saturating_mul(WIDEN);
        let mut probed = 0;
        let mut similar: Vec<(f64, u32)> = Vec::new();
        // Another round of partitions follows only a round that looked at every row it
        // bounded (it found fewer than `keep` matching rows), so each round needs only its own.
        let not_compared = loop {
            let next = (probed + probes).min(order.len());
            let mut bounded = bound(ivf, &order[probed..next], query, query_l1);
            probed = next;
            let (found, not_compared) =
                compare_by_bound(table, &mut bounded, filter, query, keep, now);
            similar.extend(found);
            if probed == order.len() || similar.len() >= want {
                break not_compared;
            }
        };
        let everything = probed == order.len();
        let by_similarity =
            |a: &(f64, u32), b: &(f64, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        let cap = want.saturating_mul(WIDEN).min(similar.len());
        let mut take = want.min(similar.len());
        loop {
            if take == 0 {
                return None;
            }
            if take < similar.len() {
                similar.select_nth_unstable_by(take - 1, by_similarity);
            }
            let candidates = &similar[..take];
            let ranked = table.rank_known(candidates, limit, now);
            if ranked.len() < limit {
                return None;
            }
            // With every vector compared, only memories without one (similarity 0) are left.
            let left_out = if everything && take == similar.len() {
                0.0
            } else {
                candidates.iter().map(|c| c.0).fold(f64::INFINITY, f64::min)
            }
            .max(not_compared);
            if Self::bounded(table, &ranked, left_out, now) {
                return Some(ranked);
            }
            if take >= cap {
                return Self::completed_by_scan(
                    table, filter, query, &ranked, take, &similar, left_out, limit, now,
                );
            }
            take = cap;
        }
    }

    /// The O(1) half of the proof: the last kept score beats `10·left_out` plus the store's
    /// largest possible score terms besides similarity.
    fn bounded(table: &MemoryTable, ranked: &[Scored], left_out: f64, now: i64) -> bool {
        let Some(last) = ranked.last() else {
            return true;
        };
        last.score > ceiling(left_out) + table.bonus_ceiling(now)
    }

    /// The last resort before the exact scan, one pass over every memory's score terms: the
    /// memories outside the candidates that could still outscore the last one kept (their
    /// score terms besides similarity exceed what `10·left_out` leaves) are compared too and
    /// ranked with the candidates. Every memory left out then scores at most the old last
    /// score, which the new answer's last score is at least. `None` when that is a large part
    /// of the store (the scan is then cheaper).
    #[allow(clippy::too_many_arguments)]
    fn completed_by_scan(
        table: &MemoryTable,
        filter: &Resolved,
        query: &[f32],
        ranked: &[Scored],
        take: usize,
        similar: &[(f64, u32)],
        left_out: f64,
        limit: usize,
        now: i64,
    ) -> Option<Vec<Scored>> {
        let last = ranked.last()?;
        let extra = table.rows_above(filter, last.score - ceiling(left_out), now);
        if extra.len() > (table.len() / 8).max(take) {
            return None;
        }
        let mut rows: Vec<(f64, u32)> = similar[..take].to_vec();
        let known: std::collections::HashSet<u32> = rows.iter().map(|&(_, r)| r).collect();
        rows.extend(
            extra
                .into_iter()
                .filter(|r| !known.contains(r))
                .map(|r| (table.similarity(r as usize, query), r)),
        );
        let ranked = table.rank_known(&rows, limit, now);
        (ranked.len() == limit).then_some(ranked)
    }

    /// Context assembly: the ranked memories of `query`, each distinct content once, taken
    /// greedily while they fit `token_budget` (0: no limit; negative: nothing). Returns the
    /// memories taken and their tokens.
    pub async fn context(
        self: &Arc<Self>,
        query: SearchQuery,
        token_budget: i64,
        now: i64,
    ) -> Result<(Vec<Match>, i64)> {
        if token_budget < 0 {
            return Ok((Vec::new(), 0));
        }
        let mut seen = std::collections::HashSet::new();
        let mut taken = Vec::new();
        let mut used = 0i64;
        for m in self.search(query, now).await? {
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
}

/// The similarity term of a memory at most `left_out` similar to the query, with room for the
/// float error between the index's comparisons and the scan's (they are the same computation,
/// but a memory may have changed in between).
fn ceiling(left_out: f64) -> f64 {
    10.0 * left_out.max(0.0) + 1e-5
}

/// `(upper bound of the similarity, row)` of the rows of `lists`, from their codes alone (the
/// filter is checked only for the rows compared: reading a row's header is a cache miss, more
/// than its code costs); split over every core when there are many.
fn bound(ivf: &Ivf, lists: &[u32], query: &[f32], query_l1: f32) -> Vec<(f32, u32)> {
    let rows: usize = lists.iter().map(|&l| ivf.list(l).len()).sum();
    let min_lists = if rows < PARALLEL_ROWS { usize::MAX } else { 2 };
    map_rows(lists, min_lists, |lists| {
        let mut out = Vec::with_capacity(lists.iter().map(|&l| ivf.list(l).len()).sum());
        for &l in lists {
            let codes = ivf.codes(l);
            for (at, &r) in ivf.list(l).iter().enumerate() {
                out.push((codes.upper(at, query, query_l1), r));
            }
        }
        out
    })
}

/// Compares the rows that match `filter` exactly, in the order of their bounds, until at least
/// `keep` are compared and no bound left reaches the `keep`-th best similarity found. Returns
/// `(similarity, row)` of the rows compared and the largest bound of those not looked at (−∞
/// when all were).
fn compare_by_bound(
    table: &MemoryTable,
    bounded: &mut [(f32, u32)],
    filter: &Resolved,
    query: &[f32],
    keep: usize,
    now: i64,
) -> (Vec<(f64, u32)>, f64) {
    let by_bound = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
    let keep = keep.max(1);
    let step = keep.max(16);
    let mut similar: Vec<(f64, u32)> = Vec::new();
    let mut sims: Vec<f64> = Vec::new();
    // `bounded[..sorted]` holds the largest bounds in order; every later one is no larger.
    let (mut sorted, mut at) = (0, 0);
    while at < bounded.len() {
        if at == sorted {
            let end = (sorted + 4 * step).min(bounded.len());
            let rest = &mut bounded[sorted..];
            let n = end - sorted;
            if n < rest.len() {
                rest.select_nth_unstable_by(n - 1, by_bound);
            }
            rest[..n].sort_unstable_by(by_bound);
            sorted = end;
        }
        if similar.len() >= keep {
            sims.clear();
            sims.extend(similar.iter().map(|s| s.0));
            let (_, kth, _) = sims.select_nth_unstable_by(keep - 1, |a, b| b.total_cmp(a));
            if f64::from(bounded[at].0) < *kth {
                return (similar, f64::from(bounded[at].0));
            }
        }
        let end = (at + step).min(sorted);
        similar.extend(
            bounded[at..end]
                .iter()
                .filter(|&&(_, r)| table.matches(r as usize, filter, now))
                .map(|&(_, r)| (table.similarity(r as usize, query), r)),
        );
        at = end;
    }
    (similar, f64::NEG_INFINITY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::ann::AnnSettings;
    use crate::memory::record::Memory;
    use crate::memory::scope::Scope;
    use crate::memory::service::Limits;
    use crate::memory::settings::AnnMode;

    /// A seeded xorshift for the test's data.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn unit(&mut self) -> f32 {
            (self.next() >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        }
    }

    /// Whatever the index answers is the exact scan's answer, over memories of varied
    /// importance, pins, accesses, tenants and ages, and it answers most searches.
    #[test]
    fn approximate_answers_are_the_exact_scans() {
        let settings = AnnSettings {
            mode: AnnMode::On,
            probes: 2,
            ..AnnSettings::default()
        };
        let memory = AgentMemory::with_ann(Limits::default(), settings);
        let (dim, centres) = (64, 40);
        let mut rng = Rng(99);
        let centre: Vec<Vec<f32>> = (0..centres)
            .map(|_| (0..dim).map(|_| rng.unit()).collect())
            .collect();
        let now = 1_000 * 3_600_000_000_000i64;
        for i in 0..40_000usize {
            let c = &centre[i % centres];
            let v: Vec<f32> = c.iter().map(|x| x + rng.unit() * 0.1).collect();
            let mut m = Memory::sample(&format!("m{i}"), v);
            m.scope.tenant_id = ["a", "b", "c"][i % 3].into();
            m.importance = if i % 97 == 0 { 0.5 } else { 0.0 };
            m.pinned = i % 1999 == 0;
            m.access_count = (rng.next() % 4) * u64::from(i % 5 == 0);
            m.created_at_ns = now - (rng.next() % 1000) as i64 * 3_600_000_000_000;
            memory.put_memory(m, now).unwrap();
        }
        memory.maintain_index();
        let s = memory.ann_stats();
        assert!(s.enabled && s.partitions == 9, "{s:?}");
        let (mut answered, mut asked) = (0, 0);
        for q in 0..200usize {
            let c = &centre[(q * 7) % centres];
            let query: Vec<f32> = c.iter().map(|x| x + rng.unit() * 0.05).collect();
            let inv = inverse_norm(&query);
            let query: Vec<f32> = query.iter().map(|x| x * inv).collect();
            let filter = Scope {
                tenant_id: if q % 2 == 0 {
                    "a".into()
                } else {
                    String::new()
                },
                ..Scope::default()
            };
            let table = memory.memories.read();
            let resolved = table.resolve(&filter).unwrap();
            let limit = 1 + q % 20;
            let exact = table.search(&resolved, Some(&query), limit, now);
            asked += 1;
            if let Some(approx) = memory.approximate(&table, &resolved, &query, limit, now) {
                answered += 1;
                let rows = |h: &[Scored]| h.iter().map(|s| s.row).collect::<Vec<_>>();
                assert_eq!(rows(&approx), rows(&exact), "query {q}");
            }
        }
        assert!(answered * 2 > asked, "{answered} of {asked} from the index");
        eprintln!("{answered} of {asked} answered from the index");
    }
}
