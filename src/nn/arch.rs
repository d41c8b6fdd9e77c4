//! The shape of a convolutional autoencoder (DSC-Net / UDLL family): input
//! size, channels and kernel of each stride-2 encoder layer. A plain
//! description, below both the model that builds it and the checkpoint
//! that records it.

use crate::error::{Result, UdllError};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
/// The shape of a convolutional autoencoder.
pub struct AeArch {
    /// Input height.
    pub height: usize,
    /// Input width.
    pub width: usize,
    /// Input channels.
    pub channels_in: usize,
    /// Output channels of each encoder layer.
    pub channels: Vec<usize>,
    /// Square kernel size of each encoder layer (mirrored in the decoder).
    pub kernels: Vec<usize>,
    /// Whether the last decoder layer ends in ReLU (the references do).
    pub final_relu: bool,
}

/// The most parameters an autoencoder may have (8 GiB of f32).
pub const MAX_PARAMETERS: usize = 1 << 31;
/// The most values one image's feature map may have at any layer.
pub const MAX_MAP_VALUES: usize = 1 << 28;

impl AeArch {
    /// At least one layer, one channel count and kernel per layer, all positive.
    pub fn validate(&self) -> Result<()> {
        if self.channels.is_empty() || self.channels.len() != self.kernels.len() {
            return Err(UdllError::config(format!(
                "architecture: {} channel counts for {} kernel sizes (need one of each per layer, at least one layer)",
                self.channels.len(),
                self.kernels.len()
            )));
        }
        if self.channels.iter().chain(&self.kernels).any(|&v| v == 0) || self.height == 0 || self.width == 0 || self.channels_in == 0 {
            return Err(UdllError::config("architecture: every size, channel count and kernel must be positive"));
        }
        // Sizes from a file header or a flag are checked before anything is
        // allocated from them: a checkpoint re-signed with a huge channel
        // count used to abort on a 4 TB allocation.
        match (self.parameter_count(), self.largest_map()) {
            (Some(p), Some(m)) if p <= MAX_PARAMETERS && m <= MAX_MAP_VALUES => Ok(()),
            _ => Err(UdllError::config(format!(
                "architecture {:?} / {:?} on {}×{}×{} images is too large (at most {MAX_PARAMETERS} parameters and {MAX_MAP_VALUES} values per feature map)",
                self.channels, self.kernels, self.height, self.width, self.channels_in
            ))),
        }
    }

    /// Filters and biases of the encoder and the decoder, or None when the
    /// count overflows.
    pub fn parameter_count(&self) -> Option<usize> {
        let mut total = 0usize;
        let mut c_in = self.channels_in;
        for (&c, &k) in self.channels.iter().zip(&self.kernels) {
            let filter = k.checked_mul(k)?.checked_mul(c_in)?.checked_mul(c)?;
            // The encoder's filter and bias, and the mirrored decoder's.
            total = total.checked_add(filter)?.checked_add(c)?.checked_add(filter)?.checked_add(c_in)?;
            c_in = c;
        }
        Some(total)
    }

    /// The most values of one image's feature map at any layer, or None
    /// when it overflows.
    fn largest_map(&self) -> Option<usize> {
        let (mut h, mut w, mut c) = (self.height, self.width, self.channels_in);
        let mut most = h.checked_mul(w)?.checked_mul(c)?;
        for &out in &self.channels {
            (h, w, c) = (h.div_ceil(2), w.div_ceil(2), out);
            most = most.max(h.checked_mul(w)?.checked_mul(c)?);
        }
        Some(most)
    }
    /// (h, w, c) at the input of each encoder layer, then the latent shape.
    pub fn shapes(&self) -> Vec<(usize, usize, usize)> {
        let mut s = vec![(self.height, self.width, self.channels_in)];
        for &c in &self.channels {
            let (h, w, _) = *s.last().unwrap();
            s.push((h.div_ceil(2), w.div_ceil(2), c));
        }
        s
    }
    /// (h, w, c) of the latent code.
    pub fn latent_shape(&self) -> (usize, usize, usize) {
        *self.shapes().last().unwrap()
    }
    /// Values per latent code.
    pub fn latent_dim(&self) -> usize {
        let (h, w, c) = self.latent_shape();
        h * w * c
    }
    /// Values per input image.
    pub fn input_len(&self) -> usize {
        self.height * self.width * self.channels_in
    }
    /// A one-line description, e.g. `32×32×1 → [15@3x3] → latent 16×16×15 = 3840`.
    pub fn describe(&self) -> String {
        let layers: Vec<String> = self.channels.iter().zip(&self.kernels).map(|(c, k)| format!("{c}@{k}x{k}")).collect();
        let (h, w, c) = self.latent_shape();
        format!("{}×{}×{} → [{}] → latent {h}×{w}×{c} = {}", self.height, self.width, self.channels_in, layers.join(", "), self.latent_dim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_checked() {
        let coil = AeArch { height: 32, width: 32, channels_in: 1, channels: vec![15], kernels: vec![3], final_relu: true };
        assert_eq!(coil.parameter_count(), Some(9 * 15 + 15 + 9 * 15 + 1));
        coil.validate().unwrap();
        let huge = AeArch { channels: vec![1 << 40], ..coil.clone() };
        assert!(huge.validate().is_err(), "a 4 TB filter bank is refused before allocation");
        let overflow = AeArch { channels: vec![usize::MAX / 2], kernels: vec![3], ..coil.clone() };
        assert_eq!(overflow.parameter_count(), None);
        assert!(overflow.validate().is_err());
        let wide = AeArch { height: 1 << 20, width: 1 << 20, ..coil };
        assert!(wide.validate().is_err(), "a 2^40-pixel image is refused");
    }
}
