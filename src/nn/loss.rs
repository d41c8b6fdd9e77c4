//! Reconstruction loss: weight · ‖X̂ − X‖²_F and its gradient
//! 2 · weight · (X̂ − X). Eq. (1) of the UDLL paper is weight = ½.

use crate::linalg::Real;
use crate::linalg::reduce::sum_zip_map;
use rayon::prelude::*;

/// Returns (loss, dL/dX̂). The loss is summed in f64 in fixed chunks.
pub fn squared_error<T: Real>(recon: &[T], target: &[T], weight: f64) -> (f64, Vec<T>) {
    assert_eq!(recon.len(), target.len(), "squared_error: sizes differ");
    let loss = weight
        * sum_zip_map(recon, target, |a, b| {
            let d = a.to_f64() - b.to_f64();
            d * d
        });
    let w2 = T::from_f64(2.0 * weight);
    let grad = recon.par_iter().zip(target.par_iter()).map(|(&a, &b)| w2 * (a - b)).collect();
    (loss, grad)
}

/// Binary cross-entropy of sigmoid(logits) against targets in [0, 1],
/// Σ softplus(l) − t·l (the stable form), and its gradient with respect to
/// the logits, σ(l) − t.
pub fn bce_with_logits<T: Real>(logits: &[T], target: &[T]) -> (f64, Vec<T>) {
    assert_eq!(logits.len(), target.len(), "bce_with_logits: sizes differ");
    let loss = sum_zip_map(logits, target, |l, t| {
        let (l, t) = (l.to_f64(), t.to_f64());
        l.max(0.0) + (-l.abs()).exp().ln_1p() - t * l
    });
    let grad = logits.par_iter().zip(target.par_iter()).map(|(&l, &t)| T::from_f64(crate::nn::activation::sigmoid(l.to_f64())) - t).collect();
    (loss, grad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::gradcheck::check_gradient;

    #[test]
    fn bce_gradient_matches_finite_differences_and_values() {
        let target: Vec<f64> = (0..30).map(|i| ((i as f64 * 0.37).sin() + 1.0) / 2.0).collect();
        let l: Vec<f64> = (0..30).map(|i| 3.0 * (i as f64 * 0.11).cos()).collect();
        let (_, g) = bce_with_logits(&l, &target);
        check_gradient(|v| bce_with_logits(v, &target).0, &l, &g, 1e-6, 1e-6, "bce");
        // −[t ln p + (1 − t) ln(1 − p)] at l = 0, t = 1: ln 2.
        assert!((bce_with_logits(&[0.0], &[1.0]).0 - std::f64::consts::LN_2).abs() < 1e-12);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let target: Vec<f64> = (0..30).map(|i| (i as f64 * 0.37).sin()).collect();
        let x: Vec<f64> = (0..30).map(|i| (i as f64 * 0.11).cos()).collect();
        let (_, g) = squared_error(&x, &target, 0.5);
        check_gradient(|v| squared_error(v, &target, 0.5).0, &x, &g, 1e-6, 1e-7, "squared error");
    }
}
