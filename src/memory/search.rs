//! Search and context assembly: the vector index (when it applies) proposes candidates, which
//! are kept only when they provably hold the exact answer; otherwise the exact scan answers.

use std::sync::Arc;

use super::AgentMemory;
use super::error::{Error, Result};
use super::memories::{MemoryTable, Resolved};
use super::persist::ann::{AnnStats, Candidates, equals_filter};
use super::query::{Match, SearchQuery};
use super::record::estimate_tokens;
use super::scope::SCOPE_FIELDS;
use super::score::{Scored, inverse_norm};
use super::stats::ANN_OVERSAMPLE;

impl AgentMemory {
    /// The best `limit` memories for a query, best first; each counts one access.
    ///
    /// The vector index (I/O) is asked first, without any lock held, so it cannot hold up
    /// writers; the ranking scan (CPU, proportional to the store) then runs on a blocking
    /// thread so it cannot stall the runtime's I/O threads.
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
        let candidates = if query.embedding.is_empty() {
            None
        } else {
            self.ann_candidates(&query, &normalised).await
        };
        let memory = Arc::clone(self);
        tokio::task::spawn_blocking(move || memory.rank(&query, &normalised, candidates, now))
            .await?
    }

    /// The ranking part of [`AgentMemory::search`]: the index's candidates when they provably
    /// hold the answer, else the exact scan.
    fn rank(
        &self,
        query: &SearchQuery,
        normalised: &[f32],
        candidates: Option<Candidates>,
        now: i64,
    ) -> Result<Vec<Match>> {
        let embedding = (!query.embedding.is_empty()).then_some(normalised);
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
    async fn ann_candidates(&self, query: &SearchQuery, normalised: &[f32]) -> Option<Candidates> {
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
        // Tenant and namespace are never empty here; the other fields are wildcards when empty.
        let terms: Vec<(&str, &str)> = SCOPE_FIELDS
            .into_iter()
            .zip(f.values())
            .filter(|(_, value)| !value.is_empty())
            .collect();
        let filter = equals_filter(&terms);
        let k = query.limit.saturating_mul(ANN_OVERSAMPLE);
        match ann.candidates(normalised, &filter, k).await {
            Ok(candidates) => candidates,
            Err(e) => {
                tracing::warn!("vector index search failed, using the exact scan: {e}");
                None
            }
        }
    }

    /// ANN stats (all zero for a store kept only in memory).
    pub fn ann_stats(&self) -> AnnStats {
        self.datasets
            .as_ref()
            .map(|d| d.ann().stats())
            .unwrap_or_default()
    }
}
