//! Initialisers, driven by the crate's seeded generator.
//!
//! Glorot/Xavier uniform: U(−a, a) with a = √(6 / (fan_in + fan_out)).
//! For a conv filter [kh, kw, in, out] the fans are kh·kw·in and kh·kw·out
//! (TensorFlow's `xavier_initializer_conv2d`, which the reference code uses).

use crate::linalg::Real;
use crate::rng::Rng;

pub fn glorot_uniform<T: Real>(values: &mut [T], fan_in: usize, fan_out: usize, rng: &mut Rng) {
    let a = (6.0 / (fan_in + fan_out).max(1) as f64).sqrt();
    for v in values.iter_mut() {
        *v = T::from_f64(rng.uniform_range(-a, a));
    }
}

/// Fans of a 4-D filter laid out [kh, kw, in, out] (TF conv2d).
pub fn conv_fans(shape: &[usize]) -> (usize, usize) {
    let rf = shape[0] * shape[1];
    (rf * shape[2], rf * shape[3])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glorot_stays_in_bounds_and_is_centred() {
        let mut v = vec![0.0f64; 10_000];
        let mut rng = Rng::stream(0, "init");
        glorot_uniform(&mut v, 9, 15, &mut rng);
        let a = (6.0f64 / 24.0).sqrt();
        assert!(v.iter().all(|x| x.abs() <= a));
        let mean: f64 = v.iter().sum::<f64>() / v.len() as f64;
        assert!(mean.abs() < 0.01);
        let var: f64 = v.iter().map(|x| x * x).sum::<f64>() / v.len() as f64;
        assert!((var - a * a / 3.0).abs() < 0.01);
    }
}
