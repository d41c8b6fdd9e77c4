//! Spectral clustering of a sparse affinity without any n × n matrix: the
//! same steps as the dense `cluster::spectral` (degrees without the
//! diagonal, the K leading eigenvectors of D^{-1/2} W D^{-1/2}, each row
//! divided by √d_i, signs fixed), with the eigenvectors from Lanczos on a
//! CSR operator (memory O(nnz + n·m) for a Krylov basis of m vectors),
//! then k-means++ with restarts on the row-normalised embedding
//! (`cluster::spectral::kmeans_on_unit_rows`), as the reference
//! implementation of EnSC does (`n_init` = 20 there).

use crate::cluster::spectral::{degree_roots, embedding_rows};
use crate::error::{Result, UdllError};
use crate::linalg::eigen::{EigenOptions, Which, operator_top_eigen};
use crate::linalg::sparse::Csr;

/// The spectral embedding of a sparse affinity.
pub(crate) struct SparseEmbedding {
    /// n × k, row-major: the eigenvectors, each row divided by √d_i.
    pub vectors: Vec<f64>,
    /// The `wanted` leading eigenvalues, largest first.
    pub values: Vec<f64>,
    /// Lanczos steps taken, and whether every pair met the tolerance.
    pub iterations: usize,
    pub converged: bool,
}

/// Lanczos steps at most: the basis then holds 4000 vectors of n (2.2 GB
/// at n = 70 000).
pub(crate) const MAX_LANCZOS_STEPS: usize = 4000;

/// The embedding (first k of `wanted` eigenpairs) of the symmetric sparse
/// affinity `w`.
pub(crate) fn sparse_spectral_embedding(w: &Csr, k: usize, wanted: usize, opts: &EigenOptions) -> Result<SparseEmbedding> {
    let n = w.rows;
    if w.cols != n {
        return Err(UdllError::shape(format!("spectral: the affinity is {} × {}", w.rows, w.cols)));
    }
    if k == 0 || wanted < k || wanted > n {
        return Err(UdllError::config(format!("spectral: {k} clusters ({wanted} eigenpairs) for {n} samples")));
    }
    if w.values.iter().any(|v| !v.is_finite() || *v < 0.0) {
        return Err(UdllError::Numeric("spectral: the affinity has negative or non-finite entries".into()));
    }
    let deg: Vec<f64> = (0..n)
        .map(|i| {
            let (cols, vals) = w.row(i);
            cols.iter().zip(vals).filter(|(j, _)| **j != i).map(|(_, v)| v).sum()
        })
        .collect();
    let dd = degree_roots(&deg);
    // D^{-1/2} W D^{-1/2} without its diagonal, as its own CSR.
    let rows: Vec<Vec<(usize, f64)>> = (0..n)
        .map(|i| {
            let (cols, vals) = w.row(i);
            cols.iter().zip(vals).filter(|(j, _)| **j != i).map(|(&j, &v)| (j, v / (dd[i] * dd[j]))).collect()
        })
        .collect();
    let m = Csr::from_rows(n, rows);
    let apply = |x: &[f64], y: &mut [f64]| m.matvec(x, y);
    let eig = operator_top_eigen(&apply, n, wanted, Which::Largest, opts)?;
    let vectors = embedding_rows(&eig.vectors, wanted, k, &dd);
    Ok(SparseEmbedding { vectors, values: eig.values, iterations: eig.iterations, converged: eig.converged })
}
