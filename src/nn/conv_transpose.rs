//! ConvTranspose2d, the adjoint of a SAME convolution (TensorFlow's
//! `conv2d_transpose` with an explicit output shape).
//!
//! The layer maps a small map (h_s × w_s × c_in) to a large one
//! (h_big × w_big × c_out), where the SAME convolution big → small has
//! geometry `geom`. Its filter is TF's [kh, kw, c_out, c_in], read as a
//! (kh·kw·c_out) × c_in matrix F.
//! Forward: y = col2im(x · Fᵀ) + b. Backward: dcols = im2col(dy),
//! dF = dcolsᵀ · x, dx = dcols · F, db = Σ_rows dy.
//! The explicit output size is what crops 16 → 32 and, for Yale B,
//! 6 → 12 × 11 → 24 × 21 → 48 × 42, as the reference code does.

use crate::linalg::reduce::add_column_sums;
use crate::linalg::{Real, Trans};
use crate::nn::conv_geom::{ConvGeom, col2im_batch, im2col_batch};
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

    pub fn forward(&mut self, x: &[T], n: usize) -> Vec<T> {
        let g = self.geom;
        assert_eq!(x.len(), n * self.in_len(), "conv-transpose forward: input size");
        let rows = n * g.p_out();
        let mut cols = vec![T::ZERO; rows * g.k()];
        T::gemm(rows, self.c_in, g.k(), T::ONE, x, Trans::No, &self.weight.value, Trans::Yes, T::ZERO, &mut cols);
        let mut y = col2im_batch(&g, &cols, n);
        let c = g.c_in;
        for px in y.chunks_exact_mut(c) {
            for (v, b) in px.iter_mut().zip(&self.bias.value) {
                *v += *b;
            }
        }
        self.input = x.to_vec();
        self.batch = n;
        y
    }

    pub fn backward(&mut self, dy: &[T], need_dx: bool) -> Option<Vec<T>> {
        let g = self.geom;
        let n = self.batch;
        assert_eq!(dy.len(), n * self.out_len(), "conv-transpose backward: gradient does not match the last forward");
        add_column_sums(dy, n * g.h_in * g.w_in, g.c_in, &mut self.bias.grad);
        let dcols = im2col_batch(&g, dy, n);
        let rows = n * g.p_out();
        T::gemm(g.k(), rows, self.c_in, T::ONE, &dcols, Trans::Yes, &self.input, Trans::No, T::ONE, &mut self.weight.grad);
        if !need_dx {
            return None;
        }
        let mut dx = vec![T::ZERO; rows * self.c_in];
        T::gemm(rows, g.k(), self.c_in, T::ONE, &dcols, Trans::No, &self.weight.value, Trans::No, T::ZERO, &mut dx);
        Some(dx)
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
