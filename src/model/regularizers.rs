//! Penalties of the regularised autoencoders (autoencoders lecture, after
//! Vincent et al. 2010 and Rifai et al. 2011), on a code layer
//! h = s(a), a = x·W + b, with W stored d_in × m (column j feeds unit j):
//!
//! - sparse: λ Σ |h_j|, so dP/dh = λ·sign(h);
//! - contractive: λ ‖∂h/∂x‖²_F = λ Σ_j s'(a_j)² ‖W_:j‖², in closed form
//!   because J = diag(s'(a))·Wᵀ for one layer.
//!   * sigmoid: s' = h(1 − h), so dP/da_j = 2λ‖W_:j‖² s'² (1 − 2h_j) and
//!     dP/dW_:j = 2λ s'_j² W_:j (summed over the batch);
//!   * ReLU: s' = [h > 0] is piecewise constant, so dP/da = 0 (almost
//!     everywhere) and dP/dW_:j = 2λ [h_j > 0] W_:j.
//!
//! All penalties are summed over the batch; the caller scales.
//!
//! Also the denoising corruption (masking and Gaussian noise) the denoising
//! variants train on, dense and convolutional alike.

use crate::linalg::Real;
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CodeActivation {
    Sigmoid,
    Relu,
}

/// λ Σ|h| and its gradient with respect to h.
pub fn sparse_l1<T: Real>(h: &[T], lambda: f64) -> (f64, Vec<T>) {
    let p = lambda * h.iter().map(|v| v.to_f64().abs()).sum::<f64>();
    let g = h.iter().map(|&v| T::from_f64(lambda * v.to_f64().signum() * if v == T::ZERO { 0.0 } else { 1.0 })).collect();
    (p, g)
}

/// The contractive penalty of n codes h (n × m) from weights w (d_in × m):
/// (penalty, dP/da (n × m), dP/dW (d_in × m)).
pub fn contractive<T: Real>(h: &[T], n: usize, w: &[T], d_in: usize, m: usize, act: CodeActivation, lambda: f64) -> (f64, Vec<T>, Vec<T>) {
    assert_eq!(h.len(), n * m, "contractive: code size");
    assert_eq!(w.len(), d_in * m, "contractive: weight size");
    // ‖W_:j‖² per code unit.
    let mut col_sq = vec![0.0f64; m];
    for row in w.chunks(m) {
        for (j, v) in row.iter().enumerate() {
            col_sq[j] += v.to_f64() * v.to_f64();
        }
    }
    let mut penalty = 0.0;
    let mut d_a = vec![T::ZERO; n * m];
    // Σ_i s'(a_ij)², the factor of dP/dW_:j.
    let mut sum_sq = vec![0.0f64; m];
    for i in 0..n {
        for j in 0..m {
            let hv = h[i * m + j].to_f64();
            let s1 = match act {
                CodeActivation::Sigmoid => hv * (1.0 - hv),
                CodeActivation::Relu => f64::from(hv > 0.0),
            };
            penalty += s1 * s1 * col_sq[j];
            sum_sq[j] += s1 * s1;
            if act == CodeActivation::Sigmoid {
                d_a[i * m + j] = T::from_f64(2.0 * lambda * col_sq[j] * s1 * s1 * (1.0 - 2.0 * hv));
            }
        }
    }
    let d_w = w.iter().enumerate().map(|(idx, &v)| T::from_f64(2.0 * lambda * sum_sq[idx % m] * v.to_f64())).collect();
    (lambda * penalty, d_a, d_w)
}

/// The denoising corruption of one batch: masking noise, then additive
/// Gaussian noise, both from `rng`.
pub fn corrupt(x: &[f32], mask_rate: f64, sigma: f64, rng: &mut Rng) -> Vec<f32> {
    x.iter()
        .map(|&v| {
            let kept = if mask_rate > 0.0 && rng.uniform() < mask_rate { 0.0 } else { v };
            if sigma > 0.0 { kept + (sigma * rng.normal()) as f32 } else { kept }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::activation::sigmoid;
    use crate::nn::gradcheck::check_gradient;
    use crate::rng::Rng;

    /// P as a function of (W, b) at fixed x, through h = s(x·W + b).
    fn penalty_of(x: &[f64], n: usize, d: usize, m: usize, w: &[f64], b: &[f64], act: CodeActivation) -> f64 {
        let h: Vec<f64> = (0..n * m)
            .map(|k| {
                let (i, j) = (k / m, k % m);
                let a = b[j] + (0..d).map(|p| x[i * d + p] * w[p * m + j]).sum::<f64>();
                match act {
                    CodeActivation::Sigmoid => sigmoid(a),
                    CodeActivation::Relu => a.max(0.0),
                }
            })
            .collect();
        contractive(&h, n, w, d, m, act, 0.7).0
    }

    #[test]
    fn contractive_gradients_match_finite_differences() {
        let (n, d, m) = (5, 4, 3);
        let mut r = Rng::from_seed(11);
        let x: Vec<f64> = (0..n * d).map(|_| r.normal()).collect();
        let w: Vec<f64> = (0..d * m).map(|_| 0.8 * r.normal()).collect();
        let b: Vec<f64> = (0..m).map(|_| 0.3 * r.normal()).collect();
        for act in [CodeActivation::Sigmoid, CodeActivation::Relu] {
            let h: Vec<f64> = (0..n * m)
                .map(|k| {
                    let (i, j) = (k / m, k % m);
                    let a = b[j] + (0..d).map(|p| x[i * d + p] * w[p * m + j]).sum::<f64>();
                    if act == CodeActivation::Sigmoid { sigmoid(a) } else { a.max(0.0) }
                })
                .collect();
            let (_, d_a, d_w_direct) = contractive(&h, n, &w, d, m, act, 0.7);
            // Total dP/dW = direct + xᵀ·dP/da; dP/db = Σ_rows dP/da.
            let mut d_w = d_w_direct.clone();
            for i in 0..n {
                for p in 0..d {
                    for j in 0..m {
                        d_w[p * m + j] += x[i * d + p] * d_a[i * m + j];
                    }
                }
            }
            let d_b: Vec<f64> = (0..m).map(|j| (0..n).map(|i| d_a[i * m + j]).sum()).collect();
            check_gradient(|wv| penalty_of(&x, n, d, m, wv, &b, act), &w, &d_w, 1e-6, 1e-6, &format!("contractive dW ({act:?})"));
            check_gradient(|bv| penalty_of(&x, n, d, m, &w, bv, act), &b, &d_b, 1e-6, 1e-6, &format!("contractive db ({act:?})"));
        }
    }

    #[test]
    fn contractive_penalty_is_the_jacobian_norm() {
        // One sample, sigmoid: compare with ‖J‖²_F from finite differences of h(x).
        let (d, m) = (3, 2);
        let w = [0.5, -1.0, 0.2, 0.3, -0.7, 0.9];
        let b = [0.1, -0.2];
        let x = [0.3, -0.4, 0.8];
        let h = |x: &[f64]| -> Vec<f64> { (0..m).map(|j| sigmoid(b[j] + (0..d).map(|p| x[p] * w[p * m + j]).sum::<f64>())).collect() };
        let mut jac = 0.0;
        for p in 0..d {
            let (mut xp, mut xm) = (x.to_vec(), x.to_vec());
            xp[p] += 1e-6;
            xm[p] -= 1e-6;
            let (hp, hm) = (h(&xp), h(&xm));
            jac += (0..m).map(|j| ((hp[j] - hm[j]) / 2e-6).powi(2)).sum::<f64>();
        }
        let (p, _, _) = contractive(&h(&x), 1, &w, d, m, CodeActivation::Sigmoid, 1.0);
        assert!((p - jac).abs() < 1e-6 * jac.max(1.0), "{p} vs {jac}");
    }

    #[test]
    fn sparse_gradient_is_lambda_sign() {
        let (p, g) = sparse_l1(&[0.5f64, -2.0, 0.0], 0.1);
        assert!((p - 0.25).abs() < 1e-12);
        assert_eq!(g, vec![0.1, -0.1, 0.0]);
    }
}
