//! Sparse self-expression at scale: each sample coded by a few others
//! (EnSC's elastic net, [`ensc`]; SSC-OMP's greedy pursuit, [`omp`]), the
//! codes kept as an n × n CSR matrix with at most k entries per row, a
//! sparse affinity built from them ([`affinity`]) and spectral clustering
//! on a CSR operator ([`spectral`]). Memory is O(n·(d + k)) plus the
//! Krylov basis; nothing n × n is formed.
//!
//! The recipe and its defaults are those of the authors' implementation
//! (ChongYou/subspace-clustering, `run_mnist.py`): EnSC with γ = 200,
//! τ = 0.9, at most 50 nonzeros per row and the 3-nearest-neighbour
//! affinity; SSC-OMP with 5 nonzeros, tolerance 1e-5 and the symmetrised
//! affinity; k-means with 20 restarts.

pub(crate) mod affinity;
mod ensc;
mod omp;
mod samples;
pub(crate) mod spectral;
#[cfg(test)]
pub(crate) mod tests;

use crate::error::{Result, UdllError};
use crate::linalg::eigen::EigenOptions;
use crate::linalg::sparse::Csr;
use crate::progress::Observer;
use serde::{Deserialize, Serialize};

pub(crate) use spectral::MAX_LANCZOS_STEPS;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
/// EnSC's settings (module `ensc`).
pub struct EnscParams {
    /// γ relative to the smallest γ that gives a sample a nonzero code
    /// (γ_i = γ·τ / max_{j≠i} |x_jᵀx_i|); above 1.
    pub gamma: f64,
    /// τ, the ℓ1 share of the penalty, in (0, 1] (1: SSC's lasso).
    pub tau: f64,
    /// Entries kept per row of C (the largest |c|).
    pub nonzeros: usize,
    /// The first working support's size (it grows when its nonzeros fill
    /// it).
    pub support: usize,
    /// Rounds of the oracle at most.
    pub max_rounds: usize,
}

impl Default for EnscParams {
    fn default() -> Self {
        EnscParams { gamma: 200.0, tau: 0.9, nonzeros: 50, support: 100, max_rounds: 40 }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
/// SSC-OMP's settings (module `omp`).
pub struct OmpParams {
    /// Samples chosen per code at most.
    pub nonzeros: usize,
    /// Stop once ‖r‖ ≤ tol·‖x_i‖.
    pub tol: f64,
}

impl Default for OmpParams {
    fn default() -> Self {
        OmpParams { nonzeros: 5, tol: 1e-5 }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
/// The solver of a sparse self-expression.
pub enum SparseSolver {
    /// Elastic-net subspace clustering.
    Ensc(EnscParams),
    /// Orthogonal matching pursuit.
    Omp(OmpParams),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
/// How the affinity is built from the row-normalised codes Ĉ.
pub enum SparseAffinity {
    /// ½(|Ĉ| + |Ĉ|ᵀ).
    Symmetrize,
    /// Each row joined to its k nearest rows of Ĉ, then symmetrised.
    Knn {
        /// Neighbours per row.
        k: usize,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
/// A sparse self-expression and the clustering of its codes.
pub struct SparseConfig {
    /// EnSC or SSC-OMP, with its settings.
    pub solver: SparseSolver,
    /// The affinity built from the codes.
    pub affinity: SparseAffinity,
    /// k-means++ restarts on the spectral embedding.
    pub restarts: usize,
}

impl SparseConfig {
    /// The reference's recipe for `solver`: EnSC with the 3-NN affinity,
    /// SSC-OMP with the symmetrised one; 20 restarts.
    pub fn recipe(solver: SparseSolver) -> Self {
        let affinity = match solver {
            SparseSolver::Ensc(_) => SparseAffinity::Knn { k: 3 },
            SparseSolver::Omp(_) => SparseAffinity::Symmetrize,
        };
        SparseConfig { solver, affinity, restarts: 20 }
    }

    /// Entries kept per code at most.
    pub fn nonzeros(&self) -> usize {
        match &self.solver {
            SparseSolver::Ensc(p) => p.nonzeros,
            SparseSolver::Omp(p) => p.nonzeros,
        }
    }

    /// "ensc" or "omp".
    pub fn name(&self) -> &'static str {
        match self.solver {
            SparseSolver::Ensc(_) => "ensc",
            SparseSolver::Omp(_) => "omp",
        }
    }

    /// Every setting in range.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(UdllError::config(m));
        match &self.solver {
            SparseSolver::Ensc(p) => {
                if !(p.gamma > 1.0 && p.gamma.is_finite()) {
                    return bad(format!("EnSC: γ must be above 1 (it is relative to the γ where codes become nonzero), got {}", p.gamma));
                }
                if !(p.tau > 0.0 && p.tau <= 1.0) {
                    return bad(format!("EnSC: τ must lie in (0, 1], got {}", p.tau));
                }
                if p.nonzeros == 0 || p.support == 0 || p.max_rounds == 0 {
                    return bad("EnSC: nonzeros, support and rounds must be at least 1".into());
                }
            }
            SparseSolver::Omp(p) => {
                if p.nonzeros == 0 {
                    return bad("SSC-OMP: at least 1 nonzero per code".into());
                }
                if !(p.tol >= 0.0 && p.tol < 1.0) {
                    return bad(format!("SSC-OMP: the tolerance must lie in [0, 1), got {}", p.tol));
                }
            }
        }
        if let SparseAffinity::Knn { k: 0 } = self.affinity {
            return bad("the k-NN affinity needs k ≥ 1".into());
        }
        if self.restarts == 0 {
            return bad("k-means needs at least 1 restart".into());
        }
        Ok(())
    }

    /// A one-line description for logs.
    pub fn describe(&self) -> String {
        let solver = match &self.solver {
            SparseSolver::Ensc(p) => format!("EnSC γ = {}, τ = {}, ≤ {} nonzeros", p.gamma, p.tau, p.nonzeros),
            SparseSolver::Omp(p) => format!("SSC-OMP ≤ {} nonzeros, tol {}", p.nonzeros, p.tol),
        };
        let aff = match self.affinity {
            SparseAffinity::Symmetrize => "|Ĉ| + |Ĉ|ᵀ".to_string(),
            SparseAffinity::Knn { k } => format!("{k}-NN of Ĉ's rows"),
        };
        format!("{solver}; affinity {aff}")
    }
}

/// A sparse self-expression: C (n × n CSR, zero diagonal) and how many
/// samples the solver left before its optimality test passed (EnSC's
/// round limit; 0 for SSC-OMP).
pub struct SparseCode {
    /// The coefficients, row i coding sample i.
    pub coef: Csr,
    /// Samples whose solve hit the round limit.
    pub unfinished: usize,
}

/// Bytes a sparse run over n samples of dimension d holds at its peak:
/// the f32 and f64 copies of the samples, a block's correlations, the
/// codes (CSR, ≤ `nonzeros` per row, ×4 for the affinity's copies) and
/// the Krylov basis.
pub fn sparse_memory(n: usize, d: usize, nonzeros: usize) -> Option<u64> {
    let (n, d, k) = (n as u64, d as u64, nonzeros as u64);
    let samples = n.checked_mul(d)?.checked_mul(12)?;
    let block = n.checked_mul(samples::BLOCK_ROWS as u64 * 4)?;
    let codes = n.checked_mul(k.max(6))?.checked_mul(16 * 4)?;
    let basis = n.checked_mul((MAX_LANCZOS_STEPS as u64).min(n))?.checked_mul(8)?;
    samples.checked_add(block)?.checked_add(codes)?.checked_add(basis)
}

/// Code each row of `x` (n × d, row-major f32) by the others with
/// `solver`.
pub fn sparse_self_expression(x: &[f32], n: usize, d: usize, solver: &SparseSolver, observer: &dyn Observer) -> Result<SparseCode> {
    if x.len() != n * d || n < 2 || d == 0 {
        return Err(UdllError::shape(format!("sparse self-expression: {} values for {n} samples of dimension {d} (at least 2 samples)", x.len())));
    }
    if x.iter().any(|v| !v.is_finite()) {
        return Err(UdllError::NonFinite("sparse self-expression: the features contain NaN or infinite values".into()));
    }
    let samples = samples::Samples::new(x, n, d);
    Ok(code_with(&samples, samples::Targets::Itself, solver, observer))
}

fn code_with(samples: &samples::Samples, targets: samples::Targets, solver: &SparseSolver, observer: &dyn Observer) -> SparseCode {
    match solver {
        SparseSolver::Ensc(p) => ensc::ensc(samples, targets, p, observer),
        SparseSolver::Omp(p) => omp::omp(samples, targets, p, observer),
    }
}

/// Place `m` new points (m × d) in a fitted sparse clustering: each is
/// coded by the `n` fitted samples (n × d) with the run's solver, and goes
/// to the cluster whose share of its code reconstructs it best,
/// argmin_k ‖z − Σ_{j in k} c_j x_j‖² (sparse-representation
/// classification, as `cluster::assign` does with a ridge code). A point
/// with an all-zero code goes to the cluster of its most correlated
/// sample. Ties go to the lower cluster.
#[allow(clippy::too_many_arguments)]
pub fn assign_sparse(
    fitted: &[f32],
    n: usize,
    d: usize,
    labels: &[usize],
    k: usize,
    new: &[f32],
    m: usize,
    solver: &SparseSolver,
    observer: &dyn Observer,
) -> Result<Vec<usize>> {
    crate::cluster::assign::check_assign_inputs(fitted, n, d, labels, k, new, m)?;
    if fitted.iter().chain(new).any(|v| !v.is_finite()) {
        return Err(UdllError::NonFinite("assign: the codes contain NaN or infinite values".into()));
    }
    let samples = samples::Samples::new(fitted, n, d);
    let codes = code_with(&samples, samples::Targets::New { x: new, m }, solver, observer).coef;
    use rayon::prelude::*;
    Ok((0..m)
        .into_par_iter()
        .map(|i| {
            let z: Vec<f64> = new[i * d..(i + 1) * d].iter().map(|&v| v as f64).collect();
            let (cols, vals) = codes.row(i);
            if vals.iter().all(|&v| v == 0.0) {
                let best = samples::top_k(0..n, 1, |j| samples.dot(j, &z).abs());
                return best.first().map_or(0, |&j| labels[j]);
            }
            let mut best = (f64::INFINITY, 0usize);
            for cluster in 0..k {
                let (supp, c): (Vec<usize>, Vec<f64>) = cols.iter().zip(vals).filter(|(j, _)| labels[**j] == cluster).map(|(&j, &v)| (j, v)).unzip();
                let e: f64 = samples.residual(&z, &supp, &c).iter().map(|v| v * v).sum();
                if e < best.0 {
                    best = (e, cluster);
                }
            }
            best.1
        })
        .collect())
}

/// The labels of a sparse clustering, with what the spectral step saw.
pub struct SparseClustering {
    /// Labels 0..k−1.
    pub labels: Vec<usize>,
    /// The affinity's stored entries.
    pub affinity_nnz: usize,
    /// The k + 1 leading eigenvalues of D^{-1/2} W D^{-1/2}.
    pub eigenvalues: Vec<f64>,
    /// Lanczos steps, and whether it met its tolerance.
    pub lanczos_steps: usize,
    /// Whether every eigenpair met the tolerance.
    pub converged: bool,
}

/// Affinity → spectral embedding → k-means, for `clusters` clusters.
pub fn cluster_sparse(coef: &Csr, clusters: usize, config: &SparseConfig, seed: u64) -> Result<SparseClustering> {
    let n = coef.rows;
    if coef.cols != n || clusters == 0 || clusters > n {
        return Err(UdllError::config(format!("sparse clustering: {clusters} clusters of a {} × {} coefficient matrix", coef.rows, coef.cols)));
    }
    if coef.values.iter().any(|v| !v.is_finite()) {
        return Err(UdllError::NonFinite("the sparse coefficients have NaN or infinite entries".into()));
    }
    if coef.values.iter().all(|&v| v == 0.0) {
        return Err(UdllError::Numeric("the sparse coefficients are all zero: there is nothing to cluster".into()));
    }
    let w = affinity::sparse_affinity(coef, config.affinity);
    let wanted = (clusters + 1).min(n);
    let opts = EigenOptions { seed, tol: 1e-6, max_iters: MAX_LANCZOS_STEPS, oversample: 20, ..Default::default() };
    let emb = spectral::sparse_spectral_embedding(&w, clusters, wanted, &opts)?;
    let labels = crate::cluster::spectral::kmeans_on_unit_rows(emb.vectors, n, clusters, config.restarts, seed)?;
    Ok(SparseClustering { labels, affinity_nnz: w.nnz(), eigenvalues: emb.values, lanczos_steps: emb.iterations, converged: emb.converged })
}
