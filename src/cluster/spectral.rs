//! Spectral clustering of a precomputed affinity, as scikit-learn's
//! `SpectralClustering(affinity='precomputed')` does it (the references
//! call it):
//!
//! 1. The diagonal of the affinity W is ignored; degrees d_i = Σ_j w_ij.
//! 2. The K leading eigenvectors of D^{-1/2} W D^{-1/2} (= the K smallest
//!    of the normalised Laplacian), each divided row-wise by √d_i
//!    (isolated nodes: 1), signs fixed deterministically.
//! 3. Labels by Yu & Shi's discretisation (`discretize`, its random start
//!    drawn from the seed's `discretize` stream), or by k-means++ with
//!    restarts on the row-normalised embedding.

use crate::cluster::kmeans::kmeans;
use crate::cluster::params::LabelAssign;
use crate::error::{Result, UdllError};
use crate::linalg::eigen::{EigenOptions, symmetric_eigen_below_shift};
use crate::rng::Rng;
use nalgebra::DMatrix;
use rayon::prelude::*;

/// σ − 1 for the shift-invert eigen solve: an eigenvalue at 1 − ε maps to
/// 1/(δ + ε), and the rest of the spectrum, down to −1, to at least 1/2.
/// On COIL-20 the 20th and 21st eigenvalues sit 1.2e-3 and 1.4e-3 below 1;
/// their gap, relative to the spread below it, grows from 8e-5 to 0.07 with
/// this δ, while σI − A keeps a condition number of about 2/δ.
const SHIFT_ABOVE_ONE: f64 = 1e-3;

/// The spectral embedding (n × k, row-major) of a symmetric affinity.
pub fn spectral_embedding(affinity: &[f64], n: usize, k: usize, seed: u64) -> Result<Vec<f64>> {
    Ok(spectral_decomposition(affinity, n, k, k, seed)?.0)
}

/// The leading `wanted` ≥ k eigenpairs of D^{-1/2} W D^{-1/2}: the
/// embedding (n × k, row-major) from the first k, and all `wanted`
/// eigenvalues, largest first (the selection scores read the (k+1)-th).
/// Below the dense threshold (n ≤ 3000) the first k vectors are the same
/// bits whatever `wanted` is; above it the block iteration's size changes
/// with it.
pub fn spectral_decomposition(affinity: &[f64], n: usize, k: usize, wanted: usize, seed: u64) -> Result<(Vec<f64>, Vec<f64>)> {
    if affinity.len() != n * n {
        return Err(UdllError::shape(format!("spectral: affinity has {} entries for n = {n}", affinity.len())));
    }
    if k == 0 || k > n || wanted < k || wanted > n {
        return Err(UdllError::config(format!("spectral: {k} clusters ({wanted} eigenpairs) for {n} samples")));
    }
    let deg: Vec<f64> = (0..n).into_par_iter().map(|i| (0..n).filter(|&j| j != i).map(|j| affinity[i * n + j]).sum()).collect();
    if deg.iter().any(|d| *d < 0.0 || !d.is_finite()) {
        return Err(UdllError::Numeric("spectral: the affinity has negative or non-finite degrees".into()));
    }
    let dd = degree_roots(&deg);
    let mut m = vec![0.0f64; n * n];
    m.par_chunks_mut(n).enumerate().for_each(|(i, row)| {
        for j in 0..n {
            if i != j {
                row[j] = affinity[i * n + j] / (dd[i] * dd[j]);
            }
        }
    });
    // D^{-1/2} W D^{-1/2} is similar to the row-stochastic D⁻¹W, so its
    // eigenvalues lie in [−1, 1]: a shift just above 1 separates the top
    // ones from the slow modes below them (eigen.rs).
    let opts = EigenOptions { seed, tol: 1e-6, ..Default::default() };
    let eig = symmetric_eigen_below_shift(&m, n, wanted, 1.0 + SHIFT_ABOVE_ONE, &opts)?;
    Ok((embedding_rows(&eig.vectors, wanted, k, &dd), eig.values))
}

/// √d_i of each degree, 1 for an isolated node.
pub(crate) fn degree_roots(deg: &[f64]) -> Vec<f64> {
    deg.iter().map(|&d| if d > 0.0 { d.sqrt() } else { 1.0 }).collect()
}

/// The embedding (n × k) from the first k of `wanted` eigenvectors (n ×
/// wanted, row-major), row i divided by `dd[i]` = √d_i.
pub(crate) fn embedding_rows(vectors: &[f64], wanted: usize, k: usize, dd: &[f64]) -> Vec<f64> {
    let mut emb = vec![0.0f64; dd.len() * k];
    for ((row, src), d) in emb.chunks_exact_mut(k).zip(vectors.chunks_exact(wanted)).zip(dd) {
        row.iter_mut().zip(src).for_each(|(v, s)| *v = s / d);
    }
    emb
}

/// Labels by k-means++ (`restarts` starts) on the rows of an embedding
/// (n × k) divided by their norms.
pub(crate) fn kmeans_on_unit_rows(mut emb: Vec<f64>, n: usize, k: usize, restarts: usize, seed: u64) -> Result<Vec<usize>> {
    for row in emb.chunks_exact_mut(k) {
        let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm > 0.0 {
            row.iter_mut().for_each(|v| *v /= norm);
        }
    }
    Ok(kmeans(&emb, n, k, k, restarts, 300, seed)?.labels)
}

/// Yu & Shi (2003) discretisation of a spectral embedding (n × k).
pub fn discretize(vectors: &[f64], n: usize, k: usize, seed: u64) -> Vec<usize> {
    let mut v = DMatrix::from_row_slice(n, k, vectors);
    let norm_ones = (n as f64).sqrt();
    for c in 0..k {
        let norm = v.column(c).norm();
        if norm > 0.0 {
            let s = if v[(0, c)] != 0.0 { -v[(0, c)].signum() } else { 1.0 };
            for r in 0..n {
                v[(r, c)] = v[(r, c)] / norm * norm_ones * s;
            }
        }
    }
    for r in 0..n {
        let norm = v.row(r).norm();
        if norm > 0.0 {
            for c in 0..k {
                v[(r, c)] /= norm;
            }
        }
    }
    let mut rng = Rng::stream(seed, "discretize");
    let mut best_labels = vec![0usize; n];
    for _restart in 0..30 {
        let mut rotation = DMatrix::<f64>::zeros(k, k);
        let first = rng.below(n);
        rotation.set_column(0, &v.row(first).transpose());
        let mut cacc = vec![0.0f64; n];
        for j in 1..k {
            let col = &v * rotation.column(j - 1);
            for r in 0..n {
                cacc[r] += col[r].abs();
            }
            let argmin = (0..n).min_by(|&a, &b| cacc[a].total_cmp(&cacc[b]).then(a.cmp(&b))).unwrap_or(0);
            rotation.set_column(j, &v.row(argmin).transpose());
        }
        let mut last = 0.0;
        let mut labels = vec![0usize; n];
        let mut converged = false;
        for iter in 1..=21 {
            let t = &v * &rotation;
            for (r, label) in labels.iter_mut().enumerate().take(n) {
                let row = t.row(r);
                *label = (0..k).fold(0, |b, c| if row[c] > row[b] { c } else { b });
            }
            // t_svd = Dᵀ V with D the n × k indicator of the labels.
            let mut t_svd = DMatrix::<f64>::zeros(k, k);
            for r in 0..n {
                for c in 0..k {
                    t_svd[(labels[r], c)] += v[(r, c)];
                }
            }
            let svd = t_svd.svd(true, true);
            let (Some(u), Some(vt)) = (svd.u, svd.v_t) else { break };
            let ncut = 2.0 * (n as f64 - svd.singular_values.sum());
            if (ncut - last).abs() < f64::EPSILON || iter > 20 {
                converged = true;
                break;
            }
            last = ncut;
            rotation = vt.transpose() * u.transpose();
        }
        best_labels = labels;
        if converged {
            break;
        }
    }
    best_labels
}

/// Cluster labels 0..k−1 from an affinity.
pub fn spectral_clustering(affinity: &[f64], n: usize, k: usize, assign: LabelAssign, seed: u64) -> Result<Vec<usize>> {
    let emb = spectral_embedding(affinity, n, k, seed)?;
    assign_labels(emb, n, k, assign, seed)
}

/// Labels 0..k−1 from a spectral embedding (n × k).
pub fn assign_labels(emb: Vec<f64>, n: usize, k: usize, assign: LabelAssign, seed: u64) -> Result<Vec<usize>> {
    Ok(match assign {
        LabelAssign::Discretize => discretize(&emb, n, k, seed),
        LabelAssign::Kmeans => kmeans_on_unit_rows(emb, n, k, 10, seed)?,
    })
}

/// A test affinity of k noisy blocks of `n_per` (within a block 0.5–1,
/// across `noise` × uniform), symmetric, drawn from the seed's `blocks`
/// stream.
#[cfg(test)]
pub(crate) fn noisy_blocks(n_per: usize, k: usize, noise: f64, seed: u64) -> Vec<f64> {
    let n = n_per * k;
    let mut rng = Rng::stream(seed, "blocks");
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let v = if i / n_per == j / n_per { 0.5 + 0.5 * rng.uniform() } else { noise * rng.uniform() };
            a[i * n + j] = v;
            a[j * n + i] = v;
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_noisy_blocks_with_both_assignments() {
        let (n_per, k) = (30, 4);
        let a = noisy_blocks(n_per, k, 0.05, 0);
        for assign in [LabelAssign::Discretize, LabelAssign::Kmeans] {
            let labels = spectral_clustering(&a, n_per * k, k, assign, 0).unwrap();
            for b in 0..k {
                let l = labels[b * n_per];
                assert!(labels[b * n_per..(b + 1) * n_per].iter().all(|&v| v == l), "{assign:?}: block {b} split");
            }
            let mut firsts: Vec<usize> = (0..k).map(|b| labels[b * n_per]).collect();
            firsts.sort();
            firsts.dedup();
            assert_eq!(firsts.len(), k, "{assign:?}: blocks merged");
        }
    }
}
