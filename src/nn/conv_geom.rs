//! Geometry of a 2-D convolution with TensorFlow "SAME" padding, and the
//! im2col / col2im kernels over it.
//!
//! Layout: images are NHWC (one image = h × w × c, channel fastest), which is
//! what TensorFlow uses, so the flattened latent code has the same order as
//! the reference code's `tf.reshape(z, [n, -1])`. A column row holds the
//! receptive field in (ky, kx, c) order, which is the TF filter layout
//! [kh, kw, in, out] flattened to a (kh·kw·in) × out matrix.
//!
//! SAME: out = ⌈in / stride⌉, total padding = max((out − 1)·stride + k − in, 0),
//! of which ⌊total/2⌋ goes on top/left and the odd one at the bottom/right.

use crate::linalg::Real;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvGeom {
    pub h_in: usize,
    pub w_in: usize,
    pub c_in: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride: usize,
    pub h_out: usize,
    pub w_out: usize,
    pub pad_top: usize,
    pub pad_left: usize,
}

impl ConvGeom {
    pub fn same(h_in: usize, w_in: usize, c_in: usize, kh: usize, kw: usize, stride: usize) -> Self {
        assert!(stride > 0 && kh > 0 && kw > 0);
        let h_out = h_in.div_ceil(stride);
        let w_out = w_in.div_ceil(stride);
        let pad_h = ((h_out.saturating_sub(1)) * stride + kh).saturating_sub(h_in);
        let pad_w = ((w_out.saturating_sub(1)) * stride + kw).saturating_sub(w_in);
        ConvGeom { h_in, w_in, c_in, kh, kw, stride, h_out, w_out, pad_top: pad_h / 2, pad_left: pad_w / 2 }
    }
    /// Length of one column row: kh · kw · c_in.
    pub fn k(&self) -> usize {
        self.kh * self.kw * self.c_in
    }
    /// Output positions per image.
    pub fn p_out(&self) -> usize {
        self.h_out * self.w_out
    }
    /// Input values per image.
    pub fn in_len(&self) -> usize {
        self.h_in * self.w_in * self.c_in
    }

    /// The input coordinate a kernel tap reads, or None in the padding.
    #[inline]
    fn source(&self, oy: usize, ox: usize, ky: usize, kx: usize) -> Option<(usize, usize)> {
        let iy = (oy * self.stride + ky) as isize - self.pad_top as isize;
        let ix = (ox * self.stride + kx) as isize - self.pad_left as isize;
        if iy < 0 || ix < 0 || iy >= self.h_in as isize || ix >= self.w_in as isize {
            None
        } else {
            Some((iy as usize, ix as usize))
        }
    }
}

/// One image → its (p_out × k) column matrix.
pub fn im2col<T: Real>(g: &ConvGeom, x: &[T], cols: &mut [T]) {
    debug_assert_eq!(x.len(), g.in_len());
    debug_assert_eq!(cols.len(), g.p_out() * g.k());
    let (k, c) = (g.k(), g.c_in);
    for oy in 0..g.h_out {
        for ox in 0..g.w_out {
            let row = &mut cols[(oy * g.w_out + ox) * k..][..k];
            for ky in 0..g.kh {
                for kx in 0..g.kw {
                    let dst = &mut row[(ky * g.kw + kx) * c..][..c];
                    match g.source(oy, ox, ky, kx) {
                        Some((iy, ix)) => dst.copy_from_slice(&x[(iy * g.w_in + ix) * c..][..c]),
                        None => dst.iter_mut().for_each(|v| *v = T::ZERO),
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: scatter-add a column matrix into one image.
pub fn col2im_add<T: Real>(g: &ConvGeom, cols: &[T], x: &mut [T]) {
    debug_assert_eq!(x.len(), g.in_len());
    let (k, c) = (g.k(), g.c_in);
    for oy in 0..g.h_out {
        for ox in 0..g.w_out {
            let row = &cols[(oy * g.w_out + ox) * k..][..k];
            for ky in 0..g.kh {
                for kx in 0..g.kw {
                    if let Some((iy, ix)) = g.source(oy, ox, ky, kx) {
                        let src = &row[(ky * g.kw + kx) * c..][..c];
                        for (d, s) in x[(iy * g.w_in + ix) * c..][..c].iter_mut().zip(src) {
                            *d += *s;
                        }
                    }
                }
            }
        }
    }
}

/// im2col of a batch of n images, parallel over images (disjoint outputs).
pub fn im2col_batch<T: Real>(g: &ConvGeom, x: &[T], n: usize) -> Vec<T> {
    assert_eq!(x.len(), n * g.in_len(), "im2col: batch has {} values, expected {n} × {}", x.len(), g.in_len());
    let per = g.p_out() * g.k();
    let mut cols = vec![T::ZERO; n * per];
    if per == 0 {
        return cols;
    }
    cols.par_chunks_mut(per).zip(x.par_chunks(g.in_len())).for_each(|(c, img)| im2col(g, img, c));
    cols
}

/// col2im of a batch, parallel over images; each image is summed in a
/// fixed sequential order, so the result does not depend on threads.
pub fn col2im_batch<T: Real>(g: &ConvGeom, cols: &[T], n: usize) -> Vec<T> {
    let per = g.p_out() * g.k();
    assert_eq!(cols.len(), n * per);
    let mut x = vec![T::ZERO; n * g.in_len()];
    if g.in_len() == 0 {
        return x;
    }
    x.par_chunks_mut(g.in_len()).zip(cols.par_chunks(per.max(1))).for_each(|(img, c)| col2im_add(g, c, img));
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_matches_tensorflow() {
        // TF: 32 → 16 with k=3: total pad 1, top 0, bottom 1.
        let g = ConvGeom::same(32, 32, 1, 3, 3, 2);
        assert_eq!((g.h_out, g.pad_top), (16, 0));
        // 21 → 11 with k=3: total pad (10·2 + 3 − 21) = 2, top 1.
        let g = ConvGeom::same(21, 21, 1, 3, 3, 2);
        assert_eq!((g.h_out, g.pad_top), (11, 1));
        // 48 → 24 with k=5: total (23·2 + 5 − 48) = 3, top 1.
        let g = ConvGeom::same(48, 42, 1, 5, 5, 2);
        assert_eq!((g.h_out, g.w_out, g.pad_top, g.pad_left), (24, 21, 1, 1));
    }

    #[test]
    fn col2im_is_the_adjoint_of_im2col() {
        // <im2col(x), c> == <x, col2im(c)> for random x, c.
        let g = ConvGeom::same(7, 5, 2, 3, 3, 2);
        let mut r = crate::rng::Rng::stream(0, "adjoint");
        let x: Vec<f64> = (0..g.in_len()).map(|_| r.normal()).collect();
        let c: Vec<f64> = (0..g.p_out() * g.k()).map(|_| r.normal()).collect();
        let mut cx = vec![0.0; c.len()];
        im2col(&g, &x, &mut cx);
        let mut xc = vec![0.0; x.len()];
        col2im_add(&g, &c, &mut xc);
        let lhs: f64 = cx.iter().zip(&c).map(|(a, b)| a * b).sum();
        let rhs: f64 = x.iter().zip(&xc).map(|(a, b)| a * b).sum();
        assert!((lhs - rhs).abs() < 1e-10);
    }
}
