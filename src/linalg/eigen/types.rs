//! The types every eigen solver shares, and the small helpers on them
//! (ordering, sign convention, request checks). A leaf: it imports nothing
//! from the solvers.

use crate::error::{Result, UdllError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
/// Which end of the spectrum is wanted.
pub enum Which {
    /// Largest |λ| (for the SVD of a symmetric matrix).
    Magnitude,
    /// Largest λ (algebraic), e.g. the top of a normalised affinity.
    Largest,
}

#[derive(Clone, Debug)]
/// Settings of the eigen solvers.
pub struct EigenOptions {
    /// Use the full decomposition when n is at most this (it is also used
    /// when k > n / 8, see [`super::symmetric_top_eigen`]).
    pub full_below: usize,
    /// Vectors beyond k: shift-invert's block holds k + this, and Lanczos
    /// first checks for convergence after 2k + this steps.
    pub oversample: usize,
    /// Most Lanczos steps, and most block steps of shift-invert (which
    /// never takes more than 100).
    pub max_iters: usize,
    /// Converged when every wanted residual ‖Ax − λx‖ ≤ tol · |λ_max|
    /// (shift-invert: ‖Bx − θx‖ ≤ tol · θ for B = (σI − A)⁻¹).
    pub tol: f64,
    /// The seed of the starting vectors.
    pub seed: u64,
    /// Shift-invert factorises with the blocked Cholesky
    /// (`linalg::cholesky`) when n is above this, else with
    /// nalgebra's. By default shift-invert runs only above `full_below`
    /// (3000), so of the paper's datasets only COIL-100 (n = 7200) gets
    /// there, and it takes the blocked one.
    pub blocked_cholesky_above: usize,
}

impl Default for EigenOptions {
    fn default() -> Self {
        EigenOptions { full_below: 3000, oversample: 40, max_iters: usize::MAX, tol: 1e-8, seed: 0, blocked_cholesky_above: 4096 }
    }
}

#[derive(Clone, Debug)]
pub struct EigenPairs {
    /// k eigenvalues, ordered by the `Which` criterion (first = largest).
    pub values: Vec<f64>,
    /// n × k, row-major: column i is the eigenvector of values[i].
    pub vectors: Vec<f64>,
    pub n: usize,
    pub k: usize,
    pub iterations: usize,
    pub converged: bool,
}

/// An n × n matrix with finite entries, and 1 ≤ k ≤ n pairs asked of it.
pub(crate) fn check_request(a: &[f64], n: usize, k: usize) -> Result<()> {
    if a.len() != n * n {
        return Err(UdllError::shape(format!("eigen: matrix has {} entries, expected {n}²", a.len())));
    }
    if k == 0 || k > n {
        return Err(UdllError::config(format!("eigen: asked for {k} eigenpairs of a {n} × {n} matrix")));
    }
    if a.iter().any(|v| !v.is_finite()) {
        return Err(UdllError::NonFinite("eigen: the matrix has NaN or infinite entries".into()));
    }
    Ok(())
}

/// Indices of `values`, the wanted end first (ties by index).
pub(crate) fn order(values: &[f64], which: Which) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    idx.sort_by(|&i, &j| {
        let (x, y) = match which {
            Which::Magnitude => (values[i].abs(), values[j].abs()),
            Which::Largest => (values[i], values[j]),
        };
        y.partial_cmp(&x).unwrap_or(std::cmp::Ordering::Equal).then(i.cmp(&j))
    });
    idx
}

/// Columns `idx` (in that order) of a matrix with `rows` rows, read
/// through `at(row, column)`, as a row-major rows × idx.len() matrix: the
/// wanted eigenvectors out of a decomposition's eigenvector matrix.
pub(crate) fn columns_in_order(rows: usize, idx: &[usize], at: impl Fn(usize, usize) -> f64) -> Vec<f64> {
    let k = idx.len();
    let mut out = vec![0.0; rows * k];
    for (c, &i) in idx.iter().enumerate() {
        for r in 0..rows {
            out[r * k + c] = at(r, i);
        }
    }
    out
}

/// Make each eigenvector's largest-|·| entry positive, so the output does
/// not depend on the arbitrary sign an algorithm lands on.
pub(crate) fn fix_signs(p: &mut EigenPairs) {
    for c in 0..p.k {
        let mut best = 0usize;
        for r in 0..p.n {
            if p.vectors[r * p.k + c].abs() > p.vectors[best * p.k + c].abs() {
                best = r;
            }
        }
        if p.vectors[best * p.k + c] < 0.0 {
            for r in 0..p.n {
                p.vectors[r * p.k + c] = -p.vectors[r * p.k + c];
            }
        }
    }
}
