//! Element-wise activations. Each caches its output, from which its
//! derivative follows: ReLU' = [y > 0].

use crate::linalg::Real;
use crate::nn::param::{HasParams, Param};
use rayon::prelude::*;

#[derive(Clone, Debug, Default)]
pub struct Relu<T> {
    output: Vec<T>,
}

impl<T: Real> Relu<T> {
    pub fn new() -> Self {
        Relu { output: Vec::new() }
    }
    pub fn forward(&mut self, x: &[T]) -> Vec<T> {
        let y: Vec<T> = x.par_iter().map(|&v| if v > T::ZERO { v } else { T::ZERO }).collect();
        self.output = y.clone();
        y
    }
    pub fn backward(&self, dy: &[T]) -> Vec<T> {
        assert_eq!(dy.len(), self.output.len(), "relu backward: gradient does not match the last forward");
        dy.par_iter().zip(self.output.par_iter()).map(|(&g, &y)| if y > T::ZERO { g } else { T::ZERO }).collect()
    }
    pub fn clear_cache(&mut self) {
        self.output = Vec::new();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::gradcheck::check_layer_gradients;

    #[test]
    fn relu_backward_matches_finite_differences() {
        // Random normal inputs are almost surely away from the kink at 0.
        let mut r = Relu::<f64>::new();
        check_layer_gradients(&mut r, 50, 1, |l, x, _| l.forward(x), |l, dy| l.backward(dy), "relu");
    }
}
