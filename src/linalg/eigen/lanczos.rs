//! Lanczos with full re-orthogonalisation (the method behind ARPACK's
//! `eigsh` / `svds`, which the reference code calls), for a few eigenpairs
//! of a large symmetric matrix.

use super::types::{EigenOptions, EigenPairs, Which, columns_in_order, order};
use crate::linalg::gemm::{Trans, dgemm};
use crate::linalg::reduce::dot;
use crate::rng::Rng;
use nalgebra::DMatrix;
use rayon::prelude::*;

/// y = A·x, one row per task; each row is one fixed-order dot product.
pub(crate) fn matvec(a: &[f64], n: usize, x: &[f64], y: &mut [f64]) {
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

pub(crate) fn norm(v: &[f64]) -> f64 {
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
pub(crate) fn lanczos_complete(apply: &dyn Fn(&[f64], &mut [f64]), n: usize, k: usize, which: Which, opts: &EigenOptions) -> Option<EigenPairs> {
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
