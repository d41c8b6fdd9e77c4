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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::gradcheck::check_gradient;

    #[test]
    fn gradient_matches_finite_differences() {
        let target: Vec<f64> = (0..30).map(|i| (i as f64 * 0.37).sin()).collect();
        let x: Vec<f64> = (0..30).map(|i| (i as f64 * 0.11).cos()).collect();
        let (_, g) = squared_error(&x, &target, 0.5);
        check_gradient(|v| squared_error(v, &target, 0.5).0, &x, &g, 1e-6, 1e-7, "squared error");
    }
}
