//! Element-wise activations. Each caches its output, from which its
//! derivative follows: ReLU' = [y > 0].

use crate::linalg::Real;
use crate::nn::param::{HasParams, Param};
use rayon::prelude::*;

#[derive(Clone, Debug, Default)]
pub struct Relu<T> {
    output: Vec<T>,
}

/// Elements per parallel task of the in-place ReLU (a constant: the
/// result does not depend on it, only the overhead does).
const RELU_CHUNK: usize = 1 << 16;

/// x ← max(x, 0).
pub fn relu_in_place<T: Real>(x: &mut [T]) {
    x.par_chunks_mut(RELU_CHUNK).for_each(|c| c.iter_mut().for_each(|v| *v = if *v > T::ZERO { *v } else { T::ZERO }));
}

/// g ← g · [y > 0], with y the ReLU's output.
pub fn relu_backward_in_place<T: Real>(g: &mut [T], y: &[T]) {
    assert_eq!(g.len(), y.len(), "relu backward: gradient does not match the last forward");
    g.par_chunks_mut(RELU_CHUNK).zip(y.par_chunks(RELU_CHUNK)).for_each(|(gc, yc)| {
        gc.iter_mut().zip(yc).for_each(|(g, &y)| *g = if y > T::ZERO { *g } else { T::ZERO });
    });
}

impl<T: Real> Relu<T> {
    pub fn new() -> Self {
        Relu { output: Vec::new() }
    }
    pub fn forward(&mut self, x: &[T]) -> Vec<T> {
        let mut y = x.to_vec();
        relu_in_place(&mut y);
        self.output = y.clone();
        y
    }
    pub fn backward(&self, dy: &[T]) -> Vec<T> {
        let mut g = dy.to_vec();
        relu_backward_in_place(&mut g, &self.output);
        g
    }
}

impl<T: Real> HasParams<T> for Relu<T> {
    fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        Vec::new()
    }
    fn params(&self) -> Vec<&Param<T>> {
        Vec::new()
    }
}

/// σ(x) = 1 / (1 + e⁻ˣ), caching its output: σ' = y(1 − y).
#[derive(Clone, Debug, Default)]
pub struct Sigmoid<T> {
    output: Vec<T>,
}

/// σ(x), evaluated without overflow for large |x|.
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

impl<T: Real> Sigmoid<T> {
    pub fn new() -> Self {
        Sigmoid { output: Vec::new() }
    }
    pub fn forward(&mut self, x: &[T]) -> Vec<T> {
        let y: Vec<T> = x.par_iter().map(|&v| T::from_f64(sigmoid(v.to_f64()))).collect();
        self.output = y.clone();
        y
    }
    pub fn backward(&self, dy: &[T]) -> Vec<T> {
        assert_eq!(dy.len(), self.output.len(), "sigmoid backward: gradient does not match the last forward");
        dy.par_iter().zip(self.output.par_iter()).map(|(&g, &y)| g * y * (T::ONE - y)).collect()
    }
}

impl<T: Real> HasParams<T> for Sigmoid<T> {
    fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        Vec::new()
    }
    fn params(&self) -> Vec<&Param<T>> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::gradcheck::check_layer_gradients;

    #[test]
    fn sigmoid_backward_matches_finite_differences() {
        let mut s = Sigmoid::<f64>::new();
        check_layer_gradients(&mut s, 40, 1, |l, x, _| l.forward(x), |l, dy| l.backward(dy), "sigmoid");
        assert_eq!(sigmoid(-800.0), 0.0);
        assert_eq!(sigmoid(800.0), 1.0);
    }

    #[test]
    fn relu_backward_matches_finite_differences() {
        // Random normal inputs are almost surely away from the kink at 0.
        let mut r = Relu::<f64>::new();
        check_layer_gradients(&mut r, 50, 1, |l, x, _| l.forward(x), |l, dy| l.backward(dy), "relu");
    }
}
