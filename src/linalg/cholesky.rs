//! Blocked Cholesky factorisation for the shift-invert eigen solver at
//! large n.
//!
//! nalgebra's `Cholesky` is unblocked: column by column over the whole
//! matrix, which leaves the cache once n passes a few thousand (0.19 s at
//! n = 1440, 5.1 s at 3000, minutes at COIL-100's 7200). Here the matrix is
//! factorised in panels of [`BLOCK`] columns: the panel's diagonal block
//! unblocked, the rows below it by triangular solves (in parallel, one row
//! per task), and the trailing lower triangle updated by GEMM, where nearly
//! all the n³/3 multiply-adds happen.
//!
//! Determinism: every value is computed by one task in a fixed order, and
//! the GEMM keeps the order of its inner sums for any thread count.

use crate::linalg::gemm::dgemm_strided;
use nalgebra::{Cholesky, DMatrix, Dyn};
use rayon::prelude::*;

/// Columns per panel: the trailing update's inner dimension, long enough
/// for the GEMM to run near its peak, while the unblocked and
/// triangular-solve work (about n²·BLOCK) stays a small part of n³/3.
pub const BLOCK: usize = 128;

/// Rows of the trailing update per GEMM call (the lower triangle is
/// updated in row blocks, so about half the square's products are done).
const UPDATE_ROWS: usize = 256;

/// The Cholesky factor of the symmetric positive definite n × n matrix `a`
/// (row-major; only its lower triangle is read, and the buffer becomes the
/// factor's), as nalgebra's [`Cholesky`] for its solves, or None if `a` is
/// not positive definite.
pub fn blocked_cholesky(a: Vec<f64>, n: usize, block: usize) -> Option<Cholesky<f64, Dyn>> {
    assert_eq!(a.len(), n * n, "cholesky: {} entries, expected {n}²", a.len());
    assert!(block > 0, "cholesky: empty block");
    let mut l = a;
    let mut panel = Vec::new();
    for k0 in (0..n).step_by(block) {
        let k1 = (k0 + block).min(n);
        factor_diagonal_block(&mut l, n, k0, k1)?;
        let (top, below) = l.split_at_mut(k1 * n);
        let diag = &top[k0 * n..];
        // Rows below the block: x · L11ᵀ = row, by forward substitution.
        below.par_chunks_mut(n).for_each(|row| {
            for j in k0..k1 {
                let lj = &diag[(j - k0) * n..];
                let s: f64 = (k0..j).map(|p| row[p] * lj[p]).sum();
                row[j] = (row[j] - s) / lj[j];
            }
        });
        if k1 == n {
            break;
        }
        // Trailing update of the lower triangle: A22 −= L21 · L21ᵀ, from a
        // contiguous copy of the panel L21 ((n − k1) × kb).
        let kb = k1 - k0;
        panel.clear();
        panel.extend(below.chunks_exact(n).flat_map(|row| &row[k0..k1]));
        for i0 in (k1..n).step_by(UPDATE_ROWS) {
            let i1 = (i0 + UPDATE_ROWS).min(n);
            // Rows i0..i1, columns k1..i1: the block's part of the lower
            // triangle (and the upper part of its diagonal square, which
            // is never read).
            let rows = &panel[(i0 - k1) * kb..(i1 - k1) * kb];
            let cols = &panel[..(i1 - k1) * kb];
            // below[(i0 − k1)·n + k1 ..] −= rows · colsᵀ (both kb wide).
            dgemm_strided(i1 - i0, kb, i1 - k1, -1.0, rows, kb, 1, cols, 1, kb, 1.0, &mut below[(i0 - k1) * n + k1..], n);
        }
    }
    // nalgebra is column-major: our row-major buffer read that way is Lᵀ,
    // so one in-place transpose gives its L. The strict upper triangle
    // keeps leftovers of the input, which nalgebra's "dirty" factor allows
    // (its solves read the lower triangle only).
    let mut factor = DMatrix::from_vec(n, n, l);
    factor.transpose_mut();
    Some(Cholesky::pack_dirty(factor))
}

/// Rows of the factor per step of [`solve_many`]: the GEMM that brings in
/// the solved rows has this many output rows.
const SOLVE_BLOCK: usize = 128;

/// X ← A⁻¹X for p right-hand sides at once (X is n × p, row-major), with
/// the Cholesky factor A = L·Lᵀ: forward substitution with L, then back
/// substitution with Lᵀ, each in row blocks whose coupling to the solved
/// rows is one GEMM. One vector at a time the solves stream the whole
/// factor per vector (shift-invert Lanczos spent 95 % of its time in them
/// at n = 7200); here it is read twice per block of vectors.
pub fn solve_many(chol: &Cholesky<f64, Dyn>, x: &mut [f64], n: usize, p: usize) {
    assert_eq!(x.len(), n * p, "solve_many: {} entries, expected {n}×{p}", x.len());
    // nalgebra's factor is column-major: L(i, j) = l[j·n + i]. Only the
    // lower triangle is read.
    let l = chol.l_dirty().as_slice();
    for k0 in (0..n).step_by(SOLVE_BLOCK) {
        let k1 = (k0 + SOLVE_BLOCK).min(n);
        let (done, rest) = x.split_at_mut(k0 * p);
        // X[k0..k1] −= L[k0..k1, 0..k0] · X[0..k0].
        dgemm_strided(k1 - k0, k0, p, -1.0, &l[k0..], 1, n, done, p, 1, 1.0, rest, p);
        for i in k0..k1 {
            let (above, row) = rest.split_at_mut((i - k0) * p);
            let row = &mut row[..p];
            for r in k0..i {
                let lir = l[r * n + i];
                row.iter_mut().zip(&above[(r - k0) * p..(r - k0 + 1) * p]).for_each(|(v, u)| *v -= lir * u);
            }
            let d = l[i * n + i];
            row.iter_mut().for_each(|v| *v /= d);
        }
    }
    let blocks: Vec<usize> = (0..n).step_by(SOLVE_BLOCK).collect();
    for &k0 in blocks.iter().rev() {
        let k1 = (k0 + SOLVE_BLOCK).min(n);
        let (head, solved) = x.split_at_mut(k1 * p);
        let block = &mut head[k0 * p..];
        // X[k0..k1] −= L[k1..n, k0..k1]ᵀ · X[k1..n]: Lᵀ(j, i) = l[j·n + i].
        if k1 < n {
            dgemm_strided(k1 - k0, n - k1, p, -1.0, &l[k0 * n + k1..], n, 1, solved, p, 1, 1.0, block, p);
        }
        for i in (k0..k1).rev() {
            let (row, below) = block[(i - k0) * p..].split_at_mut(p);
            for r in i + 1..k1 {
                let lri = l[i * n + r];
                row.iter_mut().zip(&below[(r - i - 1) * p..(r - i) * p]).for_each(|(v, u)| *v -= lri * u);
            }
            let d = l[i * n + i];
            row.iter_mut().for_each(|v| *v /= d);
        }
    }
}

/// Unblocked Cholesky of the diagonal block rows/columns k0..k1 of `l`
/// (row-major, row stride n), already updated by the earlier panels.
fn factor_diagonal_block(l: &mut [f64], n: usize, k0: usize, k1: usize) -> Option<()> {
    for j in k0..k1 {
        let s: f64 = (k0..j).map(|p| l[j * n + p] * l[j * n + p]).sum();
        let d = l[j * n + j] - s;
        // `!(d > 0)` also refuses NaN.
        if !(d > 0.0) {
            return None;
        }
        let ljj = d.sqrt();
        l[j * n + j] = ljj;
        for i in j + 1..k1 {
            let s: f64 = (k0..j).map(|p| l[i * n + p] * l[j * n + p]).sum();
            l[i * n + j] = (l[i * n + j] - s) / ljj;
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// A random symmetric positive definite matrix: B·Bᵀ + n·I.
    fn spd(n: usize, seed: u64) -> Vec<f64> {
        let mut r = Rng::stream(seed, "spd");
        let b: Vec<f64> = (0..n * n).map(|_| r.normal()).collect();
        let mut a = vec![0.0; n * n];
        crate::linalg::dgemm(n, n, n, 1.0, &b, crate::linalg::Trans::No, &b, crate::linalg::Trans::Yes, 0.0, &mut a);
        (0..n).for_each(|i| a[i * n + i] += n as f64);
        a
    }

    /// Several panels, the last one partial: the factor equals nalgebra's
    /// unblocked one, and solving with it inverts the matrix.
    #[test]
    fn matches_the_unblocked_factor() {
        let n = 300;
        let a = spd(n, 3);
        let want = DMatrix::from_row_slice(n, n, &a).cholesky().unwrap().l();
        let got = blocked_cholesky(a.clone(), n, 64).unwrap().l();
        let scale = want.amax();
        assert!((&got - &want).amax() < 1e-12 * scale, "max difference {}", (&got - &want).amax());
        let chol = blocked_cholesky(a.clone(), n, 64).unwrap();
        let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
        let mut ax = vec![0.0; n];
        crate::linalg::dgemm(n, n, 1, 1.0, &a, crate::linalg::Trans::No, &x, crate::linalg::Trans::No, 0.0, &mut ax);
        let mut v = nalgebra::DVector::from_column_slice(&ax);
        chol.solve_mut(&mut v);
        let err = v.iter().zip(&x).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max);
        assert!(err < 1e-10, "solve error {err}");
    }

    /// Many right-hand sides over several row blocks (the last partial):
    /// the same answer as nalgebra's one-vector solves, from both factors.
    #[test]
    fn solves_many_right_hand_sides_at_once() {
        let (n, p) = (300, 7);
        let a = spd(n, 5);
        let mut r = Rng::stream(6, "rhs");
        let b: Vec<f64> = (0..n * p).map(|_| r.normal()).collect();
        for chol in [DMatrix::from_row_slice(n, n, &a).cholesky().unwrap(), blocked_cholesky(a.clone(), n, 64).unwrap()] {
            let mut x = b.clone();
            solve_many(&chol, &mut x, n, p);
            for c in 0..p {
                let mut v = nalgebra::DVector::from_fn(n, |i, _| b[i * p + c]);
                chol.solve_mut(&mut v);
                let err = (0..n).map(|i| (x[i * p + c] - v[i]).abs()).fold(0.0, f64::max);
                assert!(err < 1e-12 * v.amax(), "column {c}: error {err}");
            }
        }
    }

    #[test]
    fn refuses_a_matrix_that_is_not_positive_definite() {
        let n = 150;
        let mut a = spd(n, 4);
        // An eigenvalue pushed below zero late in the matrix, so the
        // failure comes in a later panel's diagonal block.
        a[140 * n + 140] = -1e6;
        assert!(blocked_cholesky(a, n, 64).is_none());
        let mut nan = spd(n, 4);
        nan[5 * n + 5] = f64::NAN;
        assert!(blocked_cholesky(nan, n, 64).is_none());
    }
}
