//! Vectors as 8-bit codes, one contiguous block per IVF partition: what a search reads to find
//! its candidates (a quarter of the bytes of the float vectors, in partition order instead of
//! scattered over the table), before the few that can matter are compared exactly.
//!
//! A row's code is its unit vector `u` scaled by `s = max|uᵢ| / 127` and rounded, so each
//! `uᵢ` is within `s / 2` of `s·cᵢ`. For a query `q` the estimate `s·Σ qᵢcᵢ` is then within
//! `s/2 · Σ|qᵢ|` of the exact similarity `Σ qᵢuᵢ`: [`ListCodes::upper`] returns the estimate
//! plus that bound (and a margin for float rounding), which no row's exact similarity exceeds.

use super::score::inverse_norm;

/// Room for the float rounding of the exact similarity and of the estimate (each a sum of a
/// few hundred products of magnitude at most 1 in f32: errors of order 1e-5).
const ROUNDING: f32 = 1e-4;

/// The codes of one partition's rows, in the order of its list.
#[derive(Debug, Clone, Default)]
pub struct ListCodes {
    /// `rows × dim` codes.
    codes: Vec<i8>,
    /// One scale per row.
    scales: Vec<f32>,
}

impl ListCodes {
    /// Rows held.
    pub fn len(&self) -> usize {
        self.scales.len()
    }

    /// Whether no row is held.
    pub fn is_empty(&self) -> bool {
        self.scales.is_empty()
    }

    /// Makes room for `rows` more rows of dimension `dim`.
    pub fn reserve(&mut self, rows: usize, dim: usize) {
        self.codes.reserve(rows * dim);
        self.scales.reserve(rows);
    }

    /// Appends the code of `v` (any length; coded by direction).
    pub fn push(&mut self, v: &[f32]) {
        let inv = inverse_norm(v);
        let max = v.iter().fold(0.0f32, |m, x| m.max((x * inv).abs()));
        let scale = max / 127.0;
        let step = if scale > 0.0 { 1.0 / scale } else { 0.0 };
        self.codes.extend(
            v.iter()
                .map(|x| (x * inv * step).round().clamp(-127.0, 127.0) as i8),
        );
        self.scales.push(scale);
    }

    /// Removes the row at `at`, moving the last row into its place (as the list does).
    pub fn swap_remove(&mut self, at: usize, dim: usize) {
        let last = self.scales.len() - 1;
        if at != last {
            self.codes
                .copy_within(last * dim..(last + 1) * dim, at * dim);
        }
        self.codes.truncate(last * dim);
        self.scales.swap_remove(at);
    }

    /// An upper bound of the similarity of row `at` with the unit `query`, whose absolute
    /// values sum to `query_l1`.
    pub fn upper(&self, at: usize, query: &[f32], query_l1: f32) -> f32 {
        let dim = query.len();
        let scale = self.scales[at];
        let estimate = scale * dot_codes(query, &self.codes[at * dim..(at + 1) * dim]);
        estimate + scale * 0.5 * query_l1 * (1.0 + ROUNDING) + ROUNDING
    }
}

/// `Σ qᵢcᵢ` over sixteen lanes, the shape the compiler turns into widening conversions and
/// fused multiply-adds.
fn dot_codes(q: &[f32], c: &[i8]) -> f32 {
    const LANES: usize = 16;
    let mut acc = [0.0f32; LANES];
    let (qs, cs) = (q.chunks_exact(LANES), c.chunks_exact(LANES));
    let tail: f32 = qs
        .remainder()
        .iter()
        .zip(cs.remainder())
        .map(|(x, &y)| x * f32::from(y))
        .sum();
    for (x, y) in qs.zip(cs) {
        for i in 0..LANES {
            acc[i] += x[i] * f32::from(y[i]);
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::score::dot;

    /// A seeded xorshift.
    fn values(seed: u64, n: usize) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect()
    }

    #[test]
    fn the_bound_is_never_below_the_exact_similarity_and_close_to_it() {
        let dim = 384;
        let mut codes = ListCodes::default();
        let rows: Vec<Vec<f32>> = (0..200).map(|i| values(i + 1, dim)).collect();
        rows.iter().for_each(|v| codes.push(v));
        for seed in 1000..1020 {
            let mut q = values(seed, dim);
            let inv = inverse_norm(&q);
            q.iter_mut().for_each(|x| *x *= inv);
            let l1 = q.iter().map(|x| x.abs()).sum();
            for (at, v) in rows.iter().enumerate() {
                let exact = dot(&q, v) * inverse_norm(v);
                let upper = codes.upper(at, &q, l1);
                assert!(upper >= exact, "row {at}: {upper} < {exact}");
                assert!(upper - exact < 0.05, "row {at}: {upper} vs {exact}");
            }
        }
    }

    #[test]
    fn removal_moves_the_last_row_like_the_list() {
        let dim = 20;
        let rows: Vec<Vec<f32>> = (0..4).map(|i| values(i + 7, dim)).collect();
        let mut codes = ListCodes::default();
        rows.iter().for_each(|v| codes.push(v));
        let q = &rows[3];
        let before = codes.upper(3, q, 1.0);
        codes.swap_remove(1, dim);
        assert_eq!(codes.len(), 3);
        assert_eq!(codes.upper(1, q, 1.0), before);
        codes.swap_remove(2, dim);
        assert_eq!(codes.len(), 2);
        let mut zero = ListCodes::default();
        zero.push(&vec![0.0; dim]);
        assert_eq!(zero.upper(0, q, 1.0), ROUNDING);
    }
}
