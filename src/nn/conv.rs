//! Conv2d (TensorFlow "SAME", any stride) forward and backward.
//!
//! y = Σ W · x + b with W the TF filter [kh, kw, c_in, c_out], computed by
//! the direct lane-blocked kernels of [`crate::nn::conv_lanes`]: forward is
//! their `gather`, dW their filter gradient, dx their `scatter`, and
//! db = Σ_rows dy.

use crate::linalg::Real;
use crate::nn::conv_geom::ConvGeom;
use crate::nn::conv_lanes::{LaneConv, TapCache, add_bias_grad, from_lanes, to_lanes};
use crate::nn::param::{HasParams, Param};

#[derive(Clone, Debug)]
pub struct Conv2d<T> {
    pub geom: ConvGeom,
    pub c_out: usize,
    pub weight: Param<T>,
    pub bias: Param<T>,
    /// The last forward's input, lane-blocked (for dW).
    input: Vec<T>,
    batch: usize,
    /// The kernels' tap table of `geom`.
    taps: TapCache,
}

impl<T: Real> Conv2d<T> {
    pub fn new(name: &str, h_in: usize, w_in: usize, c_in: usize, c_out: usize, kernel: (usize, usize), stride: usize) -> Self {
        let geom = ConvGeom::same(h_in, w_in, c_in, kernel.0, kernel.1, stride);
        Conv2d {
            geom,
            c_out,
            weight: Param::zeros(format!("{name}.weight"), &[kernel.0, kernel.1, c_in, c_out]),
            bias: Param::zeros(format!("{name}.bias"), &[c_out]),
            input: Vec::new(),
            batch: 0,
            taps: TapCache::default(),
        }
    }

    /// Output values per image (h_out · w_out · c_out).
    pub fn out_len(&self) -> usize {
        self.geom.p_out() * self.c_out
    }

    /// Forward a lane-blocked batch (see [`crate::nn::conv_lanes`]); keeps
    /// the input for backward.
    pub fn forward_lanes(&mut self, xl: Vec<T>) -> Vec<T> {
        let y = self.kernels().gather(Some(&self.bias.value), &xl);
        self.input = xl;
        y
    }

    /// Accumulate dW, db from the lane-blocked gradient of the last
    /// forward's output (zero in padding lanes); return dx when asked (the
    /// first layer of a network does not need it).
    pub fn backward_lanes(&mut self, dyl: &[T], need_dx: bool) -> Option<Vec<T>> {
        assert_eq!(dyl.len() / self.out_len().max(1), self.input.len() / self.geom.in_len().max(1), "conv backward: gradient does not match the last forward");
        let conv = LaneConv::new(&self.geom, self.taps.get(&self.geom, self.c_out), &self.weight.value, self.c_out);
        conv.add_filter_grad(&self.input, dyl, &mut self.weight.grad);
        add_bias_grad(dyl, self.c_out, &mut self.bias.grad);
        need_dx.then(|| conv.scatter(dyl))
    }

    /// The lane kernels of this layer's geometry and current filter.
    pub fn kernels(&self) -> LaneConv<'_, T> {
        LaneConv::new(&self.geom, self.taps.get(&self.geom, self.c_out), &self.weight.value, self.c_out)
    }

    /// Sum of each output channel's filter weights (the filter is
    /// [kh, kw, c_in, c_out], so channel co is every c_out-th value from co).
    pub fn filter_sums(&self) -> Vec<f64> {
        (0..self.c_out).map(|co| self.weight.value.iter().skip(co).step_by(self.c_out).map(|v| v.to_f64()).sum()).collect()
    }

    /// The last forward's input, lane-blocked.
    pub fn input(&self) -> &[T] {
        &self.input
    }

    /// Forward a batch of n NHWC images.
    pub fn forward(&mut self, x: &[T], n: usize) -> Vec<T> {
        self.batch = n;
        let y = self.forward_lanes(to_lanes(x, n, self.geom.in_len()));
        from_lanes(&y, n, self.out_len())
    }

    /// [`Self::backward_lanes`] for an NHWC gradient of the last [`Self::forward`].
    pub fn backward(&mut self, dy: &[T], need_dx: bool) -> Option<Vec<T>> {
        let n = self.batch;
        assert_eq!(dy.len(), n * self.out_len(), "conv backward: gradient does not match the last forward");
        let dx = self.backward_lanes(&to_lanes(dy, n, self.out_len()), need_dx)?;
        Some(from_lanes(&dx, n, self.geom.in_len()))
    }

    /// Drop the cached activations (e.g. before a checkpoint or inference).
    pub fn clear_cache(&mut self) {
        self.input = Vec::new();
    }
}

impl<T: Real> HasParams<T> for Conv2d<T> {
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
    use crate::nn::gradcheck::{check_layer_gradients, random_fill};
    use crate::rng::Rng;

    /// Direct nested-loop convolution: the simple reference.
    fn naive_conv(g: &ConvGeom, c_out: usize, w: &[f64], b: &[f64], x: &[f64]) -> Vec<f64> {
        let mut y = vec![0.0; g.p_out() * c_out];
        for oy in 0..g.h_out {
            for ox in 0..g.w_out {
                for co in 0..c_out {
                    let mut s = b[co];
                    for ky in 0..g.kh {
                        for kx in 0..g.kw {
                            let iy = (oy * g.stride + ky) as isize - g.pad_top as isize;
                            let ix = (ox * g.stride + kx) as isize - g.pad_left as isize;
                            if iy < 0 || ix < 0 || iy >= g.h_in as isize || ix >= g.w_in as isize {
                                continue;
                            }
                            for ci in 0..g.c_in {
                                let xv = x[((iy as usize) * g.w_in + ix as usize) * g.c_in + ci];
                                s += xv * w[((ky * g.kw + kx) * g.c_in + ci) * c_out + co];
                            }
                        }
                    }
                    y[(oy * g.w_out + ox) * c_out + co] = s;
                }
            }
        }
        y
    }

    #[test]
    fn forward_matches_nested_loops() {
        let mut rng = Rng::stream(0, "conv-fwd");
        for &(h, w, ci, co, k) in &[(8, 8, 1, 3, 3), (21, 11, 2, 4, 3), (9, 6, 3, 2, 5)] {
            let mut conv = Conv2d::<f64>::new("c", h, w, ci, co, (k, k), 2);
            random_fill(&mut conv.weight.value, &mut rng);
            random_fill(&mut conv.bias.value, &mut rng);
            let n = 2;
            let mut x = vec![0.0; n * conv.geom.in_len()];
            random_fill(&mut x, &mut rng);
            let y = conv.forward(&x, n);
            for i in 0..n {
                let want = naive_conv(&conv.geom, co, &conv.weight.value, &conv.bias.value, &x[i * conv.geom.in_len()..][..conv.geom.in_len()]);
                let got = &y[i * conv.out_len()..][..conv.out_len()];
                for (a, b) in got.iter().zip(&want) {
                    assert!((a - b).abs() < 1e-12);
                }
            }
        }
    }

    #[test]
    fn backward_matches_finite_differences() {
        for &(h, w, ci, co, k, n) in &[(6, 6, 1, 2, 3, 2), (21, 21, 2, 3, 3, 1), (7, 5, 2, 2, 5, 3), (11, 10, 3, 2, 4, 1)] {
            let mut conv = Conv2d::<f64>::new("c", h, w, ci, co, (k, k), 2);
            let in_len = conv.geom.in_len();
            check_layer_gradients(
                &mut conv,
                n * in_len,
                n,
                |l, x, n| l.forward(x, n),
                |l, dy| l.backward(dy, true).unwrap(),
                &format!("conv {h}x{w}x{ci}->{co} k{k}"),
            );
        }
    }
}
