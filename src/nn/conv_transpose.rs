//! ConvTranspose2d, the adjoint of a SAME convolution (TensorFlow's
//! `conv2d_transpose` with an explicit output shape).
//!
//! The layer maps a small map (h_s × w_s × c_in) to a large one
//! (h_big × w_big × c_out), where the SAME convolution big → small has
//! geometry `geom`. Its filter is TF's [kh, kw, c_out, c_in], read as a
//! (kh·kw·c_out) × c_in matrix F.
//! Forward: y = scatter(F, x) + b. Backward: dF = the filter gradient of
//! (dy, x), dx = gather(F, dy), db = Σ_rows dy (kernels of
//! [`crate::nn::conv_lanes`]).
//! The explicit output size is what crops 16 → 32 and, for Yale B,
//! 6 → 12 × 11 → 24 × 21 → 48 × 42, as the reference code does.

use crate::linalg::Real;
use crate::nn::conv_geom::ConvGeom;
use crate::nn::conv_lanes::{LaneConv, TapCache, add_bias, add_bias_grad, from_lanes, to_lanes};
use crate::nn::param::{HasParams, Param};

#[derive(Clone, Debug)]
pub struct ConvTranspose2d<T> {
    /// The geometry of the convolution this layer is the transpose of.
    pub geom: ConvGeom,
    pub c_in: usize,
    pub weight: Param<T>,
    pub bias: Param<T>,
    input: Vec<T>,
    batch: usize,
    /// The kernels' tap table of `geom`.
    taps: TapCache,
}

impl<T: Real> ConvTranspose2d<T> {
    /// A transpose conv producing `h_big × w_big × c_out` from the SAME
    /// stride-`stride` downsampled size with `c_in` channels.
    pub fn new(name: &str, h_big: usize, w_big: usize, c_out: usize, c_in: usize, kernel: (usize, usize), stride: usize) -> Self {
        let geom = ConvGeom::same(h_big, w_big, c_out, kernel.0, kernel.1, stride);
        ConvTranspose2d {
            geom,
            c_in,
            weight: Param::zeros(format!("{name}.weight"), &[kernel.0, kernel.1, c_out, c_in]),
            bias: Param::zeros(format!("{name}.bias"), &[c_out]),
            input: Vec::new(),
            batch: 0,
            taps: TapCache::default(),
        }
    }
    pub fn c_out(&self) -> usize {
        self.geom.c_in
    }
    /// Input values per image (small map).
    pub fn in_len(&self) -> usize {
        self.geom.p_out() * self.c_in
    }
    /// Output values per image (large map).
    pub fn out_len(&self) -> usize {
        self.geom.in_len()
    }

    /// Forward a lane-blocked batch; keeps the input for backward.
    pub fn forward_lanes(&mut self, xl: Vec<T>) -> Vec<T> {
        let mut y = self.kernels().scatter(&xl);
        add_bias(&mut y, &self.bias.value);
        self.input = xl;
        y
    }

    /// Accumulate dF, db from the lane-blocked gradient of the last
    /// forward's output (zero in padding lanes); return dx when asked.
    pub fn backward_lanes(&mut self, dyl: &[T], need_dx: bool) -> Option<Vec<T>> {
        assert_eq!(
            dyl.len() / self.out_len().max(1),
            self.input.len() / self.in_len().max(1),
            "conv-transpose backward: gradient does not match the last forward"
        );
        add_bias_grad(dyl, self.c_out(), &mut self.bias.grad);
        let conv = LaneConv::new(&self.geom, self.taps.get(&self.geom, self.c_in), &self.weight.value, self.c_in);
        conv.add_filter_grad(dyl, &self.input, &mut self.weight.grad);
        need_dx.then(|| conv.gather(None, dyl))
    }

    /// The lane kernels of this layer's geometry (big = its output) and
    /// current filter.
    pub fn kernels(&self) -> LaneConv<'_, T> {
        LaneConv::new(&self.geom, self.taps.get(&self.geom, self.c_in), &self.weight.value, self.c_in)
    }

    /// The last forward's input, lane-blocked.
    pub fn input(&self) -> &[T] {
        &self.input
    }

    /// Forward a batch of n NHWC maps.
    pub fn forward(&mut self, x: &[T], n: usize) -> Vec<T> {
        assert_eq!(x.len(), n * self.in_len(), "conv-transpose forward: input size");
        self.batch = n;
        let y = self.forward_lanes(to_lanes(x, n, self.in_len()));
        from_lanes(&y, n, self.out_len())
    }

    /// [`Self::backward_lanes`] for an NHWC gradient of the last [`Self::forward`].
    pub fn backward(&mut self, dy: &[T], need_dx: bool) -> Option<Vec<T>> {
        let n = self.batch;
        assert_eq!(dy.len(), n * self.out_len(), "conv-transpose backward: gradient does not match the last forward");
        let dx = self.backward_lanes(&to_lanes(dy, n, self.out_len()), need_dx)?;
        Some(from_lanes(&dx, n, self.in_len()))
    }

    pub fn clear_cache(&mut self) {
        self.input = Vec::new();
    }
}

impl<T: Real> HasParams<T> for ConvTranspose2d<T> {
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
    use crate::nn::conv::Conv2d;
    use crate::nn::gradcheck::{check_layer_gradients, random_fill};
    use crate::rng::Rng;

    #[test]
    fn forward_is_the_adjoint_of_conv_without_bias() {
        // <conv(u), v> == <u, convT(v)> when both share the filter.
        let mut rng = Rng::stream(0, "convT-adj");
        for &(h, w, cb, cs, k) in &[(8, 8, 1, 3, 3), (21, 11, 2, 3, 3), (48, 42, 1, 2, 5)] {
            let mut conv = Conv2d::<f64>::new("c", h, w, cb, cs, (k, k), 2);
            let mut tconv = ConvTranspose2d::<f64>::new("t", h, w, cb, cs, (k, k), 2);
            random_fill(&mut conv.weight.value, &mut rng);
            tconv.weight.value = conv.weight.value.clone();
            let mut u = vec![0.0; conv.geom.in_len()];
            random_fill(&mut u, &mut rng);
            let mut v = vec![0.0; conv.out_len()];
            random_fill(&mut v, &mut rng);
            let cu = conv.forward(&u, 1);
            let tv = tconv.forward(&v, 1);
            assert_eq!(tv.len(), u.len());
            let lhs: f64 = cu.iter().zip(&v).map(|(a, b)| a * b).sum();
            let rhs: f64 = u.iter().zip(&tv).map(|(a, b)| a * b).sum();
            assert!((lhs - rhs).abs() < 1e-9 * (1.0 + lhs.abs()));
        }
    }

    #[test]
    fn backward_matches_finite_differences() {
        for &(h, w, cb, cs, k, n) in &[(6, 6, 1, 2, 3, 2), (21, 21, 2, 3, 3, 1), (12, 11, 2, 3, 3, 2), (7, 9, 1, 2, 5, 1)] {
            let mut t = ConvTranspose2d::<f64>::new("t", h, w, cb, cs, (k, k), 2);
            let in_len = t.in_len();
            check_layer_gradients(
                &mut t,
                n * in_len,
                n,
                |l, x, n| l.forward(x, n),
                |l, dy| l.backward(dy, true).unwrap(),
                &format!("convT {h}x{w} {cs}->{cb} k{k}"),
            );
        }
    }
}
