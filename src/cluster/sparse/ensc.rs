//! EnSC: elastic-net subspace clustering's self-expression (You, Li,
//! Robinson, Vidal, "Oracle based active set algorithm for scalable
//! elastic net subspace clustering", CVPR 2016). Each sample x_i (a row of
//! X) is coded by the others:
//!
//!   min_c  τ‖c‖₁ + (1−τ)/2 ‖c‖² + γ_i/2 ‖x_i − Σ_j c_j x_j‖²,  c_i = 0,
//!
//! with γ_i = γ · τ / max_{j≠i} |x_jᵀx_i|: γ is relative to the γ at which
//! the code first becomes nonzero (the reference's `gamma_nz`), so γ > 1.
//!
//! The oracle-guided active set: the problem is solved on a small support
//! T (first the samples most correlated with x_i); the oracle point
//! δ = γ_i (x_i − X_T c_T) then certifies the solution for all n samples,
//! since c (zero off T) is optimal iff |x_jᵀδ| ≤ τ for every j ∉ T. The
//! samples that violate it join T (the nonzeros stay, the support grows
//! when they fill it) and the subproblem is solved again, until none does,
//! the objective stops falling, or `max_rounds` have passed.
//!
//! The subproblem is solved exactly on T's Gram matrix by the
//! feature-sign search (coordinate descent where its systems are
//! singular). The
//! oracle's correlations X·δ of a block of samples are one f32 GEMM per
//! round; each candidate it proposes is checked again in f64. Each
//! sample's arithmetic depends only on its own data, so the bits do not
//! depend on the number of threads or on the block a sample falls in.

use super::samples::{Samples, Targets, blocks, top_k, top_k_scored};
use super::{EnscParams, SparseCode};
use crate::linalg::sparse::Csr;
use crate::progress::{Observer, Progress};
use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

/// Coordinate-descent sweeps of one subproblem before it is returned as
/// it stands.
const MAX_SWEEPS: usize = 20_000;
/// A sweep whose largest change is below this (relative to the largest
/// |c|) ends coordinate descent.
const CD_TOL: f64 = 1e-10;
/// The f32 correlations propose a candidate when within this relative
/// margin of τ; the f64 check decides.
const F32_MARGIN: f64 = 1e-3;
/// A candidate violates the optimality conditions when |x_jᵀδ| > τ(1 + this).
const KKT_SLACK: f64 = 1e-10;

/// The soft threshold S_t(z) = sign(z)·max(|z| − t, 0).
fn soft(z: f64, t: f64) -> f64 {
    if z > t {
        z - t
    } else if z < -t {
        z + t
    } else {
        0.0
    }
}

/// The elastic net on a Gram matrix: min τ‖c‖₁ + (1−τ)/2‖c‖² +
/// γ/2 (cᵀGc − 2bᵀc), from the start `c` (updated in place): the
/// feature-sign search ([`feature_sign`]), or coordinate descent
/// ([`coordinate_descent`]) where that cannot factorise its systems (τ = 1
/// with duplicate samples).
pub(crate) fn elastic_net_gram(g: &[f64], b: &[f64], gamma: f64, tau: f64, c: &mut [f64]) {
    let start = c.to_vec();
    if !feature_sign(g, b, gamma, tau, c) {
        c.copy_from_slice(&start);
        coordinate_descent(g, b, gamma, tau, c);
    }
}

/// The minimiser of f on the orthant of sign pattern θ over `active`:
/// the solution of (γ G_AA + (1−τ)I) c_A = γ b_A − τ θ_A (the zero
/// coordinates left out), None when that system is not positive definite.
fn sign_pattern_solve(g: &[f64], b: &[f64], gamma: f64, tau: f64, active: &[usize], theta: &[f64]) -> Option<DVector<f64>> {
    let (s, a) = (b.len(), active.len());
    let m = DMatrix::from_fn(a, a, |p, r| gamma * g[active[p] * s + active[r]] + if p == r { 1.0 - tau } else { 0.0 });
    let rhs = DVector::from_fn(a, |p, _| gamma * b[active[p]] - tau * theta[p]);
    Some(m.cholesky()?.solve(&rhs))
}

/// Steps of the feature-sign search before it gives up (each one adds a
/// coordinate or strictly lowers the objective).
const MAX_SIGN_STEPS: usize = 2000;

/// The feature-sign search (Lee, Battle, Raina, Ng, NIPS 2007), for
/// f(c) = τ‖c‖₁ + ½cᵀHc − γbᵀc with H = γG + (1−τ)I. On a guessed sign
/// pattern θ over an active set A, f is a quadratic whose minimiser
/// solves H_AA ĉ = γb_A − τθ_A (one Cholesky); the step goes from c
/// towards ĉ, to whichever of ĉ and the points where a coefficient
/// crosses zero (that coefficient then set to 0) has the lowest f. When
/// c is optimal on A, the zero coordinate with the largest gradient
/// |(Hc − γb)_j| > τ joins A with the sign that lowers f. f falls at every
/// step and the patterns are finite, so it ends, exactly optimal up to
/// rounding. Coordinate descent, which it replaced, crawled on nearly
/// collinear samples (thousands of sweeps for 7 nonzeros on 3000
/// synthetic poses). False when a system is not positive definite.
pub(crate) fn feature_sign(g: &[f64], b: &[f64], gamma: f64, tau: f64, c: &mut [f64]) -> bool {
    let s = b.len();
    let h = |i: usize, j: usize| gamma * g[i * s + j] + if i == j { 1.0 - tau } else { 0.0 };
    let lin: Vec<f64> = b.iter().map(|v| gamma * v).collect();
    let objective = |c: &[f64]| -> f64 {
        let nz: Vec<usize> = (0..s).filter(|&j| c[j] != 0.0).collect();
        let quad: f64 = nz.iter().map(|&i| c[i] * nz.iter().map(|&j| h(i, j) * c[j]).sum::<f64>()).sum();
        nz.iter().map(|&j| tau * c[j].abs() - lin[j] * c[j]).sum::<f64>() + 0.5 * quad
    };
    let gradient = |c: &[f64], j: usize| -> f64 { (0..s).filter(|&k| c[k] != 0.0).map(|k| h(j, k) * c[k]).sum::<f64>() - lin[j] };
    // The active set and its signs; `settled`: c is optimal on it.
    let mut active: Vec<usize> = (0..s).filter(|&j| c[j] != 0.0).collect();
    let mut theta: Vec<f64> = active.iter().map(|&j| c[j].signum()).collect();
    let mut settled = false;
    for _ in 0..MAX_SIGN_STEPS {
        if settled {
            let Some((j, gj)) = (0..s).filter(|&j| c[j] == 0.0).map(|j| (j, gradient(c, j))).max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()).then(b.0.cmp(&a.0)))
            else {
                return true;
            };
            if gj.abs() <= tau * (1.0 + KKT_SLACK) {
                return true;
            }
            active.push(j);
            theta.push(-gj.signum());
        }
        let Some(target) = sign_pattern_solve(g, b, gamma, tau, &active, &theta) else { return false };
        let mut full = c.to_vec();
        active.iter().zip(target.iter()).for_each(|(&j, &v)| full[j] = v);
        if active.iter().zip(&theta).all(|(&j, &t)| full[j] != 0.0 && full[j].signum() == t) {
            // The target keeps the pattern: it minimises f on the whole
            // orthant, so it is optimal on A.
            c.copy_from_slice(&full);
            settled = true;
        } else {
            // Else the best of the target and each zero crossing on the
            // way (that coefficient set to 0), by the true f.
            let mut best: Option<(f64, Vec<f64>)> = None;
            let mut consider = |point: Vec<f64>| {
                let f = objective(&point);
                if best.as_ref().is_none_or(|b| f < b.0) {
                    best = Some((f, point));
                }
            };
            consider(full.clone());
            for (&j, &t) in active.iter().zip(&theta) {
                let (from, to) = (c[j], full[j]);
                if from != 0.0 && (to == 0.0 || to.signum() != t) {
                    let step = from / (from - to);
                    let mut point = c.to_vec();
                    active.iter().for_each(|&k| point[k] = c[k] + step * (full[k] - c[k]));
                    point[j] = 0.0;
                    consider(point);
                }
            }
            let (f, point) = best.expect("the target was considered");
            if f >= objective(c) {
                // No candidate lowers f, which only rounding can cause:
                // leave it to coordinate descent.
                return false;
            }
            c.copy_from_slice(&point);
            settled = false;
        }
        active = (0..s).filter(|&j| c[j] != 0.0).collect();
        theta = active.iter().map(|&j| c[j].signum()).collect();
    }
    true
}

/// Coordinate descent on the same problem until a sweep changes no
/// coefficient by more than CD_TOL of the largest, then the exact solve of (γ G_AA + (1−τ)I) c_A =
/// γ b_A − τ sign(c_A) on the nonzeros A, kept when it keeps their signs
/// and leaves every zero coordinate optimal.
pub(crate) fn coordinate_descent(g: &[f64], b: &[f64], gamma: f64, tau: f64, c: &mut [f64]) {
    let s = b.len();
    let mut q = vec![0.0; s]; // q = G·c
    for (j, &cj) in c.iter().enumerate() {
        if cj != 0.0 {
            q.iter_mut().zip(&g[j * s..(j + 1) * s]).for_each(|(qk, gk)| *qk += cj * gk);
        }
    }
    for sweep in 0..MAX_SWEEPS {
        let mut biggest = 0.0f64;
        let mut size = 0.0f64;
        for j in 0..s {
            let gjj = g[j * s + j];
            let denom = gamma * gjj + (1.0 - tau);
            let new = if denom > 0.0 { soft(gamma * (b[j] - q[j] + gjj * c[j]), tau) / denom } else { 0.0 };
            let change = new - c[j];
            if change != 0.0 {
                q.iter_mut().zip(&g[j * s..(j + 1) * s]).for_each(|(qk, gk)| *qk += change * gk);
                c[j] = new;
            }
            biggest = biggest.max(change.abs());
            size = size.max(new.abs());
        }
        let settled = biggest <= CD_TOL * size.max(f64::MIN_POSITIVE);
        // The exact finish once the support has settled: first after a
        // few sweeps, then every 50 while descent still crawls (trying it
        // after sweeps 2, 4, 8, … instead cost 30 % more on MNIST: early
        // sign patterns are mostly wrong).
        if (settled || (sweep >= 10 && sweep % 50 == 10)) && polish(g, b, gamma, tau, c) {
            return;
        }
        if settled {
            return;
        }
    }
}

/// The exact solve on the sign pattern of `c` (see [`elastic_net_gram`]);
/// true, with `c` replaced, when the result is optimal.
fn polish(g: &[f64], b: &[f64], gamma: f64, tau: f64, c: &mut [f64]) -> bool {
    let s = b.len();
    let active: Vec<usize> = (0..s).filter(|&j| c[j] != 0.0).collect();
    if active.is_empty() {
        // c = 0 is optimal iff γ|b_j| ≤ τ for every j.
        return b.iter().all(|&bj| gamma * bj.abs() <= tau * (1.0 + KKT_SLACK));
    }
    let theta: Vec<f64> = active.iter().map(|&j| c[j].signum()).collect();
    let Some(sol) = sign_pattern_solve(g, b, gamma, tau, &active, &theta) else { return false };
    if active.iter().zip(sol.iter()).any(|(&j, &v)| v == 0.0 || v.signum() != c[j].signum()) {
        return false;
    }
    let mut full = vec![0.0; s];
    active.iter().zip(sol.iter()).for_each(|(&j, &v)| full[j] = v);
    for j in (0..s).filter(|&j| full[j] == 0.0) {
        let gc: f64 = active.iter().map(|&k| g[j * s + k] * full[k]).sum();
        if gamma * (b[j] - gc).abs() > tau * (1.0 + KKT_SLACK) {
            return false;
        }
    }
    c.copy_from_slice(&full);
    true
}

/// One point's solve in progress.
struct Coding {
    /// The point coded (f64), and the sample it may not use.
    target: Vec<f64>,
    exclude: Option<usize>,
    /// γ_i (0: x_i is orthogonal to every other sample, its code is 0).
    gamma: f64,
    /// The working support T and the coefficients on it.
    supp: Vec<usize>,
    c: Vec<f64>,
    /// How many samples the support may hold.
    size: usize,
    /// The oracle point δ = γ_i (x_i − X_T c_T).
    delta: Vec<f64>,
    objective: f64,
    done: bool,
}

impl Coding {
    /// Start from the correlations of the point with every sample
    /// (`corr`, f32).
    fn start(x: &Samples, target: Vec<f64>, exclude: Option<usize>, corr: &[f32], p: &EnscParams) -> Coding {
        let n = x.n;
        let usable = x.usable(exclude);
        let others = || (0..n).filter(move |&j| Some(j) != exclude);
        // The first support: the samples most correlated with x_i (f32).
        // The largest |x_jᵀx_i|, checked in f64 among its 8 leaders.
        let size = p.support.min(usable);
        let supp = top_k(others(), size.max(8.min(usable)), |j| corr[j].abs() as f64);
        let max_coh = supp.iter().take(8).map(|&j| x.dot(j, &target).abs()).fold(0.0f64, f64::max);
        if max_coh == 0.0 {
            return Coding { target, exclude, gamma: 0.0, supp: Vec::new(), c: Vec::new(), size, delta: Vec::new(), objective: 0.0, done: true };
        }
        let supp = supp[..size].to_vec();
        let c = vec![0.0; supp.len()];
        Coding { target, exclude, gamma: p.gamma * p.tau / max_coh, supp, c, size, delta: Vec::new(), objective: f64::INFINITY, done: false }
    }

    /// Solve on the support; false when the objective stopped falling
    /// (then the solve is final).
    fn solve(&mut self, x: &Samples, tau: f64) -> bool {
        let xi = &self.target;
        let g = x.gram(&self.supp);
        let b: Vec<f64> = self.supp.iter().map(|&j| x.dot(j, xi)).collect();
        elastic_net_gram(&g, &b, self.gamma, tau, &mut self.c);
        let r = x.residual(xi, &self.supp, &self.c);
        let l1: f64 = self.c.iter().map(|v| v.abs()).sum();
        let l2: f64 = self.c.iter().map(|v| v * v).sum();
        let rr: f64 = r.iter().map(|v| v * v).sum();
        let objective = tau * l1 + 0.5 * (1.0 - tau) * l2 + 0.5 * self.gamma * rr;
        self.delta = r.into_iter().map(|v| v * self.gamma).collect();
        let falling = self.objective - objective >= 1e-10 * self.objective;
        self.objective = objective;
        falling && self.supp.len() < x.usable(self.exclude)
    }

    /// Read the oracle's correlations |x_jᵀδ| (f32) and grow the support
    /// by the samples that violate optimality; false when none does.
    fn grow(&mut self, x: &Samples, coh: &[f32], tau: f64) -> bool {
        let mut in_supp = self.supp.clone();
        in_supp.sort_unstable();
        let violators: Vec<(usize, f64)> = (0..x.n)
            .filter(|&j| Some(j) != self.exclude && (coh[j].abs() as f64) > tau * (1.0 - F32_MARGIN) && in_supp.binary_search(&j).is_err())
            .map(|j| (j, x.dot(j, &self.delta).abs()))
            .filter(|&(_, v)| v > tau * (1.0 + KKT_SLACK))
            .collect();
        if violators.is_empty() {
            return false;
        }
        let (supp, c): (Vec<usize>, Vec<f64>) = self.supp.iter().zip(&self.c).filter(|(_, c)| c.abs() > 1e-10).map(|(&j, &c)| (j, c)).unzip();
        let active = supp.len();
        // A support filled by its nonzeros is too small: grow it by 10 %.
        if active as f64 > 0.8 * self.size as f64 {
            self.size = ((active.max(self.size) as f64 * 1.1).round() as usize).min(x.usable(self.exclude));
        }
        let room = self.size.saturating_sub(active).max(1);
        let added = top_k_scored(violators.into_iter().map(|(j, v)| (v, j)).collect(), room);
        self.c = c.into_iter().chain(std::iter::repeat_n(0.0, added.len())).collect();
        self.supp = supp.into_iter().chain(added).collect();
        true
    }

    /// The row of C: the `keep` largest |c| (ties to the smaller index).
    fn into_row(self, keep: usize) -> Vec<(usize, f64)> {
        let nz: Vec<usize> = (0..self.c.len()).filter(|&p| self.c[p] != 0.0).collect();
        let kept = top_k(nz.into_iter(), keep, |p| self.c[p].abs());
        kept.into_iter().map(|p| (self.supp[p], self.c[p])).collect()
    }
}

/// The EnSC codes of `targets` by the samples `x` (n × d): an m × n CSR
/// matrix with at most `p.nonzeros` entries per row (and a zero diagonal
/// in a self-expression).
pub(crate) fn ensc(x: &Samples, targets: Targets, p: &EnscParams, observer: &dyn Observer) -> SparseCode {
    let (n, m) = (x.n, targets.count(x));
    let progress = Progress::new("EnSC", m, observer);
    let mut rows: Vec<Vec<(usize, f64)>> = Vec::with_capacity(m);
    let mut rounds_total = 0usize;
    let mut unfinished = 0usize;
    for range in blocks(m) {
        let corr = x.correlate(targets.rows32(x, range.clone()), range.len());
        let mut codes: Vec<Coding> =
            range.clone().into_par_iter().map(|i| Coding::start(x, targets.point(x, i), targets.exclude(i), &corr[(i - range.start) * n..][..n], p)).collect();
        drop(corr);
        for _round in 0..p.max_rounds {
            codes.par_iter_mut().filter(|c| !c.done).for_each(|c| c.done = !c.solve(x, p.tau));
            let mut open: Vec<&mut Coding> = codes.iter_mut().filter(|c| !c.done).collect();
            if open.is_empty() {
                break;
            }
            rounds_total += open.len();
            let deltas: Vec<f32> = open.iter().flat_map(|c| c.delta.iter().map(|&v| v as f32)).collect();
            let coh = x.correlate(&deltas, open.len());
            open.par_iter_mut().enumerate().for_each(|(r, c)| c.done = !c.grow(x, &coh[r * n..(r + 1) * n], p.tau));
        }
        unfinished += codes.iter().filter(|c| !c.done).count();
        rows.extend(codes.into_iter().map(|c| c.into_row(p.nonzeros)));
        progress.update(range.end, &format!("{:.1} oracle rounds per sample", rounds_total as f64 / range.end as f64));
    }
    SparseCode { coef: Csr::from_rows(n, rows), unfinished }
}
