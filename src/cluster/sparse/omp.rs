//! SSC-OMP: sparse subspace clustering by orthogonal matching pursuit
//! (You, Robinson, Vidal, CVPR 2016). Each sample x_i is coded greedily
//! by the others:
//!
//!   min_c ‖x_i − Σ_j c_j x_j‖²  s.t. ‖c‖₀ ≤ k, c_i = 0:
//!
//! the sample most correlated with the residual joins the support, c is
//! the least-squares fit on the support, the residual is updated; until k
//! samples are chosen or ‖r‖ ≤ tol·‖x_i‖.
//!
//! The correlations X·r of a block of samples are one f32 GEMM per step;
//! the leaders among them are compared again in f64 before one is
//! chosen, and the least squares are solved in f64 (Cholesky of the
//! support's Gram matrix), so each sample's bits depend on its own data
//! only.

use super::samples::{Samples, Targets, blocks, top_k};
use super::{OmpParams, SparseCode};
use crate::linalg::sparse::Csr;
use crate::progress::{Observer, Progress};
use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

/// f32 leaders compared again in f64 before a sample is chosen.
const LEADERS: usize = 8;

struct Pursuit {
    target: Vec<f64>,
    exclude: Option<usize>,
    supp: Vec<usize>,
    c: Vec<f64>,
    residual: Vec<f64>,
    /// tol·‖x_i‖.
    stop_below: f64,
    done: bool,
}

impl Pursuit {
    fn start(x: &Samples, target: Vec<f64>, exclude: Option<usize>, tol: f64) -> Pursuit {
        let norm = target.iter().map(|v| v * v).sum::<f64>().sqrt();
        let done = norm == 0.0 || x.usable(exclude) == 0;
        Pursuit { residual: target.clone(), target, exclude, supp: Vec::new(), c: Vec::new(), stop_below: tol * norm, done }
    }

    /// Add the sample whose correlation with the residual is largest
    /// (f32 correlations `coh`, leaders checked in f64) and refit.
    fn step(&mut self, x: &Samples, coh: &[f32], k: usize) {
        let free = |j: &usize| Some(*j) != self.exclude && !self.supp.contains(j);
        let leaders = top_k((0..x.n).filter(free), LEADERS, |j| coh[j].abs() as f64);
        let best = top_k(leaders.into_iter(), 1, |j| x.dot(j, &self.residual).abs());
        let Some(&j) = best.first() else {
            self.done = true;
            return;
        };
        self.supp.push(j);
        let s = self.supp.len();
        let g = x.gram(&self.supp);
        let xi = &self.target;
        let b = DVector::from_iterator(s, self.supp.iter().map(|&j| x.dot(j, xi)));
        // A sample in the span of the support makes the Gram singular:
        // drop it and stop with the fit as it was.
        let Some(chol) = DMatrix::from_row_slice(s, s, &g).cholesky() else {
            self.supp.pop();
            self.done = true;
            return;
        };
        self.c = chol.solve(&b).iter().copied().collect();
        self.residual = x.residual(xi, &self.supp, &self.c);
        let rn = self.residual.iter().map(|v| v * v).sum::<f64>().sqrt();
        self.done = rn <= self.stop_below || s >= k || s >= x.usable(self.exclude);
    }
}

/// The SSC-OMP codes of `targets` by the samples `x` (n × d): m × n CSR,
/// at most `p.nonzeros` entries per row (a zero diagonal in a
/// self-expression).
pub(crate) fn omp(x: &Samples, targets: Targets, p: &OmpParams, observer: &dyn Observer) -> SparseCode {
    let (n, m) = (x.n, targets.count(x));
    let progress = Progress::new("SSC-OMP", m, observer);
    let mut rows: Vec<Vec<(usize, f64)>> = Vec::with_capacity(m);
    for range in blocks(m) {
        let mut codes: Vec<Pursuit> = range.clone().map(|i| Pursuit::start(x, targets.point(x, i), targets.exclude(i), p.tol)).collect();
        for _ in 0..p.nonzeros {
            let mut open: Vec<&mut Pursuit> = codes.iter_mut().filter(|c| !c.done).collect();
            if open.is_empty() {
                break;
            }
            let res: Vec<f32> = open.iter().flat_map(|c| c.residual.iter().map(|&v| v as f32)).collect();
            let coh = x.correlate(&res, open.len());
            open.par_iter_mut().enumerate().for_each(|(r, c)| c.step(x, &coh[r * n..(r + 1) * n], p.nonzeros));
        }
        rows.extend(codes.into_iter().map(|c| c.supp.into_iter().zip(c.c).collect()));
        progress.update(range.end, "samples coded");
    }
    SparseCode { coef: Csr::from_rows(n, rows), unfinished: 0 }
}
