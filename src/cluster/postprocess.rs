//! The EDSC post-processing of the coefficient matrix, as the DSC-Net and
//! UDLL reference code does it (`thrC` then `post_proC`):
//!
//! 1. thrC(ρ): in each column keep the largest |c_ij| until their running
//!    sum first exceeds ρ·‖c_:j‖₁ (the crossing entry is kept); ρ ≥ 1 keeps all.
//! 2. C ← ½(C + Cᵀ) (optionally with its diagonal replaced by ones); r = d·K + 1 (capped at n − 1) leading singular
//!    triplets. C is symmetric, so these are its eigenpairs of largest |λ|
//!    with σ = |λ| and U = the eigenvectors.
//! 3. U ← U·diag(√σ), rows L2-normalised, Z = U·Uᵀ, negatives set to 0,
//!    L = Z^power, L ← L / max(L), L ← ½(L + Lᵀ).
//!
//! L is then the affinity handed to spectral clustering.

use crate::error::{Result, UdllError};
use crate::linalg::eigen::{EigenOptions, EigenPairs, Which, symmetric_top_eigen};
use crate::linalg::{Trans, dgemm};
use rayon::prelude::*;

/// thrC: per-column thresholding of C (n × n, row-major), returned in f64.
pub fn threshold_columns(c: &[f32], n: usize, rho: f64) -> Vec<f64> {
    let mut out = vec![0.0f64; n * n];
    if rho >= 1.0 {
        out.iter_mut().zip(c).for_each(|(o, v)| *o = *v as f64);
        return out;
    }
    let kept: Vec<Vec<usize>> = (0..n)
        .into_par_iter()
        .map(|j| {
            let mut idx: Vec<usize> = (0..n).collect();
            // Largest |c| first; ties by index (numpy's stable argsort of −|c|).
            idx.sort_by(|&a, &b| (c[b * n + j].abs()).total_cmp(&c[a * n + j].abs()).then(a.cmp(&b)));
            let l1: f64 = (0..n).map(|i| c[i * n + j].abs() as f64).sum();
            let mut csum = 0.0;
            let mut keep = Vec::new();
            for &i in &idx {
                csum += c[i * n + j].abs() as f64;
                keep.push(i);
                if csum > rho * l1 {
                    break;
                }
            }
            keep
        })
        .collect();
    for (j, rows) in kept.iter().enumerate() {
        for &i in rows {
            out[i * n + j] = c[i * n + j] as f64;
        }
    }
    out
}

/// Steps 2–3: the affinity L from a (thresholded) coefficient matrix.
pub fn affinity_from_coef(c: &[f64], n: usize, clusters: usize, dim: usize, power: f64, add_identity: bool, seed: u64) -> Result<(Vec<f64>, usize)> {
    let eig = coef_eigen(c, n, clusters, dim, add_identity, seed)?;
    let r = eig.k;
    Ok((affinity_from_eigen(&eig, n, clusters, dim, power)?, r))
}

/// r = d·K + 1, capped at n − 1 (and at least 1).
fn rank(n: usize, clusters: usize, dim: usize) -> usize {
    (dim * clusters + 1).min(n - 1).max(1)
}

/// Step 2: the r = d·K + 1 eigenpairs of largest |λ| of ½(C + Cᵀ) (its
/// diagonal replaced by ones with `add_identity`). A smaller d keeps the
/// leading ones, so one call at the largest d serves a range of d.
pub fn coef_eigen(c: &[f64], n: usize, clusters: usize, dim: usize, add_identity: bool, seed: u64) -> Result<EigenPairs> {
    if c.len() != n * n {
        return Err(UdllError::shape(format!("post-processing: coefficient matrix has {} entries for n = {n}", c.len())));
    }
    if clusters == 0 || clusters > n || n < 2 {
        return Err(UdllError::config(format!("post-processing: {clusters} clusters for {n} samples")));
    }
    let mut sym = vec![0.0f64; n * n];
    sym.par_chunks_mut(n).enumerate().for_each(|(i, row)| {
        for j in 0..n {
            row[j] = 0.5 * (c[i * n + j] + c[j * n + i]);
        }
        if add_identity {
            row[i] = 1.0;
        }
    });
    let opts = EigenOptions { seed, tol: 1e-6, ..Default::default() };
    symmetric_top_eigen(&sym, n, rank(n, clusters, dim), Which::Magnitude, &opts)
}

/// Step 3: the affinity from the leading r = d·K + 1 pairs of `eig`.
pub fn affinity_from_eigen(eig: &EigenPairs, n: usize, clusters: usize, dim: usize, power: f64) -> Result<Vec<f64>> {
    let r = rank(n, clusters, dim);
    if r > eig.k || eig.n != n {
        return Err(UdllError::shape(format!("post-processing: {} eigenpairs of n = {} for r = {r} at n = {n}", eig.k, eig.n)));
    }
    let mut u: Vec<f64> = eig.vectors.chunks_exact(eig.k).flat_map(|row| row[..r].iter().copied()).collect();
    for row in u.chunks_exact_mut(r) {
        for (v, lam) in row.iter_mut().zip(&eig.values) {
            *v *= lam.abs().sqrt();
        }
        let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm > 0.0 {
            row.iter_mut().for_each(|v| *v /= norm);
        }
    }
    let mut z = vec![0.0f64; n * n];
    dgemm(n, r, n, 1.0, &u, Trans::No, &u, Trans::Yes, 0.0, &mut z);
    z.par_iter_mut().for_each(|v| *v = if *v > 0.0 { v.powf(power) } else { 0.0 });
    let max = z.iter().copied().fold(0.0f64, f64::max);
    if max > 0.0 {
        z.par_iter_mut().for_each(|v| *v /= max);
    }
    // L = ½(Z + Zᵀ) in place (the same sums as into a new matrix, one n²
    // buffer less).
    for i in 0..n {
        for j in i + 1..n {
            let v = 0.5 * (z[i * n + j] + z[j * n + i]);
            z[i * n + j] = v;
            z[j * n + i] = v;
        }
    }
    Ok(z)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholding_keeps_the_crossing_entry() {
        // One column (j = 0) of a 4 × 4 matrix: |c| = 4, 3, 2, 1 (sum 10).
        let n = 4;
        let mut c = vec![0f32; 16];
        for (i, v) in [1.0f32, -4.0, 2.0, 3.0].iter().enumerate() {
            c[i * n] = *v;
        }
        // ρ = 0.5: 4 (0.4) does not exceed 5, 4 + 3 = 7 does → keep rows 1, 3.
        let t = threshold_columns(&c, n, 0.5);
        let col: Vec<f64> = (0..n).map(|i| t[i * n]).collect();
        assert_eq!(col, vec![0.0, -4.0, 0.0, 3.0]);
        // ρ = 0.3: 4 > 3 already.
        let t = threshold_columns(&c, n, 0.3);
        assert_eq!((0..n).map(|i| t[i * n]).collect::<Vec<_>>(), vec![0.0, -4.0, 0.0, 0.0]);
        // ρ ≥ 1 keeps everything.
        assert_eq!(threshold_columns(&c, n, 1.0)[0], 1.0);
    }

    #[test]
    fn block_diagonal_coefficients_give_block_affinity() {
        // Two blocks of 5: the affinity must vanish across blocks.
        let n = 10;
        let mut c = vec![0.0f64; n * n];
        for i in 0..n {
            for j in 0..n {
                if i / 5 == j / 5 && i != j {
                    c[i * n + j] = 0.2 + 0.01 * ((i + j) % 3) as f64;
                }
            }
        }
        let (l, r) = affinity_from_coef(&c, n, 2, 1, 2.0, false, 0).unwrap();
        assert_eq!(r, 3);
        for i in 0..n {
            for j in 0..n {
                if i / 5 != j / 5 {
                    assert!(l[i * n + j] < 1e-9, "L[{i},{j}] = {}", l[i * n + j]);
                }
            }
        }
        assert!((l.iter().copied().fold(0.0, f64::max) - 1.0).abs() < 1e-12);
    }
}
