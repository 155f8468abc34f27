//! The numbers behind ranking and eviction, exactly as the reference computes them
//! (`zeptodb-semantics.md` §1.7), and the vector kernel the exact scan spends its time in.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Nanoseconds in an hour.
const HOUR_NS: f64 = 3.6e12;

/// The ranking score of a memory for a query:
/// `10·cos + importance + 5·pinned + recency + min(1, 0.01·access_count)`, where `cos` counts
/// only when the query has an embedding and recency is `1 / (1 + age in hours)` for memories
/// created in the past.
pub fn rank(
    cos: Option<f64>,
    importance: f64,
    pinned: bool,
    created_at_ns: i64,
    access_count: u64,
    now: i64,
) -> f64 {
    let recency = if created_at_ns > 0 && now > created_at_ns {
        1.0 / (1.0 + (now - created_at_ns) as f64 / HOUR_NS)
    } else {
        0.0
    };
    cos.map_or(0.0, |c| 10.0 * c)
        + importance
        + if pinned { 5.0 } else { 0.0 }
        + recency
        + (0.01 * access_count as f64).min(1.0)
}

/// How much a memory deserves to stay when the store is over capacity (lowest goes first):
/// `100·importance + min(50, access_count) + recency + 1e6·pinned`.
pub fn memory_retention(
    importance: f64,
    access_count: u64,
    last_touched_ns: i64,
    pinned: bool,
    now: i64,
) -> f64 {
    100.0 * importance
        + access_count.min(50) as f64
        + retention_recency(last_touched_ns, now)
        + if pinned { 1e6 } else { 0.0 }
}

/// Retention of a cache entry: `min(50, access_count) + recency`.
pub fn cache_retention(access_count: u64, last_touched_ns: i64, now: i64) -> f64 {
    access_count.min(50) as f64 + retention_recency(last_touched_ns, now)
}

/// `1 / (1 + age in hours)`, or 1 for a time not in the past.
fn retention_recency(at_ns: i64, now: i64) -> f64 {
    if now <= at_ns {
        1.0
    } else {
        1.0 / (1.0 + (now - at_ns) as f64 / HOUR_NS)
    }
}

/// `1 / ‖v‖`, or 0 for an empty or zero vector (whose cosine with anything is then 0).
pub fn inverse_norm(v: &[f32]) -> f32 {
    let norm = dot(v, v).sqrt();
    if norm > 0.0 && norm.is_finite() {
        1.0 / norm
    } else {
        0.0
    }
}

/// Cosine similarity of two vectors of the same length (0 if either is zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    f64::from(dot(a, b) * inverse_norm(a) * inverse_norm(b))
}

/// Dot product. Sixteen independent lanes let the compiler keep several SIMD registers of
/// partial sums in flight instead of waiting on one accumulator.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 16;
    let mut acc = [0.0f32; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for i in 0..LANES {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// A scored candidate in a top-K selection.
#[derive(Debug, Clone, Copy)]
pub struct Scored {
    /// Ranking score.
    pub score: f64,
    /// Cosine similarity to the query (0 without a query embedding).
    pub similarity: f64,
    /// Tie-break: newer first.
    pub created_at_ns: i64,
    /// Row of the candidate in its table.
    pub row: u32,
}

impl Scored {
    /// Better candidates compare greater: higher score, then newer, then lower row.
    fn rank_cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then(self.created_at_ns.cmp(&other.created_at_ns))
            .then(other.row.cmp(&self.row))
    }
}

/// Heap entry ordered so the heap's top is the worst kept candidate.
#[derive(Debug)]
struct Worst(Scored);

impl PartialEq for Worst {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Worst {}
impl PartialOrd for Worst {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Worst {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.rank_cmp(&self.0)
    }
}

/// Keeps the best `k` candidates offered, in a heap of size `k` (never sorts them all).
#[derive(Debug)]
pub struct TopK {
    k: usize,
    heap: BinaryHeap<Worst>,
}

impl TopK {
    /// An empty selection of at most `k`.
    pub fn new(k: usize) -> Self {
        Self {
            k,
            heap: BinaryHeap::with_capacity(k.min(1 << 16) + 1),
        }
    }

    /// Whether a candidate with `score` could still enter (a cheap test before building it).
    pub fn admits(&self, score: f64) -> bool {
        self.heap.len() < self.k || self.heap.peek().is_some_and(|w| score >= w.0.score)
    }

    /// Offers a candidate.
    pub fn push(&mut self, candidate: Scored) {
        if self.k == 0 {
            return;
        }
        if self.heap.len() < self.k {
            self.heap.push(Worst(candidate));
        } else if let Some(mut worst) = self.heap.peek_mut()
            && candidate.rank_cmp(&worst.0) == Ordering::Greater
        {
            *worst = Worst(candidate);
        }
    }

    /// Adds every candidate of `other`.
    pub fn merge(&mut self, other: TopK) {
        for w in other.heap {
            self.push(w.0);
        }
    }

    /// The kept candidates, best first.
    pub fn into_sorted(self) -> Vec<Scored> {
        let mut v: Vec<Scored> = self.heap.into_iter().map(|w| w.0).collect();
        v.sort_by(|a, b| b.rank_cmp(a));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_matches_the_reference_formula() {
        // Conformance m02: created long ago, so recency is ~0.
        assert!((rank(Some(1.0), 0.0, false, 1, 0, 1 << 62) - 10.0).abs() < 1e-3);
        assert!((rank(Some(0.0), 3.0, true, 1, 0, 1 << 62) - 8.0).abs() < 1e-3);
        // Created an hour ago: recency 1/2; 300 accesses cap at 1.
        let now = 10 * HOUR_NS as i64;
        let r = rank(None, 1.0, false, now - HOUR_NS as i64, 300, now);
        assert!((r - 2.5).abs() < 1e-9, "{r}");
        // Created in the future or at 0: no recency.
        assert_eq!(rank(None, 0.0, false, now + 1, 0, now), 0.0);
        assert_eq!(rank(None, 0.0, false, 0, 0, now), 0.0);
    }

    #[test]
    fn retention_protects_pinned_and_important() {
        let now = 100 * HOUR_NS as i64;
        assert!(
            memory_retention(0.0, 0, now, true, now) > memory_retention(100.0, 50, now, false, now)
        );
        assert_eq!(memory_retention(1.0, 70, now, false, now), 151.0);
        assert_eq!(cache_retention(3, now + 5, now), 4.0);
    }

    #[test]
    fn cosine_and_dot() {
        let a: Vec<f32> = (0..37).map(|i| i as f32).collect();
        let expected: f32 = a.iter().map(|x| x * x).sum();
        assert_eq!(dot(&a, &a), expected);
        assert!((cosine(&[1.0, 0.0], &[0.6, 0.8]) - 0.6).abs() < 1e-6);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
        assert_eq!(cosine(&[1.0], &[1.0, 0.0]), 0.0);
    }

    #[test]
    fn top_k_keeps_the_best_newest_first_on_ties() {
        let mut top = TopK::new(3);
        for (row, score, created) in [
            (0, 1.0, 5),
            (1, 3.0, 1),
            (2, 2.0, 1),
            (3, 3.0, 2),
            (4, 0.5, 9),
        ] {
            top.push(Scored {
                score,
                similarity: 0.0,
                created_at_ns: created,
                row,
            });
        }
        let rows: Vec<u32> = top.into_sorted().iter().map(|s| s.row).collect();
        assert_eq!(rows, vec![3, 1, 2]);
        let mut none = TopK::new(0);
        none.push(Scored {
            score: 1.0,
            similarity: 0.0,
            created_at_ns: 0,
            row: 0,
        });
        assert!(none.into_sorted().is_empty());
    }
}
