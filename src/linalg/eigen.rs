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
//! pays for it, and a block iteration ([`crate::linalg::subspace`]) finds
//! them all, repeated ones included.
//!
//! Below `full_below` (3000), or when more than an eighth of the spectrum
//! is asked for, a dense decomposition answers instead: faer's blocked
//! tridiagonalisation and divide and conquer, 6–8 times faster than
//! nalgebra's unblocked one (0.42 s against 3.41 s at n = 1440) and faster
//! than either iterative solver there (BENCHMARKS.md, "Dense eigensolver").

use crate::error::{Result, UdllError};
use crate::linalg::cholesky::{BLOCK as CHOLESKY_BLOCK, blocked_cholesky};
use crate::linalg::gemm::{Trans, dgemm};
use crate::linalg::reduce::dot;
use crate::linalg::subspace::shift_invert_block;
use crate::rng::Rng;
use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd::{ComputeEigenvectors, SelfAdjointEvdParams, self_adjoint_evd, self_adjoint_evd_scratch};
use faer::{Mat, MatRef, Par, Spec};
use nalgebra::DMatrix;
use rayon::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// Largest |λ| (for the SVD of a symmetric matrix).
    Magnitude,
    /// Largest λ (algebraic), e.g. the top of a normalised affinity.
    Largest,
}

#[derive(Clone, Debug)]
pub struct EigenOptions {
    /// Use the full decomposition when n is at most this (it is also used
    /// when k > n / 8, see [`symmetric_top_eigen`]).
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
    pub seed: u64,
    /// Shift-invert factorises with the blocked Cholesky
    /// ([`crate::linalg::cholesky`]) when n is above this, else with
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

/// The k largest eigenpairs of the symmetric n × n row-major matrix `a`,
/// whose eigenvalues must all lie below `sigma`, computed on (σI − A)⁻¹,
/// whose largest eigenvalues 1/(σ − λ) are those of the wanted λ, spread
/// far apart from the rest when σ is close above them. (σI − A) is
/// factorised once (Cholesky); then a block of k + oversample vectors is
/// iterated ([`crate::linalg::subspace`]), each step one solve for the
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

/// An n × n matrix with finite entries, and 1 ≤ k ≤ n pairs asked of it.
fn check_request(a: &[f64], n: usize, k: usize) -> Result<()> {
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

/// Block steps of shift-invert before the full decomposition answers
/// instead. On the spectra it was built for, a step shrinks the error by
/// a factor of 5–10, so this is reached only on a shift far from the
/// wanted eigenvalues.
const MAX_BLOCK_STEPS: usize = 100;

/// How many parts faer splits the dense decomposition into. Its bits
/// depend on this count, not on how many threads run the parts (the same
/// bits with 1, 2 and 4 rayon threads at n = 1440 and 3000), so it is
/// fixed here rather than taken from the pool: results stay identical
/// across `RAYON_NUM_THREADS`. 4 parts ran as fast as 2 on 2 cores.
const DENSE_PARTS: usize = 4;

/// The full symmetric eigen decomposition of ½(A + Aᵀ) (faer's), keeping
/// the k leading pairs: the fallback of the Lanczos solvers, their answer
/// for small n, and the reference in their tests.
pub fn full_decomposition(a: &[f64], n: usize, k: usize, which: Which) -> Result<EigenPairs> {
    // faer reads the lower triangle. The clustering's matrices are
    // symmetric to the bit, and then ½(A + Aᵀ) = A exactly, so only an
    // asymmetric `a` is copied (an n² buffer less: 415 MB at n = 7200).
    let symmetric = (0..n).into_par_iter().all(|i| (0..i).all(|j| a[i * n + j] == a[j * n + i]));
    let copy;
    let sym: &[f64] = if symmetric {
        a
    } else {
        let mut m = vec![0.0; n * n];
        m.par_chunks_mut(n).enumerate().for_each(|(i, row)| {
            for j in 0..=i {
                row[j] = 0.5 * (a[i * n + j] + a[j * n + i]);
            }
        });
        copy = m;
        &copy
    };
    let par = Par::rayon(DENSE_PARTS);
    let params: Spec<SelfAdjointEvdParams, f64> = Default::default();
    let mut s = Diag::<f64>::zeros(n);
    let mut u = Mat::<f64>::zeros(n, n);
    let mut scratch = MemBuffer::new(self_adjoint_evd_scratch::<f64>(n, ComputeEigenvectors::Yes, par, params));
    self_adjoint_evd(MatRef::from_row_major_slice(sym, n, n), s.as_mut(), Some(u.as_mut()), par, MemStack::new(&mut scratch), params)
        .map_err(|e| UdllError::Numeric(format!("eigen: the dense decomposition of a {n} × {n} matrix failed ({e:?})")))?;
    drop(scratch);
    let vals: Vec<f64> = (0..n).map(|i| s[i]).collect();
    let idx = order(&vals, which);
    let values = idx[..k].iter().map(|&i| vals[i]).collect();
    let vectors = columns_in_order(n, &idx[..k], |r, i| u[(r, i)]);
    Ok(EigenPairs { values, vectors, n, k, iterations: 0, converged: true })
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

/// y = A·x, one row per task; each row is one fixed-order dot product.
fn matvec(a: &[f64], n: usize, x: &[f64], y: &mut [f64]) {
    y.par_iter_mut().enumerate().for_each(|(i, yi)| {
        *yi = dot(&a[i * n..(i + 1) * n], x);
    });
}

/// Remove from w its components along the j basis vectors in `basis`
/// (j × n, row-major), twice (classical Gram–Schmidt, "twice is enough").
/// Both passes are memory-bound matrix–vector products, written out so
/// that each output is one fixed-order sum (thread-count independent).
fn reorthogonalise(basis: &[f64], j: usize, n: usize, w: &mut [f64]) {
    if j == 0 {
        return;
    }
    for _ in 0..2 {
        let h: Vec<f64> = basis[..j * n].par_chunks(n).map(|b| dot(b, w)).collect();
        w.par_chunks_mut(256).enumerate().for_each(|(c, wc)| {
            let off = c * 256;
            for (i, hi) in h.iter().enumerate() {
                let row = &basis[i * n + off..i * n + off + wc.len()];
                for (wv, bv) in wc.iter_mut().zip(row) {
                    *wv -= hi * bv;
                }
            }
        });
    }
}

fn norm(v: &[f64]) -> f64 {
    dot(v, v).sqrt()
}

/// Ritz values and vectors (columns) of the tridiagonal T(α, β), with the
/// order of the wanted ones under `which`.
fn tridiagonal_ritz(alpha: &[f64], beta: &[f64], which: Which) -> (Vec<f64>, DMatrix<f64>, Vec<usize>) {
    let m = alpha.len();
    let t = DMatrix::from_fn(m, m, |i, j| {
        if i == j {
            alpha[i]
        } else if i + 1 == j {
            beta[i]
        } else if j + 1 == i {
            beta[j]
        } else {
            0.0
        }
    });
    let eig = t.symmetric_eigen();
    let vals: Vec<f64> = eig.eigenvalues.iter().copied().collect();
    let idx = order(&vals, which);
    (vals, eig.eigenvectors, idx)
}

/// Lanczos, then a search for wanted eigenvalues it missed. From one start
/// vector the Krylov space holds only one direction of a repeated
/// eigenvalue (up to rounding), and repeats are not rare here: an affinity
/// with c exactly disconnected parts has the eigenvalue 1 c times (seen on
/// COIL-20: 4 parts, one copy missed). So the operator, deflated of the
/// pairs found, is probed for a few steps from a fresh start; while its
/// top Ritz value beats the k-th pair found (Ritz values never overshoot
/// the spectrum, so that is proof of a miss), its top pair is converged and
/// takes the k-th's place. At most k rounds.
fn lanczos_complete(apply: &dyn Fn(&[f64], &mut [f64]), n: usize, k: usize, which: Which, opts: &EigenOptions) -> Option<EigenPairs> {
    let size = |v: f64| if which == Which::Magnitude { v.abs() } else { v };
    let mut found = lanczos(apply, n, k, which, opts, "eigen")?;
    for round in 0..k {
        let kth = size(found.values[k - 1]);
        let margin = opts.tol * size(found.values[0]).abs();
        let v = &found.vectors;
        let deflated = |x: &[f64], y: &mut [f64]| {
            let mut xp = x.to_vec();
            project_out(v, k, &mut xp);
            apply(&xp, y);
            project_out(v, k, y);
        };
        let stream = format!("eigen-deflated-{round}");
        let probe_opts = EigenOptions { max_iters: 2 + opts.oversample, ..opts.clone() };
        let probe = lanczos(&deflated, n, 1, which, &probe_opts, &stream)?;
        if size(probe.values[0]) <= kth + margin {
            return Some(found);
        }
        // The same start as the probe: its first steps are redone, then
        // the basis grows until the pair converges.
        let extra = lanczos(&deflated, n, 1, which, opts, &stream)?;
        let mut x = extra.vectors;
        project_out(v, k, &mut x);
        let xn = norm(&x);
        x.iter_mut().for_each(|e| *e /= xn);
        // The new pair replaces the k-th; then restore the order.
        let mut values = found.values.clone();
        values[k - 1] = extra.values[0];
        let idx = order(&values, which);
        let mut vectors = vec![0.0; n * k];
        for (c, &i) in idx.iter().enumerate() {
            for r in 0..n {
                vectors[r * k + c] = if i == k - 1 { x[r] } else { found.vectors[r * k + i] };
            }
        }
        found = EigenPairs {
            values: idx.iter().map(|&i| values[i]).collect(),
            vectors,
            n,
            k,
            iterations: found.iterations + probe.iterations + extra.iterations,
            converged: found.converged && extra.converged,
        };
    }
    Some(found)
}

/// x ← (I − VVᵀ)x for the k orthonormal columns of V (n × k, row-major),
/// in a fixed order.
fn project_out(v: &[f64], k: usize, x: &mut [f64]) {
    let mut c = vec![0.0; k];
    for (row, &xr) in v.chunks_exact(k).zip(x.iter()) {
        c.iter_mut().zip(row).for_each(|(cj, vj)| *cj += vj * xr);
    }
    for (row, xr) in v.chunks_exact(k).zip(x.iter_mut()) {
        *xr -= dot(row, &c);
    }
}

/// Lanczos on the symmetric operator `apply` (y = A·x), its start vector
/// drawn from the seed's `stream`.
fn lanczos(apply: &dyn Fn(&[f64], &mut [f64]), n: usize, k: usize, which: Which, opts: &EigenOptions, stream: &str) -> Option<EigenPairs> {
    let mut rng = Rng::stream(opts.seed, stream);
    let max_m = opts.max_iters.min(n).max(k);
    let give_up_at = (n / 2).max(2 * k + opts.oversample);
    let mut next_check = (2 * k + opts.oversample).min(max_m);
    // basis: row j is q_j.
    let mut basis: Vec<f64> = Vec::with_capacity(next_check * n);
    let mut alpha: Vec<f64> = Vec::new();
    let mut beta: Vec<f64> = Vec::new();
    let mut q: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
    let q_norm = norm(&q);
    q.iter_mut().for_each(|v| *v /= q_norm);
    let mut w = vec![0.0; n];
    loop {
        let j = alpha.len();
        basis.extend_from_slice(&q);
        apply(&q, &mut w);
        let aj = dot(&q, &w);
        alpha.push(aj);
        reorthogonalise(&basis, j + 1, n, &mut w);
        let bj = norm(&w);
        let m = j + 1;
        if m >= next_check || m >= max_m {
            let (vals, vecs, idx) = tridiagonal_ritz(&alpha, &beta, which);
            // Residual bounds β_m·|s_m,i|, against the largest wanted |θ|.
            let scale = idx.iter().take(k).map(|&i| vals[i].abs()).fold(0.0f64, f64::max).max(1e-300);
            let worst = idx.iter().take(k).map(|&i| (bj * vecs[(m - 1, i)]).abs()).fold(0.0f64, f64::max) / scale;
            let converged = worst <= opts.tol || m >= n;
            if converged || m >= max_m {
                // Ritz vectors X = Qᵀ S (n × k).
                let s = columns_in_order(m, &idx[..k], |r, i| vecs[(r, i)]);
                let mut x = vec![0.0; n * k];
                dgemm(n, m, k, 1.0, &basis, Trans::Yes, &s, Trans::No, 0.0, &mut x);
                let values = idx.iter().take(k).map(|&i| vals[i]).collect();
                return Some(EigenPairs { values, vectors: x, n, k, iterations: m, converged });
            }
            if m >= give_up_at {
                return None;
            }
            next_check = (next_check + next_check / 2).min(max_m).min(give_up_at.max(m + 1));
        }
        if bj > 1e-12 * alpha.iter().fold(0.0f64, |s, v| s.max(v.abs())).max(1e-300) {
            beta.push(bj);
            q.iter_mut().zip(&w).for_each(|(qv, wv)| *qv = wv / bj);
        } else {
            // An invariant subspace: continue from a fresh random direction.
            beta.push(0.0);
            let mut r: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
            reorthogonalise(&basis, m, n, &mut r);
            let rn = norm(&r);
            q.iter_mut().zip(&r).for_each(|(qv, rv)| *qv = rv / rn);
        }
    }
}

/// Make each eigenvector's largest-|·| entry positive, so the output does
/// not depend on the arbitrary sign an algorithm lands on.
fn fix_signs(p: &mut EigenPairs) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A random symmetric matrix with a chosen spectrum: Q diag(λ) Qᵀ.
    fn with_spectrum(lams: &[f64], seed: u64) -> Vec<f64> {
        let n = lams.len();
        let mut rng = Rng::stream(seed, "eigen-test");
        let g = DMatrix::from_fn(n, n, |_, _| rng.normal());
        let q = g.qr().q();
        let d = DMatrix::from_diagonal(&nalgebra::DVector::from_column_slice(lams));
        let m = &q * d * q.transpose();
        (0..n * n).map(|i| m[(i / n, i % n)]).collect()
    }

    fn check_against_full(a: &[f64], n: usize, k: usize, which: Which) {
        let opts = EigenOptions { full_below: 0, tol: 1e-10, ..Default::default() };
        let it = symmetric_top_eigen(a, n, k, which, &opts).unwrap();
        assert!(it.converged, "did not converge in {} iterations", it.iterations);
        assert!(it.iterations > 0, "Lanczos gave up and the full decomposition answered");
        let mut full = full_decomposition(a, n, k, which).unwrap();
        fix_signs(&mut full);
        for c in 0..k {
            assert!((it.values[c] - full.values[c]).abs() < 1e-8, "λ{c}: {} vs {}", it.values[c], full.values[c]);
            let dot: f64 = (0..n).map(|r| it.vectors[r * k + c] * full.vectors[r * k + c]).sum();
            assert!((dot.abs() - 1.0).abs() < 1e-6, "vector {c}: |cos| = {}", dot.abs());
        }
    }

    #[test]
    fn lanczos_matches_full_decomposition_by_magnitude() {
        let n = 400;
        let lams: Vec<f64> = (0..n).map(|i| if i % 2 == 0 { 10.0 / (1.0 + i as f64) } else { -9.0 / (1.0 + i as f64) }).collect();
        let a = with_spectrum(&lams, 1);
        check_against_full(&a, n, 12, Which::Magnitude);
    }

    #[test]
    fn lanczos_matches_full_decomposition_largest() {
        let n = 400;
        // A normalised-affinity-like spectrum in [-1, 1] with a cluster near 1.
        let lams: Vec<f64> = (0..n).map(|i| if i < 5 { 1.0 - 0.01 * i as f64 } else { 0.8 - 1.7 * i as f64 / n as f64 }).collect();
        let a = with_spectrum(&lams, 2);
        check_against_full(&a, n, 5, Which::Largest);
    }

    #[test]
    fn falls_back_to_the_full_decomposition_on_a_hard_spectrum() {
        // 40 eigenvalues packed within 1e-9 of each other: Lanczos cannot
        // resolve them in n/2 steps, so the full decomposition answers.
        let n = 300;
        let lams: Vec<f64> = (0..n).map(|i| if i < 40 { 1.0 - 1e-9 * i as f64 } else { 0.5 * (1.0 - i as f64 / n as f64) }).collect();
        let a = with_spectrum(&lams, 3);
        let opts = EigenOptions { full_below: 0, tol: 1e-12, ..Default::default() };
        let got = symmetric_top_eigen(&a, n, 5, Which::Largest, &opts).unwrap();
        assert!(got.converged);
        assert_eq!(got.iterations, 0, "expected the full decomposition to answer");
        for c in 0..5 {
            assert!((got.values[c] - lams[c]).abs() < 1e-8);
        }
    }

    #[test]
    fn shift_invert_matches_full_decomposition_near_the_shift() {
        // The hard case of spectral clustering: 20 eigenvalues within 1e-3
        // of 1, then slow modes from 0.995 down. Plain Lanczos does not
        // resolve this in n/2 steps; shift-invert must, to the full answer.
        let n = 400;
        let k = 20;
        let lams: Vec<f64> = (0..n).map(|i| if i < k { 1.0 - 5e-5 * i as f64 } else { 0.995 - 1.9 * (i - k) as f64 / n as f64 }).collect();
        let a = with_spectrum(&lams, 4);
        let plain = symmetric_top_eigen(&a, n, k, Which::Largest, &EigenOptions { full_below: 0, tol: 1e-10, ..Default::default() }).unwrap();
        assert_eq!(plain.iterations, 0, "plain Lanczos was expected to give up on this spectrum");
        let opts = EigenOptions { full_below: 0, tol: 1e-10, ..Default::default() };
        let got = symmetric_eigen_below_shift(&a, n, k, 1.0 + 1e-3, &opts).unwrap();
        assert!(got.iterations > 0 && got.iterations < 30, "shift-invert took {} block steps", got.iterations);
        let mut full = full_decomposition(&a, n, k, Which::Largest).unwrap();
        fix_signs(&mut full);
        for c in 0..k {
            assert!((got.values[c] - lams[c]).abs() < 1e-10, "λ{c}: {} vs {}", got.values[c], lams[c]);
            let dot: f64 = (0..n).map(|r| got.vectors[r * k + c] * full.vectors[r * k + c]).sum();
            assert!((dot.abs() - 1.0).abs() < 1e-6, "vector {c}: |cos| = {}", dot.abs());
        }
    }

    /// D^{-1/2} W D^{-1/2} of an affinity made of `parts` disconnected
    /// random blocks: the eigenvalue 1 repeats exactly `parts` times.
    fn disconnected_normalised_affinity(parts: usize, size: usize) -> Vec<f64> {
        let n = parts * size;
        let mut rng = Rng::stream(6, "eigen-test");
        let mut w = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..i {
                if i / size == j / size {
                    let v = rng.uniform().powi(8);
                    w[i * n + j] = v;
                    w[j * n + i] = v;
                }
            }
        }
        let d: Vec<f64> = (0..n).map(|i| w[i * n..(i + 1) * n].iter().sum::<f64>().sqrt()).collect();
        (0..n * n).map(|e| w[e] / (d[e / n] * d[e % n])).collect()
    }

    /// ‖Aᵀ B‖_F² for the k orthonormal vectors of each: k exactly when they
    /// span the same subspace, less otherwise.
    fn subspace_overlap(a: &EigenPairs, b: &EigenPairs) -> f64 {
        let (n, k) = (a.n, a.k);
        let mut ab = vec![0.0; k * k];
        dgemm(k, n, k, 1.0, &a.vectors, Trans::Yes, &b.vectors, Trans::No, 0.0, &mut ab);
        ab.iter().map(|v| v * v).sum()
    }

    #[test]
    fn every_copy_of_a_repeated_eigenvalue_is_found() {
        let (parts, n) = (6, 360);
        let a = disconnected_normalised_affinity(parts, n / parts);
        let k = 8;
        let mut full = full_decomposition(&a, n, k, Which::Largest).unwrap();
        fix_signs(&mut full);
        assert!((full.values[parts - 1] - 1.0).abs() < 1e-12 && full.values[parts] < 0.999, "{:?}", full.values);
        let opts = EigenOptions { full_below: 0, tol: 1e-8, ..Default::default() };
        let plain = symmetric_top_eigen(&a, n, k, Which::Largest, &opts).unwrap();
        let shifted = symmetric_eigen_below_shift(&a, n, k, 1.0 + 1e-3, &opts).unwrap();
        for got in [&plain, &shifted] {
            assert!(got.iterations > 0, "the full decomposition answered");
            for c in 0..k {
                assert!((got.values[c] - full.values[c]).abs() < 1e-8, "λ{c}: {:?} vs {:?}", got.values, full.values);
            }
            let overlap = subspace_overlap(&full, got);
            assert!((overlap - k as f64).abs() < 1e-6, "subspace overlap {overlap} of {k}");
        }
    }

    /// The blocked Cholesky path of shift-invert (forced at this small n)
    /// gives the pairs of the full decomposition, as nalgebra's factor does.
    #[test]
    fn shift_invert_with_the_blocked_factor_matches_full_decomposition() {
        let parts = 6;
        let a = disconnected_normalised_affinity(parts, 50);
        let n = parts * 50;
        let k = 8;
        let opts = EigenOptions { full_below: 0, tol: 1e-8, blocked_cholesky_above: 0, ..Default::default() };
        let got = symmetric_eigen_below_shift(&a, n, k, 1.0 + 1e-3, &opts).unwrap();
        let want = full_decomposition(&a, n, k, Which::Largest).unwrap();
        for (g, w) in got.values.iter().zip(&want.values) {
            assert!((g - w).abs() < 1e-8, "{g} vs {w}");
        }
        let f2 = subspace_overlap(&want, &got);
        assert!((f2 - k as f64).abs() < 1e-8, "subspace overlap {f2} of {k}");
    }

    #[test]
    fn shift_invert_refuses_a_shift_inside_the_spectrum() {
        let n = 300;
        let lams: Vec<f64> = (0..n).map(|i| 1.0 - i as f64 / n as f64).collect();
        let a = with_spectrum(&lams, 5);
        let opts = EigenOptions { full_below: 0, ..Default::default() };
        assert!(symmetric_eigen_below_shift(&a, n, 3, 0.5, &opts).is_err());
        assert!(symmetric_eigen_below_shift(&a, n, 3, 1.01, &opts).is_ok());
    }

    /// The dense decomposition against the spectrum the matrix was built
    /// with (a repeated eigenvalue and both signs among the wanted ones),
    /// against nalgebra's independent solver, and by its residuals.
    #[test]
    fn dense_decomposition_recovers_a_known_spectrum() {
        let n = 300;
        let lams: Vec<f64> = (0..n)
            .map(|i| match i {
                0 | 1 => 2.0,
                2 => -1.9,
                _ => 1.5 * (1.0 - i as f64 / n as f64) * if i % 2 == 0 { 1.0 } else { -1.0 },
            })
            .collect();
        let a = with_spectrum(&lams, 7);
        let k = 20;
        let got = full_decomposition(&a, n, k, Which::Magnitude).unwrap();
        let mut want: Vec<f64> = lams.clone();
        want.sort_by(|x, y| y.abs().total_cmp(&x.abs()));
        let mut other: Vec<f64> = DMatrix::from_row_slice(n, n, &a).symmetric_eigen().eigenvalues.iter().copied().collect();
        other.sort_by(|x, y| y.abs().total_cmp(&x.abs()));
        for c in 0..k {
            assert!((got.values[c] - want[c]).abs() < 1e-10, "λ{c}: {} vs {}", got.values[c], want[c]);
            assert!((got.values[c] - other[c]).abs() < 1e-10, "λ{c}: {} vs nalgebra's {}", got.values[c], other[c]);
            let v: Vec<f64> = (0..n).map(|r| got.vectors[r * k + c]).collect();
            let mut av = vec![0.0; n];
            matvec(&a, n, &v, &mut av);
            let residual = av.iter().zip(&v).map(|(x, y)| (x - got.values[c] * y).powi(2)).sum::<f64>().sqrt();
            assert!(residual < 1e-10 && (norm(&v) - 1.0).abs() < 1e-12, "pair {c}: residual {residual}, norm {}", norm(&v));
        }
        assert!((subspace_overlap(&got, &got) - k as f64).abs() < 1e-10, "the vectors are not orthonormal");
    }

    /// Many pairs of a large matrix: Lanczos is not tried (k > n/8).
    #[test]
    fn a_large_share_of_the_spectrum_goes_to_the_dense_solver() {
        let n = 320;
        let lams: Vec<f64> = (0..n).map(|i| 1.0 / (1.0 + i as f64)).collect();
        let a = with_spectrum(&lams, 8);
        let opts = EigenOptions { full_below: 0, ..Default::default() };
        assert_eq!(symmetric_top_eigen(&a, n, n / 8 + 1, Which::Magnitude, &opts).unwrap().iterations, 0);
        assert!(symmetric_top_eigen(&a, n, n / 8, Which::Magnitude, &opts).unwrap().iterations > 0);
    }

    #[test]
    fn rejects_bad_requests() {
        let a = vec![1.0; 9];
        assert!(symmetric_top_eigen(&a, 3, 4, Which::Largest, &EigenOptions::default()).is_err());
        assert!(symmetric_top_eigen(&a, 4, 1, Which::Largest, &EigenOptions::default()).is_err());
        let mut b = vec![0.0; 4];
        b[1] = f64::NAN;
        assert!(symmetric_top_eigen(&b, 2, 1, Which::Largest, &EigenOptions::default()).is_err());
    }
}
