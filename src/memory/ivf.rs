//! An inverted-file (IVF) vector index kept beside the memory table, in memory.
//!
//! Cosine k-means centroids split the vectors into partitions; a search compares the query
//! with the centroids, then with the vectors of the nearest few partitions only. A partition
//! lists table rows and holds their vectors as 8-bit codes in list order ([`ListCodes`]): a
//! search reads the codes for a bound on each row's similarity, then compares exactly, with
//! the table's own matrix as the scan does, only the rows whose bound can matter. The table
//! keeps the lists in step with every change ([`Ivf::push`], [`Ivf::replace`],
//! [`Ivf::swap_remove`] mirror its own row moves), so nothing written is ever missing from a
//! search.
//!
//! Only the centroids are trained; assigning the rows to them is cheap enough to redo at every
//! start (`persist` saves the centroids with the datasets), and rows not assigned yet
//! ([`Ivf::pending`]) keep searches on the exact scan until a background pass has placed them.

use super::codes::ListCodes;
use super::parallel::map_rows;
use super::score::dot;

/// A row in no list: no vector, or not assigned yet.
const NOWHERE: u32 = u32::MAX;

/// Where a row sits: its partition and its index in that partition's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Place {
    list: u32,
    at: u32,
}

impl Place {
    /// A row without a vector.
    const NONE: Self = Self {
        list: NOWHERE,
        at: NOWHERE,
    };
    /// A row with a vector, not assigned yet.
    const PENDING: Self = Self {
        list: NOWHERE,
        at: 0,
    };
}

/// Cosine IVF over the rows of a [`super::memories::MemoryTable`].
#[derive(Debug, Clone)]
pub struct Ivf {
    dim: usize,
    /// `partitions × dim`, each of unit length.
    centroids: Vec<f32>,
    lists: Vec<Vec<u32>>,
    /// The codes of each list's rows, in the list's order.
    codes: Vec<ListCodes>,
    /// One per table row.
    place: Vec<Place>,
    /// Rows with a vector not yet in any list.
    pending: usize,
    /// Rows in the table when the centroids were trained.
    trained_rows: usize,
}

impl Ivf {
    /// An index over `rows` table rows with these centroids (`partitions × dim`, normalised
    /// here), every row still to be assigned ([`Ivf::assign`]); `embedded` says which rows
    /// have a vector.
    pub fn new(
        dim: usize,
        mut centroids: Vec<f32>,
        embedded: impl Iterator<Item = bool>,
        trained_rows: usize,
    ) -> Self {
        for c in centroids.chunks_exact_mut(dim.max(1)) {
            normalise(c);
        }
        let partitions = centroids.len() / dim.max(1);
        let place: Vec<Place> = embedded
            .map(|e| if e { Place::PENDING } else { Place::NONE })
            .collect();
        let pending = place.iter().filter(|p| **p == Place::PENDING).count();
        Self {
            dim,
            centroids,
            lists: vec![Vec::new(); partitions],
            codes: vec![ListCodes::default(); partitions],
            place,
            pending,
            trained_rows,
        }
    }

    /// Partitions.
    pub fn partitions(&self) -> usize {
        self.lists.len()
    }

    /// The centroids, `partitions × dim`.
    pub fn centroids(&self) -> &[f32] {
        &self.centroids
    }

    /// Rows in the table when the centroids were trained.
    pub fn trained_rows(&self) -> usize {
        self.trained_rows
    }

    /// Rows with a vector that no list holds yet; searches need 0.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Rows placed in a partition.
    pub fn indexed(&self) -> usize {
        self.lists.iter().map(Vec::len).sum()
    }

    /// Up to `limit` rows still to be assigned, from `from` on (table row numbers).
    pub fn unassigned(&self, from: usize, limit: usize) -> Vec<u32> {
        (from..self.place.len())
            .filter(|&r| self.is_pending(r))
            .take(limit)
            .map(|r| r as u32)
            .collect()
    }

    fn is_pending(&self, row: usize) -> bool {
        self.place[row] == Place::PENDING
    }

    /// The partition whose centroid is most similar to `v` (any length; compared by direction).
    pub fn nearest(&self, v: &[f32]) -> u32 {
        nearest(&self.centroids, self.dim, v)
    }

    /// Puts each `(row, partition)` in its list, for rows still pending; `vector` gives a
    /// row's vector. The caller computed them with no change to the table since (row numbers
    /// move when rows are removed).
    ///
    /// The new rows' codes are computed on every core, each list's on one thread: a whole
    /// store's codes are a quarter of its vectors, written to fresh memory.
    pub fn assign<'v>(&mut self, placed: &[(u32, u32)], vector: impl Fn(u32) -> &'v [f32] + Sync) {
        let before: Vec<usize> = self.lists.iter().map(Vec::len).collect();
        for &(row, list) in placed {
            if (row as usize) < self.place.len() && self.is_pending(row as usize) {
                self.pending -= 1;
                self.list_row(row, list);
            }
        }
        let (dim, lists) = (self.dim, &self.lists);
        let mut work: Vec<(&mut ListCodes, &[u32])> = self
            .codes
            .iter_mut()
            .zip(lists.iter().zip(before))
            .map(|(codes, (rows, from))| (codes, &rows[from..]))
            .filter(|(_, rows)| !rows.is_empty())
            .collect();
        let rows: usize = work.iter().map(|(_, rows)| rows.len()).sum();
        let threads = if rows < 4096 {
            1
        } else {
            std::thread::available_parallelism().map_or(1, |t| t.get())
        };
        let per = work.len().div_ceil(threads).max(1);
        let vector = &vector;
        if threads == 1 {
            for (codes, rows) in &mut work {
                rows.iter().for_each(|&r| codes.push(vector(r)));
            }
            return;
        }
        std::thread::scope(|s| {
            for part in work.chunks_mut(per) {
                s.spawn(move || {
                    for (codes, rows) in part {
                        codes.reserve(rows.len(), dim);
                        rows.iter().for_each(|&r| codes.push(vector(r)));
                    }
                });
            }
        });
    }

    /// Puts `row` in `list` (its code not yet).
    fn list_row(&mut self, row: u32, list: u32) {
        let l = &mut self.lists[list as usize];
        self.place[row as usize] = Place {
            list,
            at: l.len() as u32,
        };
        l.push(row);
    }

    fn put(&mut self, row: u32, list: u32, vector: &[f32]) {
        self.list_row(row, list);
        self.codes[list as usize].push(vector);
    }

    /// Takes `row` out of its list (or out of the pending count); it stays a row without a place.
    fn clear(&mut self, row: usize) {
        let p = self.place[row];
        if p.list != NOWHERE {
            let l = &mut self.lists[p.list as usize];
            l.swap_remove(p.at as usize);
            if let Some(&moved) = l.get(p.at as usize) {
                self.place[moved as usize].at = p.at;
            }
            self.codes[p.list as usize].swap_remove(p.at as usize, self.dim);
        } else if p == Place::PENDING {
            self.pending -= 1;
        }
        self.place[row] = Place::NONE;
    }

    /// The table appended a row (its vector, if it has one).
    pub fn push(&mut self, vector: Option<&[f32]>) {
        let row = self.place.len() as u32;
        self.place.push(Place::NONE);
        if let Some(v) = vector {
            let list = self.nearest(v);
            self.put(row, list, v);
        }
    }

    /// The table replaced row `row`'s memory (and vector).
    pub fn replace(&mut self, row: u32, vector: Option<&[f32]>) {
        self.clear(row as usize);
        if let Some(v) = vector {
            let list = self.nearest(v);
            self.put(row, list, v);
        }
    }

    /// The table removed `row` and moved its last row into the hole.
    pub fn swap_remove(&mut self, row: u32) {
        let row = row as usize;
        self.clear(row);
        let last = self.place.len() - 1;
        if row != last {
            let p = self.place[last];
            if p.list != NOWHERE {
                self.lists[p.list as usize][p.at as usize] = row as u32;
            }
            self.place[row] = p;
        }
        self.place.pop();
    }

    /// Partitions by how similar their centroid is to `query`, most similar first.
    pub fn probe_order(&self, query: &[f32]) -> Vec<u32> {
        let mut scored: Vec<(f32, u32)> = self
            .centroids
            .chunks_exact(self.dim.max(1))
            .enumerate()
            .map(|(i, c)| (dot(query, c), i as u32))
            .collect();
        scored.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.into_iter().map(|(_, i)| i).collect()
    }

    /// The rows of partition `list`.
    pub fn list(&self, list: u32) -> &[u32] {
        &self.lists[list as usize]
    }

    /// The codes of partition `list`'s rows, in the order of [`Ivf::list`].
    pub fn codes(&self, list: u32) -> &ListCodes {
        &self.codes[list as usize]
    }
}

/// Scales `v` to unit length (a zero vector stays zero).
fn normalise(v: &mut [f32]) {
    let norm = dot(v, v).sqrt();
    if norm > 0.0 && norm.is_finite() {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Index of the centroid (`centroids` is `k × dim`) with the largest dot product with `v`;
/// ties go to the lower index.
pub fn nearest(centroids: &[f32], dim: usize, v: &[f32]) -> u32 {
    let mut best = (f32::NEG_INFINITY, 0u32);
    let mut groups = centroids.chunks_exact(4 * dim.max(1));
    let mut base = 0u32;
    for group in &mut groups {
        let (c0, rest) = group.split_at(dim);
        let (c1, rest) = rest.split_at(dim);
        let (c2, c3) = rest.split_at(dim);
        for (j, s) in dot4(v, [c0, c1, c2, c3]).into_iter().enumerate() {
            if s > best.0 {
                best = (s, base + j as u32);
            }
        }
        base += 4;
    }
    for (j, c) in groups.remainder().chunks_exact(dim.max(1)).enumerate() {
        let s = dot(v, c);
        if s > best.0 {
            best = (s, base + j as u32);
        }
    }
    best.1
}

/// [`nearest`] of two vectors at once (the same answers: each product is summed in the same
/// order), reading each centroid once for both: what assigning a whole store runs.
pub fn nearest_pair(centroids: &[f32], dim: usize, a: &[f32], b: &[f32]) -> (u32, u32) {
    let mut best = [(f32::NEG_INFINITY, 0u32); 2];
    let mut groups = centroids.chunks_exact(4 * dim.max(1));
    let mut base = 0u32;
    for group in &mut groups {
        let (c0, rest) = group.split_at(dim);
        let (c1, rest) = rest.split_at(dim);
        let (c2, c3) = rest.split_at(dim);
        let scores = dot2x4([a, b], [c0, c1, c2, c3]);
        for (best, row) in best.iter_mut().zip(scores) {
            for (j, s) in row.into_iter().enumerate() {
                if s > best.0 {
                    *best = (s, base + j as u32);
                }
            }
        }
        base += 4;
    }
    for (j, c) in groups.remainder().chunks_exact(dim.max(1)).enumerate() {
        for (best, v) in best.iter_mut().zip([a, b]) {
            let s = dot(v, c);
            if s > best.0 {
                *best = (s, base + j as u32);
            }
        }
    }
    (best[0].1, best[1].1)
}

/// Two vectors against four: eight products per pass over the lanes, six loads for eight
/// multiply-adds (one vector against four needs five for four), summed as [`dot4`] sums.
fn dot2x4(v: [&[f32]; 2], c: [&[f32]; 4]) -> [[f32; 4]; 2] {
    const LANES: usize = 8;
    // Two plain accumulator sets over fixed-size chunks: the shape the compiler keeps in
    // vector registers (a three-level array or unsized slices ran ten times slower).
    let mut a0 = [[0.0f32; LANES]; 4];
    let mut a1 = [[0.0f32; LANES]; 4];
    let len = c
        .iter()
        .map(|c| c.len())
        .fold(v[0].len().min(v[1].len()), usize::min);
    let n = len / LANES * LANES;
    for i in (0..n).step_by(LANES) {
        let (Some(x0), Some(x1)) = (
            v[0][i..].first_chunk::<LANES>(),
            v[1][i..].first_chunk::<LANES>(),
        ) else {
            break;
        };
        for (j, cj) in c.iter().enumerate() {
            let Some(y) = cj[i..].first_chunk::<LANES>() else {
                break;
            };
            for l in 0..LANES {
                a0[j][l] += x0[l] * y[l];
                a1[j][l] += x1[l] * y[l];
            }
        }
    }
    let mut out = [[0.0f32; 4]; 2];
    for (j, cj) in c.iter().enumerate() {
        let tail = |r: usize| -> f32 { (n..len).map(|i| v[r][i] * cj[i]).sum() };
        out[0][j] = a0[j].iter().sum::<f32>() + tail(0);
        out[1][j] = a1[j].iter().sum::<f32>() + tail(1);
    }
    out
}

/// `v` against four vectors at once: each lane of `v` is loaded once for four products, which
/// is what bounds a one-at-a-time dot product.
fn dot4(v: &[f32], c: [&[f32]; 4]) -> [f32; 4] {
    const LANES: usize = 8;
    let mut acc = [[0.0f32; LANES]; 4];
    let n = v.len() / LANES * LANES;
    for i in (0..n).step_by(LANES) {
        let x = &v[i..i + LANES];
        for (a, cj) in acc.iter_mut().zip(&c) {
            let y = &cj[i..i + LANES];
            for l in 0..LANES {
                a[l] += x[l] * y[l];
            }
        }
    }
    let mut out = [0.0f32; 4];
    for (j, a) in acc.iter().enumerate() {
        let tail: f32 = (n..v.len()).map(|i| v[i] * c[j][i]).sum();
        out[j] = a.iter().sum::<f32>() + tail;
    }
    out
}

/// Spherical k-means: `k` unit centroids for the rows of `sample` (`rows × dim`, normalised
/// here), seeded by k-means++ (each next seed drawn with odds growing with its distance from
/// the seeds so far, by `seed`'s xorshift), refined by `iterations` rounds of assignment and
/// re-centring (an emptied partition takes the sample row its centroid fits worst), on every
/// core.
pub fn train(mut sample: Vec<f32>, dim: usize, k: usize, iterations: usize, seed: u64) -> Vec<f32> {
    let rows = sample.len() / dim.max(1);
    if rows == 0 || k == 0 {
        return Vec::new();
    }
    for v in sample.chunks_exact_mut(dim) {
        normalise(v);
    }
    let sample = &sample[..rows * dim];
    let k = k.min(rows);
    let mut centroids = seeds(sample, dim, k, seed);
    let mut labels = vec![0u32; rows];
    for _ in 0..iterations {
        let best = assign_parallel(&centroids, dim, sample, &mut labels);
        let mut sums = vec![0.0f32; k * dim];
        let mut counts = vec![0usize; k];
        for (r, &l) in labels.iter().enumerate() {
            counts[l as usize] += 1;
            let s = &mut sums[l as usize * dim..(l as usize + 1) * dim];
            for (a, x) in s.iter_mut().zip(&sample[r * dim..(r + 1) * dim]) {
                *a += x;
            }
        }
        let mut worst: Vec<usize> = (0..rows).collect();
        worst.sort_unstable_by(|&a, &b| best[a].total_cmp(&best[b]).then(a.cmp(&b)));
        let mut spare = worst.into_iter();
        for (j, count) in counts.iter().enumerate() {
            let c = &mut sums[j * dim..(j + 1) * dim];
            if *count == 0
                && let Some(r) = spare.next()
            {
                c.copy_from_slice(&sample[r * dim..(r + 1) * dim]);
            }
            normalise(c);
        }
        centroids = sums;
    }
    centroids
}

/// k-means++ seeds: `k` rows of `sample` (unit rows), the first at random, each next one drawn
/// with odds proportional to its cosine distance from the nearest seed so far.
fn seeds(sample: &[f32], dim: usize, k: usize, seed: u64) -> Vec<f32> {
    let rows = sample.len() / dim;
    let mut rng = XorShift(seed | 1);
    let row = |r: usize| &sample[r * dim..(r + 1) * dim];
    let first = (rng.next() as usize) % rows;
    let mut out = row(first).to_vec();
    let mut nearest: Vec<f32> = (0..rows).map(|r| dot(row(r), row(first))).collect();
    while out.len() < k * dim {
        let total: f64 = nearest.iter().map(|&s| f64::from((1.0 - s).max(0.0))).sum();
        let pick = if total > 0.0 {
            let mut left = (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * total;
            let mut chosen = rows - 1;
            for (r, &s) in nearest.iter().enumerate() {
                left -= f64::from((1.0 - s).max(0.0));
                if left <= 0.0 {
                    chosen = r;
                    break;
                }
            }
            chosen
        } else {
            // Every row sits on a seed already: any row will do.
            (rng.next() as usize) % rows
        };
        let c = row(pick);
        out.extend_from_slice(c);
        for (r, s) in nearest.iter_mut().enumerate() {
            *s = s.max(dot(row(r), c));
        }
    }
    out
}

/// A seeded xorshift64: the same seed, the same draws.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Labels every row of `vectors` with its nearest centroid, on every core; returns each row's
/// similarity to it.
fn assign_parallel(centroids: &[f32], dim: usize, vectors: &[f32], labels: &mut [u32]) -> Vec<f32> {
    let mut best = vec![0.0f32; labels.len()];
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    let per = labels.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        for (part, (l, b)) in labels.chunks_mut(per).zip(best.chunks_mut(per)).enumerate() {
            let rows = &vectors[part * per * dim..];
            s.spawn(move || {
                for (r, (label, sim)) in l.iter_mut().zip(b.iter_mut()).enumerate() {
                    let v = &rows[r * dim..(r + 1) * dim];
                    *label = nearest(centroids, dim, v);
                    *sim = dot(
                        v,
                        &centroids[*label as usize * dim..(*label as usize + 1) * dim],
                    );
                }
            });
        }
    });
    best
}

/// The nearest partition of each given row, computed on every core: `vector(row)` reads a row.
pub fn nearest_of_rows<'a>(
    centroids: &[f32],
    dim: usize,
    rows: &[u32],
    vector: impl Fn(u32) -> &'a [f32] + Sync,
) -> Vec<(u32, u32)> {
    map_rows(rows, 0, |part| {
        let mut out = Vec::with_capacity(part.len());
        let mut pairs = part.chunks_exact(2);
        for pair in &mut pairs {
            let (a, b) = (pair[0], pair[1]);
            let (la, lb) = nearest_pair(centroids, dim, vector(a), vector(b));
            out.extend([(a, la), (b, lb)]);
        }
        for &r in pairs.remainder() {
            out.push((r, nearest(centroids, dim, vector(r))));
        }
        out
    })
}

/// `k` distinct numbers below `n`, drawn by a seeded xorshift (the same seed, the same draw).
pub fn pick_distinct(n: usize, k: usize, seed: u64) -> Vec<usize> {
    let k = k.min(n);
    let mut rng = XorShift(seed | 1);
    let mut next = move || rng.next();
    if k * 2 > n {
        // Most of the range: a partial shuffle.
        let mut all: Vec<usize> = (0..n).collect();
        for i in 0..k {
            let j = i + (next() as usize) % (n - i);
            all.swap(i, j);
        }
        all.truncate(k);
        return all;
    }
    let mut seen = std::collections::HashSet::with_capacity(k);
    let mut out = Vec::with_capacity(k);
    while out.len() < k {
        let r = (next() as usize) % n;
        if seen.insert(r) {
            out.push(r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` vectors of dimension `dim` around `clusters` axis-aligned centres.
    fn clustered(n: usize, dim: usize, clusters: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(n * dim);
        for i in 0..n {
            for d in 0..dim {
                let centre = if d == i % clusters { 1.0 } else { 0.0 };
                out.push(centre + ((i * 31 + d * 17) % 13) as f32 / 100.0);
            }
        }
        out
    }

    #[test]
    fn kmeans_finds_the_clusters() {
        let (dim, clusters) = (8, 4);
        let data = clustered(400, dim, clusters);
        let centroids = train(data.clone(), dim, clusters, 8, 7);
        assert_eq!(centroids.len(), clusters * dim);
        // Rows of one cluster share a partition, and different clusters do not.
        let label = |i: usize| nearest(&centroids, dim, &data[i * dim..(i + 1) * dim]);
        for i in 0..400 {
            assert_eq!(label(i), label(i % clusters), "row {i}");
        }
        let mut distinct: Vec<u32> = (0..clusters).map(label).collect();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), clusters);
        // Deterministic.
        assert_eq!(train(data, dim, clusters, 8, 7), centroids);
    }

    #[test]
    fn nearest_matches_one_at_a_time() {
        let dim = 19;
        let centroids = clustered(11, dim, 5);
        let v = clustered(3, dim, 2);
        for q in v.chunks_exact(dim) {
            let slow = centroids.chunks_exact(dim).enumerate().fold(
                (f32::NEG_INFINITY, 0),
                |b, (i, c)| {
                    let s = dot(q, c);
                    if s > b.0 { (s, i as u32) } else { b }
                },
            );
            assert_eq!(nearest(&centroids, dim, q), slow.1);
        }
    }

    #[test]
    fn pairs_get_the_partitions_of_one_at_a_time() {
        // Dimensions off the lane width and centroid counts off the group of four.
        for (dim, k) in [(13, 10), (16, 8), (384, 7), (5, 1)] {
            let centroids = clustered(k, dim, k.min(dim));
            let rows: Vec<f32> = (0..40 * dim)
                .map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0)
                .collect();
            for pair in rows.chunks_exact(2 * dim) {
                let (a, b) = pair.split_at(dim);
                let one = (nearest(&centroids, dim, a), nearest(&centroids, dim, b));
                assert_eq!(nearest_pair(&centroids, dim, a, b), one, "dim {dim}, k {k}");
            }
        }
    }

    /// Every list entry points back at its row and every placed row is in its list.
    fn consistent(ivf: &Ivf) {
        let mut placed = 0;
        for (l, rows) in ivf.lists.iter().enumerate() {
            for (at, &r) in rows.iter().enumerate() {
                assert_eq!(
                    ivf.place[r as usize],
                    Place {
                        list: l as u32,
                        at: at as u32
                    }
                );
                placed += 1;
            }
        }
        for (rows, codes) in ivf.lists.iter().zip(&ivf.codes) {
            assert_eq!(rows.len(), codes.len());
        }
        let with_place = ivf.place.iter().filter(|p| p.list != NOWHERE).count();
        assert_eq!(placed, with_place);
        let pending = (0..ivf.place.len()).filter(|&r| ivf.is_pending(r)).count();
        assert_eq!(pending, ivf.pending);
    }

    #[test]
    fn lists_follow_the_tables_row_moves() {
        let dim = 4;
        let centroids = vec![
            1.0, 0.0, 0.0, 0.0, //
            0.0, 1.0, 0.0, 0.0, //
            0.0, 0.0, 1.0, 0.0,
        ];
        // Rows 0..5: three with vectors pending, one without, one pending.
        let embedded = [true, true, false, true, true];
        let mut ivf = Ivf::new(dim, centroids, embedded.into_iter(), 5);
        assert_eq!((ivf.pending(), ivf.partitions()), (4, 3));
        assert_eq!(ivf.unassigned(0, 10), vec![0, 1, 3, 4]);
        let vectors: [&[f32]; 5] = [
            &[1.0, 0.1, 0.0, 0.0],
            &[0.0, 1.0, 0.0, 0.0],
            &[0.0; 4],
            &[0.0, 0.0, 1.0, 0.0],
            &[1.0, 0.0, 0.0, 0.0],
        ];
        let vector = |r: u32| vectors[r as usize];
        ivf.assign(&[(0, 0), (1, 1), (3, 2)], vector);
        consistent(&ivf);
        assert_eq!(ivf.pending(), 1);
        // Row 4 is replaced before its computed place arrives: the late place is ignored.
        ivf.replace(4, Some(&[0.0, 0.0, 3.0, 0.0]));
        ivf.assign(&[(4, 0)], vector);
        assert_eq!(ivf.list(2), &[3, 4]);
        consistent(&ivf);
        ivf.push(Some(&[0.0, 2.0, 0.1, 0.0]));
        ivf.push(None);
        assert_eq!(ivf.list(1), &[1, 5]);
        // Remove row 1: the table moves row 6 (no vector) into it.
        ivf.swap_remove(1);
        consistent(&ivf);
        assert_eq!(ivf.list(1), &[5]);
        // Remove row 0: row 5 moves into 0.
        ivf.swap_remove(0);
        consistent(&ivf);
        assert_eq!(ivf.list(1), &[0]);
        assert!(ivf.list(0).is_empty());
        ivf.replace(0, None);
        consistent(&ivf);
        assert_eq!(ivf.indexed(), 2);
        // The codes moved with the rows: row 3 is still the list's most similar to its axis.
        let q = [0.0, 0.0, 1.0, 0.0];
        let at = ivf.list(2).iter().position(|&r| r == 3).unwrap();
        assert!(ivf.codes(2).upper(at, &q, 1.0) >= 1.0);
        assert_eq!(ivf.probe_order(&[0.0, 0.0, 1.0, 0.0])[0], 2);
    }

    #[test]
    fn distinct_picks() {
        for (n, k) in [(10, 10), (10, 3), (1000, 50), (5, 9)] {
            let mut p = pick_distinct(n, k, 3);
            assert_eq!(p.len(), k.min(n));
            p.sort_unstable();
            p.dedup();
            assert_eq!(p.len(), k.min(n));
            assert!(p.iter().all(|&r| r < n));
        }
    }
}
