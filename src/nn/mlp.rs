//! A multilayer perceptron: Dense layers with ReLU between them and a
//! linear output (logits). Used where a network is only a stack of dense
//! layers, e.g. GR-DNN's graph decoder and AME-AE's classifier.

use crate::linalg::Real;
use crate::nn::activation::Relu;
use crate::nn::init::glorot_uniform;
use crate::nn::{Dense, HasParams, Param};
use crate::rng::Rng;

pub struct Mlp<T: Real> {
    layers: Vec<Dense<T>>,
    acts: Vec<Relu<T>>,
}

impl<T: Real> Mlp<T> {
    /// widths = [input, hidden…, output].
    pub fn new(name: &str, widths: &[usize]) -> Self {
        assert!(widths.len() >= 2, "an MLP needs an input and an output width");
        let layers = widths.windows(2).enumerate().map(|(i, w)| Dense::new(&format!("{name}{i}"), w[0], w[1])).collect();
        let acts = (0..widths.len() - 2).map(|_| Relu::new()).collect();
        Mlp { layers, acts }
    }

    pub fn init_glorot(&mut self, rng: &mut Rng) {
        for l in &mut self.layers {
            let (i, o) = (l.d_in, l.d_out);
            glorot_uniform(&mut l.weight.value, i, o, rng);
        }
    }

    pub fn forward(&mut self, x: &[T], n: usize) -> Vec<T> {
        let mut y = x.to_vec();
        let last = self.layers.len() - 1;
        for i in 0..=last {
            y = self.layers[i].forward(&y, n);
            if i < last {
                y = self.acts[i].forward(&y);
            }
        }
        y
    }

    /// Accumulate parameter gradients from dL/d(output); returns dL/dx.
    pub fn backward(&mut self, dy: &[T]) -> Vec<T> {
        let mut g = dy.to_vec();
        for i in (0..self.layers.len()).rev() {
            g = self.layers[i].backward(&g, true).expect("dx requested");
            if i > 0 {
                g = self.acts[i - 1].backward(&g);
            }
        }
        g
    }
}

impl<T: Real> HasParams<T> for Mlp<T> {
    fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        self.layers.iter_mut().flat_map(|l| l.params_mut()).collect()
    }
    fn params(&self) -> Vec<&Param<T>> {
        self.layers.iter().flat_map(|l| l.params()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::gradcheck::check_layer_gradients;

    #[test]
    fn backward_matches_finite_differences() {
        let mut m = Mlp::<f64>::new("m", &[5, 4, 3]);
        check_layer_gradients(&mut m, 3 * 5, 3, |l, x, n| l.forward(x, n), |l, dy| l.backward(dy), "mlp 5-4-3");
    }
}
