//! A few eigenpairs of a dense symmetric matrix without a full O(n³)
//! decomposition: block subspace iteration with Rayleigh–Ritz.
//!
//! Used twice: the rank-r SVD of the symmetrised coefficient matrix (for a
//! symmetric C the singular triplets are the eigenpairs of largest |λ|, with
//! σ = |λ| and U = the eigenvectors) and the leading eigenvectors of the
//! normalised affinity D^{-1/2} L D^{-1/2} in spectral clustering.
//!
//! Each iteration is one n × n × b GEMM (through the crate wrapper), a
//! Cholesky-QR2 re-orthonormalisation (two b × b Choleskys and two GEMMs),
//! and a b × b symmetric eigen problem (nalgebra). Small matrices go to
//! nalgebra's full decomposition, which is also the reference in the tests.

use crate::error::{Result, UdllError};
use crate::linalg::gemm::{Trans, dgemm};
use crate::rng::Rng;
use nalgebra::DMatrix;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// Largest |λ| (for the SVD of a symmetric matrix).
    Magnitude,
    /// Largest λ (algebraic), e.g. the top of a normalised affinity.
    Largest,
}

#[derive(Clone, Debug)]
pub struct EigenOptions {
    /// Use the full decomposition when n is at most this.
    pub full_below: usize,
    /// Extra block columns beyond k (more converge faster).
    pub oversample: usize,
    pub max_iters: usize,
    /// Converged when every wanted residual ‖Ax − λx‖ ≤ tol · |λ_max|.
    pub tol: f64,
    pub seed: u64,
}

impl Default for EigenOptions {
    fn default() -> Self {
        EigenOptions { full_below: 256, oversample: 16, max_iters: 500, tol: 1e-6, seed: 0 }
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
pub fn symmetric_top_eigen(
    a: &[f64],
    n: usize,
    k: usize,
    which: Which,
    opts: &EigenOptions,
) -> Result<EigenPairs> {
    if a.len() != n * n {
        return Err(UdllError::shape(format!("eigen: matrix has {} entries, expected {n}²", a.len())));
    }
    if k == 0 || k > n {
        return Err(UdllError::config(format!("eigen: asked for {k} eigenpairs of a {n} × {n} matrix")));
    }
    if a.iter().any(|v| !v.is_finite()) {
        return Err(UdllError::NonFinite("eigen: the matrix has NaN or infinite entries".into()));
    }
    let mut out = if n <= opts.full_below || k + opts.oversample >= n {
        full_decomposition(a, n, k, which)
    } else {
        subspace_iteration(a, n, k, which, opts)?
    };
    fix_signs(&mut out);
    Ok(out)
}

fn order(values: &[f64], which: Which) -> Vec<usize> {
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

/// The reference: nalgebra's full symmetric eigen decomposition.
pub fn full_decomposition(a: &[f64], n: usize, k: usize, which: Which) -> EigenPairs {
    let m = DMatrix::from_row_slice(n, n, a);
    let m = (&m + m.transpose()) * 0.5;
    let eig = m.symmetric_eigen();
    let vals: Vec<f64> = eig.eigenvalues.iter().copied().collect();
    let idx = order(&vals, which);
    let mut vectors = vec![0.0; n * k];
    let mut values = Vec::with_capacity(k);
    for (c, &i) in idx.iter().take(k).enumerate() {
        values.push(vals[i]);
        for r in 0..n {
            vectors[r * k + c] = eig.eigenvectors[(r, i)];
        }
    }
    EigenPairs { values, vectors, n, k, iterations: 0, converged: true }
}

/// Orthonormalise the columns of the n × b row-major `y` in place
/// (Cholesky-QR, twice for stability). Returns false if the block is
/// numerically rank-deficient.
fn cholesky_qr2(y: &mut Vec<f64>, n: usize, b: usize) -> bool {
    for _ in 0..2 {
        let mut g = vec![0.0; b * b];
        dgemm(b, n, b, 1.0, y, Trans::Yes, y, Trans::No, 0.0, &mut g);
        let gm = DMatrix::from_row_slice(b, b, &g);
        let Some(chol) = gm.cholesky() else { return false };
        let l = chol.l();
        let Some(linv) = l.try_inverse() else { return false };
        // Q = Y L^{-T}: rows of Y times (L^{-1})^T.
        let linv_rows: Vec<f64> = (0..b).flat_map(|i| (0..b).map(move |j| (i, j))).map(|(i, j)| linv[(i, j)]).collect();
        let mut q = vec![0.0; n * b];
        dgemm(n, b, b, 1.0, y, Trans::No, &linv_rows, Trans::Yes, 0.0, &mut q);
        *y = q;
    }
    true
}

/// Householder fallback for a rank-deficient block: orthonormal columns,
/// with any null direction replaced by a fresh random one.
fn householder_orth(y: &mut Vec<f64>, n: usize, b: usize, rng: &mut Rng) {
    let mut m = DMatrix::from_row_slice(n, b, y);
    for c in 0..b {
        if m.column(c).norm() < 1e-300 {
            for r in 0..n {
                m[(r, c)] = rng.normal();
            }
        }
    }
    let q = m.qr().q();
    for r in 0..n {
        for c in 0..b {
            y[r * b + c] = q[(r, c)];
        }
    }
}

fn subspace_iteration(a: &[f64], n: usize, k: usize, which: Which, opts: &EigenOptions) -> Result<EigenPairs> {
    let b = (k + opts.oversample).min(n);
    // Shift so that the largest algebraic eigenvalues dominate in magnitude.
    let shift = match which {
        Which::Magnitude => 0.0,
        Which::Largest => (0..n)
            .map(|r| a[r * n..(r + 1) * n].iter().map(|v| v.abs()).sum::<f64>())
            .fold(0.0, f64::max),
    };
    let mut rng = Rng::stream(opts.seed, "eigen");
    let mut q: Vec<f64> = (0..n * b).map(|_| rng.normal()).collect();
    if !cholesky_qr2(&mut q, n, b) {
        householder_orth(&mut q, n, b, &mut rng);
    }
    let mut y = vec![0.0; n * b];
    let mut best: Option<EigenPairs> = None;
    for it in 1..=opts.max_iters {
        // Y = (A + shift·I) Q
        dgemm(n, n, b, 1.0, a, Trans::No, &q, Trans::No, 0.0, &mut y);
        if shift != 0.0 {
            for (yv, qv) in y.iter_mut().zip(&q) {
                *yv += shift * qv;
            }
        }
        // Rayleigh–Ritz: B = Qᵀ Y
        let mut bm = vec![0.0; b * b];
        dgemm(b, n, b, 1.0, &q, Trans::Yes, &y, Trans::No, 0.0, &mut bm);
        let bmat = DMatrix::from_row_slice(b, b, &bm);
        let bmat = (&bmat + bmat.transpose()) * 0.5;
        let eig = bmat.symmetric_eigen();
        let theta: Vec<f64> = eig.eigenvalues.iter().copied().collect();
        let idx = order(&theta, Which::Magnitude);
        let mut u = vec![0.0; b * k];
        for (c, &i) in idx.iter().take(k).enumerate() {
            for r in 0..b {
                u[r * k + c] = eig.eigenvectors[(r, i)];
            }
        }
        let mut x = vec![0.0; n * k];
        dgemm(n, b, k, 1.0, &q, Trans::No, &u, Trans::No, 0.0, &mut x);
        let mut ax = vec![0.0; n * k];
        dgemm(n, b, k, 1.0, &y, Trans::No, &u, Trans::No, 0.0, &mut ax);
        let lam: Vec<f64> = idx.iter().take(k).map(|&i| theta[i]).collect();
        let scale = lam.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-300);
        let mut worst = 0.0f64;
        for c in 0..k {
            let mut r2 = 0.0;
            for r in 0..n {
                let d = ax[r * k + c] - lam[c] * x[r * k + c];
                r2 += d * d;
            }
            worst = worst.max(r2.sqrt() / scale);
        }
        let converged = worst <= opts.tol;
        let values: Vec<f64> = lam.iter().map(|v| v - shift).collect();
        best = Some(EigenPairs { values, vectors: x, n, k, iterations: it, converged });
        if converged {
            break;
        }
        std::mem::swap(&mut q, &mut y);
        if !cholesky_qr2(&mut q, n, b) {
            householder_orth(&mut q, n, b, &mut rng);
        }
    }
    best.ok_or_else(|| UdllError::Numeric("eigen: no iteration ran".into()))
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
        let opts = EigenOptions { full_below: 0, tol: 1e-10, max_iters: 2000, ..Default::default() };
        let it = symmetric_top_eigen(a, n, k, which, &opts).unwrap();
        assert!(it.converged, "did not converge in {} iterations", it.iterations);
        let mut full = full_decomposition(a, n, k, which);
        fix_signs(&mut full);
        for c in 0..k {
            assert!((it.values[c] - full.values[c]).abs() < 1e-8, "λ{c}: {} vs {}", it.values[c], full.values[c]);
            let dot: f64 = (0..n).map(|r| it.vectors[r * k + c] * full.vectors[r * k + c]).sum();
            assert!((dot.abs() - 1.0).abs() < 1e-6, "vector {c}: |cos| = {}", dot.abs());
        }
    }

    #[test]
    fn subspace_iteration_matches_full_decomposition_by_magnitude() {
        let n = 120;
        let lams: Vec<f64> = (0..n).map(|i| if i % 2 == 0 { 10.0 / (1.0 + i as f64) } else { -9.0 / (1.0 + i as f64) }).collect();
        let a = with_spectrum(&lams, 1);
        check_against_full(&a, n, 12, Which::Magnitude);
    }

    #[test]
    fn subspace_iteration_matches_full_decomposition_largest() {
        let n = 150;
        // A normalised-affinity-like spectrum in [-1, 1] with a cluster near 1.
        let lams: Vec<f64> = (0..n).map(|i| if i < 5 { 1.0 - 0.01 * i as f64 } else { 0.8 - 1.7 * i as f64 / n as f64 }).collect();
        let a = with_spectrum(&lams, 2);
        check_against_full(&a, n, 5, Which::Largest);
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
