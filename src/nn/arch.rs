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
        Ok(())
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
