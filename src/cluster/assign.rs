//! Placing new points in a finished clustering, as sparse-representation
//! classification does (Wright et al. 2009; the *classify* step of
//! scalable subspace clustering): each new code z is written as a ridge
//! combination of the fitted codes Z (n × d), c = (ZZᵀ + λI)⁻¹ Z z, and goes
//! to the cluster k whose share of the combination reconstructs it best,
//! argmin_k ‖z − Z_kᵀ c_k‖². A fitted point itself is reconstructed by its
//! own coefficient (for small λ), so it keeps its cluster.
//!
//! Cost: one n × n factorisation, then O(n·d + n²) per new point, in chunks
//! of new points so that memory stays O(n² + n·chunk).

use crate::error::{Result, UdllError};
use crate::linalg::cholesky::{BLOCK, blocked_cholesky, solve_many};
use crate::linalg::{Trans, dgemm};
use nalgebra::{Cholesky, Dyn};
use rayon::prelude::*;

/// New points per chunk.
const CHUNK: usize = 1024;

/// The shapes an assignment needs: n fitted codes and m new ones of one
/// dimension d > 0, n labels below k.
#[allow(clippy::too_many_arguments)]
pub(crate) fn check_assign_inputs(fitted: &[f32], n: usize, d: usize, labels: &[usize], k: usize, new: &[f32], m: usize) -> Result<()> {
    if fitted.len() != n * d || new.len() != m * d || labels.len() != n || n == 0 || d == 0 {
        return Err(UdllError::shape(format!(
            "assign: {} fitted values for {n} × {d}, {} new for {m} × {d}, {} labels",
            fitted.len(),
            new.len(),
            labels.len()
        )));
    }
    if let Some(&bad) = labels.iter().find(|&&l| l >= k) {
        return Err(UdllError::shape(format!("assign: cluster {bad} of {k}")));
    }
    Ok(())
}

/// The cluster of each of the `m` new codes `new` (m × d, row-major), by
/// class-wise residual against the `n` fitted codes `fitted` (n × d) and
/// their clusters `labels` (values below `k`). λ = `ridge` × the mean of
/// diag(ZZᵀ). Ties go to the lower cluster.
#[allow(clippy::too_many_arguments)]
pub fn assign_by_residual(fitted: &[f32], n: usize, d: usize, labels: &[usize], k: usize, new: &[f32], m: usize, ridge: f64) -> Result<Vec<usize>> {
    check_assign_inputs(fitted, n, d, labels, k, new, m)?;
    ResidualAssigner::new(fitted, n, d, labels, k, ridge)?.assign(new, m)
}

/// [`assign_by_residual`] with its fitted side prepared once (the Gram
/// matrix, the factorisation of ZZᵀ + λI, each cluster's Gram block), to
/// place any number of batches of new codes against it.
pub struct ResidualAssigner {
    z: Vec<f64>,
    n: usize,
    d: usize,
    k: usize,
    chol: Cholesky<f64, Dyn>,
    members: Vec<Vec<usize>>,
    blocks: Vec<Vec<f64>>,
}

impl ResidualAssigner {
    /// Prepare the `n` fitted codes `fitted` (n × d) with their clusters
    /// `labels` (below `k`) and λ = `ridge` × the mean of diag(ZZᵀ).
    pub fn new(fitted: &[f32], n: usize, d: usize, labels: &[usize], k: usize, ridge: f64) -> Result<Self> {
        check_assign_inputs(fitted, n, d, labels, k, &[], 0)?;
        if !(ridge > 0.0) {
            return Err(UdllError::config(format!("assign: the ridge must be positive (got {ridge})")));
        }
        let z: Vec<f64> = fitted.iter().map(|&v| v as f64).collect();
        let mut g = vec![0.0f64; n * n];
        dgemm(n, d, n, 1.0, &z, Trans::No, &z, Trans::Yes, 0.0, &mut g);
        let scale = (0..n).map(|i| g[i * n + i]).sum::<f64>() / n as f64;
        if !(scale > 0.0) || !scale.is_finite() {
            return Err(UdllError::Numeric("assign: the fitted codes are all zero or not finite".into()));
        }
        let lambda = ridge * scale;
        let mut a = g.clone();
        (0..n).for_each(|i| a[i * n + i] += lambda);
        let chol = blocked_cholesky(a, n, BLOCK).ok_or_else(|| UdllError::Numeric("assign: ZZᵀ + λI is not positive definite".into()))?;
        // Each cluster's members and its block of the Gram matrix.
        let members: Vec<Vec<usize>> = (0..k).map(|c| (0..n).filter(|&i| labels[i] == c).collect()).collect();
        let blocks: Vec<Vec<f64>> =
            members.iter().map(|idx| idx.iter().flat_map(|&i| idx.iter().map(move |&j| (i, j))).map(|(i, j)| g[i * n + j]).collect()).collect();
        Ok(ResidualAssigner { z, n, d, k, chol, members, blocks })
    }

    /// The cluster of each of the `m` new codes `new` (m × d, row-major).
    pub fn assign(&self, new: &[f32], m: usize) -> Result<Vec<usize>> {
        let (z, n, d, k) = (&self.z, self.n, self.d, self.k);
        if new.len() != m * d {
            return Err(UdllError::shape(format!("assign: {} new values for {m} × {d}", new.len())));
        }
        let mut out = Vec::with_capacity(m);
        for start in (0..m).step_by(CHUNK) {
            let p = CHUNK.min(m - start);
            let zn: Vec<f64> = new[start * d..(start + p) * d].iter().map(|&v| v as f64).collect();
            // B = Z Znᵀ (n × p); C = (ZZᵀ + λI)⁻¹ B.
            let mut b = vec![0.0f64; n * p];
            dgemm(n, d, p, 1.0, z, Trans::No, &zn, Trans::Yes, 0.0, &mut b);
            let mut c = b.clone();
            solve_many(&self.chol, &mut c, n, p);
            // ‖z − Z_kᵀc_k‖² = ‖z‖² − 2 c_kᵀ(Z_k z) + c_kᵀ G_kk c_k, per cluster.
            let mut resid = vec![0.0f64; k * p];
            for (ci, idx) in self.members.iter().enumerate() {
                if idx.is_empty() {
                    resid[ci * p..][..p].fill(f64::INFINITY);
                    continue;
                }
                let s = idx.len();
                let ck: Vec<f64> = idx.iter().flat_map(|&i| c[i * p..][..p].iter().copied()).collect();
                let mut h = vec![0.0f64; s * p];
                dgemm(s, s, p, 1.0, &self.blocks[ci], Trans::No, &ck, Trans::No, 0.0, &mut h);
                resid[ci * p..][..p].par_iter_mut().enumerate().for_each(|(j, r)| {
                    let (mut cross, mut quad) = (0.0, 0.0);
                    for (t, &i) in idx.iter().enumerate() {
                        cross += ck[t * p + j] * b[i * p + j];
                        quad += ck[t * p + j] * h[t * p + j];
                    }
                    *r = quad - 2.0 * cross;
                });
            }
            out.extend(
                (0..p).into_par_iter().map(|j| (0..k).fold(0, |best, ci| if resid[ci * p + j] < resid[best * p + j] { ci } else { best })).collect::<Vec<_>>(),
            );
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// k random 2-D subspaces of R^d.
    fn bases(k: usize, d: usize) -> Vec<Vec<f64>> {
        let mut r = Rng::from_seed(1);
        (0..k).map(|_| (0..2 * d).map(|_| r.normal()).collect()).collect()
    }

    /// `per` points on each subspace, their coefficients drawn with `seed`.
    fn points(bases: &[Vec<f64>], d: usize, per: usize, seed: u64) -> (Vec<f32>, Vec<usize>) {
        let mut r = Rng::from_seed(seed);
        let (mut pts, mut labels) = (Vec::new(), Vec::new());
        for (c, basis) in bases.iter().enumerate() {
            for _ in 0..per {
                let (a, b) = (r.normal(), r.normal());
                pts.extend((0..d).map(|t| (a * basis[t] + b * basis[d + t]) as f32));
                labels.push(c);
            }
        }
        (pts, labels)
    }

    #[test]
    fn fitted_points_keep_their_cluster_and_new_ones_find_their_subspace() {
        let (k, d) = (3, 12);
        let b = bases(k, d);
        let (z, labels) = points(&b, d, 15, 2);
        let n = labels.len();
        assert_eq!(assign_by_residual(&z, n, d, &labels, k, &z, n, 1e-6).unwrap(), labels);
        // New points on the same subspaces, other coefficients.
        let (znew, truth) = points(&b, d, 7, 3);
        assert_ne!(znew[..d], z[..d]);
        assert_eq!(assign_by_residual(&z, n, d, &labels, k, &znew, truth.len(), 1e-6).unwrap(), truth);
        // More new points than one chunk: the same answer as each alone.
        let many: Vec<f32> = znew.iter().copied().cycle().take((CHUNK + 5) * d).collect();
        let all = assign_by_residual(&z, n, d, &labels, k, &many, CHUNK + 5, 1e-6).unwrap();
        assert!(all.iter().enumerate().all(|(j, &l)| l == truth[j % truth.len()]));
    }

    #[test]
    fn bad_input_is_refused() {
        let z = vec![1.0f32; 6];
        assert!(assign_by_residual(&z, 3, 2, &[0, 1], 2, &z, 3, 1e-3).is_err(), "label count");
        assert!(assign_by_residual(&z, 3, 2, &[0, 1, 2], 2, &z, 3, 1e-3).is_err(), "label range");
        assert!(assign_by_residual(&z, 3, 2, &[0, 1, 1], 2, &z, 3, 0.0).is_err(), "ridge");
        assert!(assign_by_residual(&[0.0; 6], 3, 2, &[0, 1, 1], 2, &z, 3, 1e-3).is_err(), "zero codes");
    }
}
