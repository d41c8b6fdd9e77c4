//! Dense (fully connected) layer: y = x · W + b, W stored in × out.
//! Backward: dW = xᵀ · dy, db = Σ_rows dy, dx = dy · Wᵀ.

use crate::linalg::reduce::add_column_sums;
use crate::linalg::{Real, Trans};
use crate::nn::param::{HasParams, Param};

#[derive(Clone, Debug)]
pub struct Dense<T> {
    pub d_in: usize,
    pub d_out: usize,
    pub weight: Param<T>,
    pub bias: Param<T>,
    input: Vec<T>,
    batch: usize,
}

impl<T: Real> Dense<T> {
    pub fn new(name: &str, d_in: usize, d_out: usize) -> Self {
        Dense {
            d_in,
            d_out,
            weight: Param::zeros(format!("{name}.weight"), &[d_in, d_out]),
            bias: Param::zeros(format!("{name}.bias"), &[d_out]),
            input: Vec::new(),
            batch: 0,
        }
    }

    pub fn forward(&mut self, x: &[T], n: usize) -> Vec<T> {
        assert_eq!(x.len(), n * self.d_in, "dense forward: input size");
        let mut y: Vec<T> = Vec::with_capacity(n * self.d_out);
        for _ in 0..n {
            y.extend_from_slice(&self.bias.value);
        }
        T::gemm(n, self.d_in, self.d_out, T::ONE, x, Trans::No, &self.weight.value, Trans::No, T::ONE, &mut y);
        self.input = x.to_vec();
        self.batch = n;
        y
    }

    pub fn backward(&mut self, dy: &[T], need_dx: bool) -> Option<Vec<T>> {
        let n = self.batch;
        assert_eq!(dy.len(), n * self.d_out, "dense backward: gradient does not match the last forward");
        T::gemm(self.d_in, n, self.d_out, T::ONE, &self.input, Trans::Yes, dy, Trans::No, T::ONE, &mut self.weight.grad);
        add_column_sums(dy, n, self.d_out, &mut self.bias.grad);
        if !need_dx {
            return None;
        }
        let mut dx = vec![T::ZERO; n * self.d_in];
        T::gemm(n, self.d_out, self.d_in, T::ONE, dy, Trans::No, &self.weight.value, Trans::Yes, T::ZERO, &mut dx);
        Some(dx)
    }
}

impl<T: Real> HasParams<T> for Dense<T> {
    fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        vec![&mut self.weight, &mut self.bias]
    }
    fn params(&self) -> Vec<&Param<T>> {
        vec![&self.weight, &self.bias]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::gradcheck::check_layer_gradients;

    #[test]
    fn backward_matches_finite_differences() {
        for &(i, o, n) in &[(1, 1, 1), (7, 3, 4), (16, 9, 5)] {
            let mut d = Dense::<f64>::new("d", i, o);
            check_layer_gradients(&mut d, n * i, n, |l, x, n| l.forward(x, n), |l, dy| l.backward(dy, true).unwrap(), &format!("dense {i}->{o}"));
        }
    }
}
