//! The shape of a convolutional autoencoder (DSC-Net / UDLL family): input
//! size, channels and kernel of each stride-2 encoder layer. A plain
//! description, below both the model that builds it and the checkpoint
//! that records it.

use crate::error::{Result, UdllError};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AeArch {
    pub height: usize,
    pub width: usize,
    pub channels_in: usize,
    /// Output channels of each encoder layer.
    pub channels: Vec<usize>,
    /// Square kernel size of each encoder layer (mirrored in the decoder).
    pub kernels: Vec<usize>,
    pub final_relu: bool,
}

impl AeArch {
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
    pub fn latent_shape(&self) -> (usize, usize, usize) {
        *self.shapes().last().unwrap()
    }
    pub fn latent_dim(&self) -> usize {
        let (h, w, c) = self.latent_shape();
        h * w * c
    }
    pub fn input_len(&self) -> usize {
        self.height * self.width * self.channels_in
    }
    pub fn describe(&self) -> String {
        let layers: Vec<String> = self.channels.iter().zip(&self.kernels).map(|(c, k)| format!("{c}@{k}x{k}")).collect();
        let (h, w, c) = self.latent_shape();
        format!("{}×{}×{} → [{}] → latent {h}×{w}×{c} = {}", self.height, self.width, self.channels_in, layers.join(", "), self.latent_dim())
    }
}
