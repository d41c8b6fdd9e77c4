//! A few eigenpairs of a dense symmetric matrix without a full O(n³)
//! decomposition: Lanczos with full re-orthogonalisation (the method behind
//! ARPACK's `eigsh` / `svds`, which the reference code calls).
//!
//! Used twice: the rank-r SVD of the symmetrised coefficient matrix (for a
//! symmetric C the singular triplets are the eigenpairs of largest |λ|, with
//! σ = |λ| and U = the eigenvectors) and the leading eigenvectors of the
//! normalised affinity D^{-1/2} L D^{-1/2} in spectral clustering.
//!
//! Step j costs one matrix–vector product (rows in parallel, each a
//! fixed-order dot product, so the bits do not depend on threads) and two
//! classical Gram–Schmidt passes against the basis (matrix–vector products
//! written the same way). The Krylov basis grows until every wanted Ritz pair has a
//! residual bound β_m·|s_m,i| ≤ tol·|θ_max|; the m × m tridiagonal problem is
//! solved by nalgebra. Lanczos copes with the clustered spectra that the
//! post-processing produces (C − diag(C) + I puts most eigenvalues near 1),
//! where plain subspace iteration stalls. The full decomposition is also
//! the reference in the tests.
//!
//! The top of a normalised affinity is harder still: the K eigenvalues
//! nearest 1 sit just above the slow modes of each cluster (72 poses of an
//! object form a ring), so plain Lanczos on COIL-20 had not converged at
//! n/2 steps. [`symmetric_eigen_below_shift`] works on (σI − A)⁻¹
//! instead, with σ just above the spectrum (shift-invert, which is how
//! scikit-learn calls ARPACK for spectral embeddings): there the wanted
//! eigenvalues are far apart from the rest, one Cholesky factorisation
//! pays for it, and a block iteration ([`shift_invert`]) finds
//! them all, repeated ones included.
//!
//! Below `full_below` (3000), or when more than an eighth of the spectrum
//! is asked for, a dense decomposition answers instead: faer's blocked
//! tridiagonalisation and divide and conquer, 6–8 times faster than
//! nalgebra's unblocked one (0.42 s against 3.41 s at n = 1440) and faster
//! than either iterative solver there (benches/HISTORY.md, "Dense eigensolver").

mod dense;
mod lanczos;
mod shift_invert;
mod types;

pub use dense::full_decomposition;
pub use types::{EigenOptions, EigenPairs, Which};

use crate::error::{Result, UdllError};
use crate::linalg::cholesky::{BLOCK as CHOLESKY_BLOCK, blocked_cholesky};
use lanczos::{lanczos_complete, matvec};
use nalgebra::DMatrix;
use shift_invert::shift_invert_block;
use types::{check_request, fix_signs};

/// The k leading eigenpairs of the symmetric n × n row-major matrix `a`.
pub fn symmetric_top_eigen(a: &[f64], n: usize, k: usize, which: Which, opts: &EigenOptions) -> Result<EigenPairs> {
    check_request(a, n, k)?;
    // Lanczos gives up (None) once its basis passes n/2: past that point
    // one full decomposition is cheaper than growing the basis further.
    // With k above n/8 it is not tried: its basis needs several k vectors,
    // and the rank-1201 SVD at n = 7200 (COIL-100) ran to n/2 without
    // converging, 280 s lost before the full decomposition answered.
    let apply = |x: &[f64], y: &mut [f64]| matvec(a, n, x, y);
    let dense = n <= opts.full_below || k > n / 8;
    let found = if dense { None } else { lanczos_complete(&apply, n, k, which, opts) };
    let mut out = match found {
        Some(p) => p,
        None => full_decomposition(a, n, k, which)?,
    };
    fix_signs(&mut out);
    Ok(out)
}

/// Matrices up to this side may be formed densely (column by column from
/// an operator) when Lanczos gives up on them: 512 MB of f64 at most.
const DENSE_FALLBACK_MAX: usize = 8192;

/// The k leading eigenpairs of a symmetric operator known only by its
/// product y = A·x (a sparse matrix, say): Lanczos, whose memory is the
/// Krylov basis (n × steps), capped at `opts.max_iters` steps (the pairs
/// come back with `converged` false when that is not enough). At most
/// `opts.full_below`, or when Lanczos gives up below 8192, the operator is
/// formed densely one column per product and decomposed in full.
pub fn operator_top_eigen(apply: &(dyn Fn(&[f64], &mut [f64]) + Sync), n: usize, k: usize, which: Which, opts: &EigenOptions) -> Result<EigenPairs> {
    if k == 0 || k > n {
        return Err(UdllError::config(format!("eigen: asked for {k} eigenpairs of a {n} × {n} operator")));
    }
    let found = if n <= opts.full_below { None } else { lanczos_complete(apply, n, k, which, opts) };
    let mut out = match found {
        Some(p) => p,
        None if n <= DENSE_FALLBACK_MAX.max(opts.full_below) => {
            let mut a = vec![0.0; n * n];
            let mut e = vec![0.0; n];
            let mut col = vec![0.0; n];
            for j in 0..n {
                e[j] = 1.0;
                apply(&e, &mut col);
                e[j] = 0.0;
                for i in 0..n {
                    a[i * n + j] = col[i];
                }
            }
            check_request(&a, n, k)?;
            full_decomposition(&a, n, k, which)?
        }
        None => return Err(UdllError::Numeric(format!("eigen: Lanczos found no {k} eigenpairs of the {n} × {n} operator"))),
    };
    if out.values.iter().chain(&out.vectors).any(|v| !v.is_finite()) {
        return Err(UdllError::NonFinite("eigen: the operator's eigenpairs are not finite".into()));
    }
    fix_signs(&mut out);
    Ok(out)
}

/// The k largest eigenpairs of the symmetric n × n row-major matrix `a`,
/// whose eigenvalues must all lie below `sigma`, computed on (σI − A)⁻¹,
/// whose largest eigenvalues 1/(σ − λ) are those of the wanted λ, spread
/// far apart from the rest when σ is close above them. (σI − A) is
/// factorised once (Cholesky); then a block of k + oversample vectors is
/// iterated (`shift_invert`), each step one solve for the
/// whole block. Every pair is converged to its own relative residual,
/// ‖Bx − θx‖ ≤ tol·θ with B = (σI − A)⁻¹, which bounds A's residual:
/// ‖Ax − λx‖ ≤ tol·(σ − λ_min). If that takes more than 100 steps, the
/// full decomposition answers. An `a` with an eigenvalue at or above σ is
/// refused.
pub fn symmetric_eigen_below_shift(a: &[f64], n: usize, k: usize, sigma: f64, opts: &EigenOptions) -> Result<EigenPairs> {
    check_request(a, n, k)?;
    if !sigma.is_finite() {
        return Err(UdllError::NonFinite(format!("eigen: the shift is {sigma}")));
    }
    let mut out = if n <= opts.full_below {
        full_decomposition(a, n, k, Which::Largest)?
    } else {
        let shifted = |i: usize, j: usize| if i == j { sigma - a[i * n + i] } else { -0.5 * (a[i * n + j] + a[j * n + i]) };
        let chol = if n > opts.blocked_cholesky_above {
            let rows: Vec<f64> = (0..n * n).map(|ij| shifted(ij / n, ij % n)).collect();
            blocked_cholesky(rows, n, CHOLESKY_BLOCK)
        } else {
            DMatrix::from_fn(n, n, shifted).cholesky()
        };
        let chol = chol.ok_or_else(|| UdllError::Numeric(format!("eigen: the matrix has an eigenvalue at or above the shift {sigma}")))?;
        match shift_invert_block(&chol, n, k, opts.oversample, opts.tol, opts.max_iters.min(MAX_BLOCK_STEPS), opts.seed) {
            Some(mut p) => {
                // θ = 1/(σ − λ) ⇒ λ = σ − 1/θ; the order (largest first) is kept.
                p.values.iter_mut().for_each(|t| *t = sigma - 1.0 / *t);
                p
            }
            None => full_decomposition(a, n, k, Which::Largest)?,
        }
    };
    fix_signs(&mut out);
    Ok(out)
}

/// Block steps of shift-invert before the full decomposition answers
/// instead. On the spectra it was built for, a step shrinks the error by
/// a factor of 5–10, so this is reached only on a shift far from the
/// wanted eigenvalues.
const MAX_BLOCK_STEPS: usize = 100;

#[cfg(test)]
mod tests;
