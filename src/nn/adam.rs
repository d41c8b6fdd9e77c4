//! Adam (Kingma & Ba), in the form TensorFlow 1.x uses — the reference code
//! is TF: lr_t = lr · √(1 − β₂ᵗ) / (1 − β₁ᵗ), θ ← θ − lr_t · m / (√v + ε).
//! The optimiser owns its moments, one pair per parameter tensor, in the
//! order `HasParams` yields them.

use crate::linalg::Real;
use crate::nn::param::Param;
use rayon::prelude::*;

/// Parameters per tensor below which the update runs on the calling thread.
const PARALLEL_MIN: usize = 1 << 14;

#[derive(Clone, Debug)]
pub struct Adam<T> {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub step: u64,
    m: Vec<Vec<T>>,
    v: Vec<Vec<T>>,
}

impl<T: Real> Adam<T> {
    pub fn new(lr: f64) -> Self {
        Adam { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 0, m: Vec::new(), v: Vec::new() }
    }

    /// One update of every parameter from its gradient.
    pub fn update(&mut self, params: &mut [&mut Param<T>]) {
        if self.m.is_empty() {
            self.m = params.iter().map(|p| vec![T::ZERO; p.len()]).collect();
            self.v = params.iter().map(|p| vec![T::ZERO; p.len()]).collect();
        }
        assert_eq!(self.m.len(), params.len(), "Adam: the parameter list changed between steps");
        self.step += 1;
        let t = self.step as i32;
        let lr_t = T::from_f64(self.lr * (1.0 - self.beta2.powi(t)).sqrt() / (1.0 - self.beta1.powi(t)));
        let (b1, b2, eps) = (T::from_f64(self.beta1), T::from_f64(self.beta2), T::from_f64(self.eps));
        let (one_b1, one_b2) = (T::ONE - b1, T::ONE - b2);
        for ((p, m), v) in params.iter_mut().zip(&mut self.m).zip(&mut self.v) {
            assert_eq!(m.len(), p.len(), "Adam: parameter {} changed size", p.name);
            let step = |((w, &g), (mi, vi)): ((&mut T, &T), (&mut T, &mut T))| {
                *mi = b1 * *mi + one_b1 * g;
                *vi = b2 * *vi + one_b2 * g * g;
                *w -= lr_t * *mi / (vi.sqrt() + eps);
            };
            // Element by element, so splitting changes no bits; small
            // tensors (a conv layer's filters) are not worth a parallel region.
            if p.len() < PARALLEL_MIN {
                p.value.iter_mut().zip(p.grad.iter()).zip(m.iter_mut().zip(v.iter_mut())).for_each(step);
            } else {
                p.value.par_iter_mut().zip(p.grad.par_iter()).zip(m.par_iter_mut().zip(v.par_iter_mut())).for_each(step);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_moves_each_weight_by_lr_against_the_gradient_sign() {
        let mut p = Param::<f64>::zeros("w", &[3]);
        p.grad = vec![2.0, -0.5, 0.0];
        let mut adam = Adam::new(1e-3);
        adam.update(&mut [&mut p]);
        assert!((p.value[0] + 1e-3).abs() < 1e-9);
        assert!((p.value[1] - 1e-3).abs() < 1e-9);
        assert_eq!(p.value[2], 0.0);
    }

    #[test]
    fn minimises_a_quadratic() {
        let mut p = Param::<f64>::zeros("w", &[2]);
        p.value = vec![3.0, -2.0];
        let mut adam = Adam::new(0.05);
        for _ in 0..2000 {
            p.grad = p.value.iter().map(|w| 2.0 * (w - 1.0)).collect();
            adam.update(&mut [&mut p]);
        }
        assert!(p.value.iter().all(|w| (w - 1.0).abs() < 1e-3), "{:?}", p.value);
    }
}
