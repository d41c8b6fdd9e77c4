//! The full symmetric eigen decomposition (faer's blocked
//! tridiagonalisation and divide and conquer): the answer for small n and
//! for requests of more than an eighth of the spectrum, the iterative
//! solvers' fallback, and the reference in their tests.

use super::types::{EigenPairs, Which, columns_in_order, order};
use crate::error::{Result, UdllError};
use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd::{ComputeEigenvectors, SelfAdjointEvdParams, self_adjoint_evd, self_adjoint_evd_scratch};
use faer::{Mat, MatRef, Par, Spec};
use rayon::prelude::*;

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
