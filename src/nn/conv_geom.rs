//! Geometry of a 2-D convolution with TensorFlow "SAME" padding.
//!
//! Layout: images are NHWC (one image = h × w × c, channel fastest), which is
//! what TensorFlow uses, so the flattened latent code has the same order as
//! the reference code's `tf.reshape(z, [n, -1])`. A receptive field is read
//! in (ky, kx, c) order, the order of the TF filter layout [kh, kw, in, out]
//! flattened to a (kh·kw·in) × out matrix.
//!
//! SAME: out = ⌈in / stride⌉, total padding = max((out − 1)·stride + k − in, 0),
//! of which ⌊total/2⌋ goes on top/left and the odd one at the bottom/right.

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
    pub fn source(&self, oy: usize, ox: usize, ky: usize, kx: usize) -> Option<(usize, usize)> {
        let iy = (oy * self.stride + ky) as isize - self.pad_top as isize;
        let ix = (ox * self.stride + kx) as isize - self.pad_left as isize;
        if iy < 0 || ix < 0 || iy >= self.h_in as isize || ix >= self.w_in as isize { None } else { Some((iy as usize, ix as usize)) }
    }
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
}
