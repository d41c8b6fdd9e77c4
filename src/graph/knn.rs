//! Exact k nearest neighbours under squared Euclidean distance.
//!
//! Candidate search uses ‖z_i‖² + ‖z_j‖² − 2 z_i·z_j with the Gram block
//! from the crate's GEMM, one block of rows at a time (memory stays
//! O(block · n) for n up to tens of thousands). Because that formula loses
//! digits when neighbours are close compared to their norms, a few extra
//! candidates are kept and their distances recomputed exactly in f64 before
//! the final choice. Ties are broken by the smaller index, so the result is
//! fully deterministic.

use crate::error::{Result, UdllError};
use crate::linalg::{Trans, sgemm};
use rayon::prelude::*;

/// Rows per distance block.
const BLOCK_ROWS: usize = 256;
/// Extra candidates re-ranked exactly.
const EXTRA_CANDIDATES: usize = 8;

/// A point's neighbours: (index, squared distance), nearest first.
pub type Neighbours = Vec<(usize, f64)>;

fn exact_sq_dist(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            let d = *x as f64 - *y as f64;
            d * d
        })
        .sum()
}

/// The `k` nearest other points of every row of `z` (n × d, row-major).
pub fn k_nearest(z: &[f32], n: usize, d: usize, k: usize) -> Result<Vec<Neighbours>> {
    if z.len() != n * d {
        return Err(UdllError::shape(format!("kNN: {} values for {n} points of dimension {d}", z.len())));
    }
    if k >= n {
        return Err(UdllError::config(format!("kNN: k = {k} needs more than {k} points, got {n}")));
    }
    if z.iter().any(|v| !v.is_finite()) {
        return Err(UdllError::NonFinite("kNN: features contain NaN or infinite values".into()));
    }
    let norms: Vec<f32> = z.par_chunks(d.max(1)).map(|r| r.iter().map(|v| v * v).sum()).collect();
    let cand = (k + EXTRA_CANDIDATES).min(n - 1);
    let mut out: Vec<Neighbours> = Vec::with_capacity(n);
    for start in (0..n).step_by(BLOCK_ROWS) {
        let rows = BLOCK_ROWS.min(n - start);
        let mut gram = vec![0f32; rows * n];
        sgemm(rows, d, n, 1.0, &z[start * d..(start + rows) * d], Trans::No, z, Trans::Yes, 0.0, &mut gram);
        let block: Vec<Neighbours> = gram
            .par_chunks(n)
            .enumerate()
            .map(|(r, g)| {
                let i = start + r;
                let mut c: Vec<(f32, usize)> = (0..n).filter(|&j| j != i).map(|j| ((norms[i] + norms[j] - 2.0 * g[j]).max(0.0), j)).collect();
                let by = |a: &(f32, usize), b: &(f32, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
                if cand < c.len() {
                    c.select_nth_unstable_by(cand - 1, by);
                    c.truncate(cand);
                }
                let zi = &z[i * d..(i + 1) * d];
                let mut exact: Vec<(usize, f64)> = c.iter().map(|&(_, j)| (j, exact_sq_dist(zi, &z[j * d..(j + 1) * d]))).collect();
                exact.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
                exact.truncate(k);
                exact
            })
            .collect();
        out.extend(block);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn matches_brute_force_and_breaks_ties_by_index() {
        let mut rng = Rng::stream(0, "knn");
        let (n, d, k) = (300, 7, 5);
        let z: Vec<f32> = (0..n * d).map(|_| rng.normal() as f32).collect();
        let got = k_nearest(&z, n, d, k).unwrap();
        for i in 0..n {
            let mut all: Vec<(usize, f64)> = (0..n).filter(|&j| j != i).map(|j| (j, exact_sq_dist(&z[i * d..][..d], &z[j * d..][..d]))).collect();
            all.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
            assert_eq!(got[i].iter().map(|p| p.0).collect::<Vec<_>>(), all[..k].iter().map(|p| p.0).collect::<Vec<_>>());
        }
        // Four identical points: ties resolve to the smallest indices.
        let z = vec![1.0f32; 4 * 2];
        let nn = k_nearest(&z, 4, 2, 2).unwrap();
        assert_eq!(nn[0].iter().map(|p| p.0).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(nn[3].iter().map(|p| p.0).collect::<Vec<_>>(), vec![0, 1]);
    }
}
