//! The self-expressive layer: n × n coefficients C between encoder and
//! decoder.
//!
//! Convention (kept everywhere in udll): Z is n × d with one sample per
//! row, and the layer outputs Ẑ = C·Z, i.e. ẑ_i = Σ_j c_ij z_j. The papers
//! keep samples in columns and write Z ≈ ZW, so their W is our Cᵀ. C's
//! columns are what thrC thresholds, as in the reference code (whose Coef
//! is exactly this C).
//!
//! Three n²·d GEMMs per step: Ẑ = C·Z (forward), dC = G·Zᵀ and
//! dZ = Cᵀ·G (backward), with G = dL/dẐ.

use crate::linalg::{Real, Trans};
use crate::nn::{HasParams, Param};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
/// Which matrix the β‖·‖² term penalises (and the clustering reads).
pub enum CoefRegularizer {
    /// β‖C‖²; the clustered matrix is C.
    Plain,
    /// β‖½(C + Cᵀ) − diag‖²; that matrix is also what is clustered.
    SymmetricNoDiag,
}

#[derive(Clone, Debug)]
/// The self-expressive layer: C (n × n) and the cache of its last forward.
pub struct SelfExpressive<T> {
    /// The number of samples.
    pub n: usize,
    /// C, with its gradient.
    pub coef: Param<T>,
    /// Keep diag(C) = 0 (no sample explains itself).
    pub zero_diag: bool,
    latent: Vec<T>,
    d: usize,
}

impl<T: Real> SelfExpressive<T> {
    /// C of n × n, every entry `init` (the diagonal 0 with `zero_diag`).
    pub fn new(n: usize, init: f64, zero_diag: bool) -> Self {
        let mut coef = Param::zeros("coef", &[n, n]);
        coef.value.iter_mut().for_each(|v| *v = T::from_f64(init));
        let mut s = SelfExpressive { n, coef, zero_diag, latent: Vec::new(), d: 0 };
        s.enforce_diag();
        s
    }

    /// Zero the diagonal of C (and of its gradient) when `zero_diag`.
    pub fn enforce_diag(&mut self) {
        if self.zero_diag {
            for i in 0..self.n {
                self.coef.value[i * self.n + i] = T::ZERO;
                self.coef.grad[i * self.n + i] = T::ZERO;
            }
        }
    }

    /// Ẑ = C·Z for Z of n rows of dimension d; caches Z.
    pub fn forward(&mut self, z: &[T], d: usize) -> Vec<T> {
        let n = self.n;
        assert_eq!(z.len(), n * d, "self-expressive: latent size");
        self.enforce_diag();
        let mut out = vec![T::ZERO; n * d];
        T::gemm(n, n, d, T::ONE, &self.coef.value, Trans::No, z, Trans::No, T::ZERO, &mut out);
        self.latent = z.to_vec();
        self.d = d;
        out
    }

    /// Given G = dL/dẐ: accumulate dC += G·Zᵀ and return Cᵀ·G.
    pub fn backward(&mut self, g: &[T]) -> Vec<T> {
        let (n, d) = (self.n, self.d);
        assert_eq!(g.len(), n * d, "self-expressive backward: gradient size");
        T::gemm(n, d, n, T::ONE, g, Trans::No, &self.latent, Trans::Yes, T::ONE, &mut self.coef.grad);
        let mut dz = vec![T::ZERO; n * d];
        T::gemm(n, n, d, T::ONE, &self.coef.value, Trans::Yes, g, Trans::No, T::ZERO, &mut dz);
        self.enforce_diag();
        dz
    }

    /// The matrix that is regularised and clustered (see [`effective_coef`]).
    pub fn effective_coef(&self, reg: CoefRegularizer) -> Vec<T> {
        effective_coef(&self.coef.value, self.n, reg)
    }

    /// Add β‖C̃‖² to the gradient; return the loss. Both regularisers have
    /// gradient 2β·C̃ (for the symmetric one, each c_ij feeds c̃_ij and c̃_ji
    /// with weight ½, and C̃ is symmetric).
    pub fn regularise(&mut self, beta: f64, reg: CoefRegularizer) -> f64 {
        if beta == 0.0 {
            return 0.0;
        }
        let eff = self.effective_coef(reg);
        let loss = beta * crate::linalg::reduce::sum_map(&eff, |v| v.to_f64() * v.to_f64());
        let b2 = T::from_f64(2.0 * beta);
        self.coef.grad.par_iter_mut().zip(eff.par_iter()).for_each(|(g, &c)| *g += b2 * c);
        self.enforce_diag();
        loss
    }

    /// Drop the forward cache.
    pub fn clear_cache(&mut self) {
        self.latent = Vec::new();
    }
}

/// The matrix that is regularised and clustered: C itself, or ½(C + Cᵀ)
/// with a zero diagonal.
pub fn effective_coef<T: Real>(coef: &[T], n: usize, reg: CoefRegularizer) -> Vec<T> {
    match reg {
        CoefRegularizer::Plain => coef.to_vec(),
        CoefRegularizer::SymmetricNoDiag => symmetric_no_diag(coef, n),
    }
}

/// ½(C + Cᵀ) with the diagonal set to zero.
pub fn symmetric_no_diag<T: Real>(c: &[T], n: usize) -> Vec<T> {
    let half = T::from_f64(0.5);
    let mut out = vec![T::ZERO; n * n];
    out.par_chunks_mut(n).enumerate().for_each(|(i, row)| {
        for j in 0..n {
            if i != j {
                row[j] = half * (c[i * n + j] + c[j * n + i]);
            }
        }
    });
    out
}

impl<T: Real> HasParams<T> for SelfExpressive<T> {
    fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        vec![&mut self.coef]
    }
    fn params(&self) -> Vec<&Param<T>> {
        vec![&self.coef]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::gradcheck::{check_gradient, check_layer_gradients};

    #[test]
    fn backward_matches_finite_differences() {
        for zero_diag in [false, true] {
            let (n, d) = (7, 5);
            let mut se = SelfExpressive::<f64>::new(n, 0.0, zero_diag);
            check_layer_gradients(&mut se, n * d, n, |l, z, _| l.forward(z, d), |l, g| l.backward(g), &format!("self-expressive zero_diag={zero_diag}"));
        }
    }

    #[test]
    fn regularisers_match_finite_differences() {
        let n = 6;
        for reg in [CoefRegularizer::Plain, CoefRegularizer::SymmetricNoDiag] {
            let mut se = SelfExpressive::<f64>::new(n, 0.0, false);
            se.coef.value = (0..n * n).map(|i| ((i * 7 % 11) as f64 - 5.0) / 7.0).collect();
            let c0 = se.coef.value.clone();
            se.coef.zero_grad();
            se.regularise(0.7, reg);
            let g = se.coef.grad.clone();
            let mut probe = SelfExpressive::<f64>::new(n, 0.0, false);
            check_gradient(
                |c| {
                    probe.coef.value.copy_from_slice(c);
                    probe.coef.zero_grad();
                    probe.regularise(0.7, reg)
                },
                &c0,
                &g,
                1e-6,
                1e-6,
                &format!("regulariser {reg:?}"),
            );
        }
    }
}
