//! The convolutional autoencoder of DSC-Net / UDLL: a stack of stride-2
//! SAME convolutions with ReLU, and the mirrored stack of transpose
//! convolutions, each cropped to its encoder layer's input size.
//!
//! Naming follows the reference checkpoints: encoder layer i is `enc{i}`;
//! decoder layer j is `dec{j}` with `dec0` the deepest (applied first to the
//! latent code), so `dec{j}` mirrors `enc{L−1−j}`. Every layer, the last
//! decoder layer included, is followed by ReLU (as the references do;
//! `final_relu = false` drops the last one).

use crate::error::{Result, UdllError};
use crate::io::checkpoint::{Checkpoint, Tensor};
use crate::linalg::Real;
use crate::nn::activation::{relu_backward_in_place, relu_in_place};
pub use crate::nn::arch::AeArch;
use crate::nn::conv_lanes::{from_lanes, to_lanes};
use crate::nn::init::{conv_fans, glorot_uniform};
use crate::nn::{Conv2d, ConvTranspose2d, HasParams, Param};
use crate::rng::Rng;
use std::path::Path;

#[derive(Clone, Debug)]
/// The convolutional autoencoder, with its caches for backward.
pub struct ConvAutoencoder<T: Real> {
    /// Its shape.
    pub arch: AeArch,
    /// Encoder layers, input first.
    pub encoder: Vec<Conv2d<T>>,
    /// Decoder layers, deepest first.
    pub decoder: Vec<ConvTranspose2d<T>>,
    /// Lane-blocked outputs of the last encode / decode (their ReLU masks).
    enc_out: Vec<T>,
    dec_out: Vec<T>,
    /// Images in the last encode / decode (the lane blocks hold no count).
    enc_batch: usize,
    dec_batch: usize,
}

impl<T: Real> ConvAutoencoder<T> {
    /// An autoencoder with all parameters zero (see [`Self::init_glorot`]).
    pub fn new(arch: &AeArch) -> Result<Self> {
        arch.validate()?;
        let shapes = arch.shapes();
        let l = arch.channels.len();
        let encoder = (0..l)
            .map(|i| {
                let (h, w, c) = shapes[i];
                Conv2d::new(&format!("enc{i}"), h, w, c, arch.channels[i], (arch.kernels[i], arch.kernels[i]), 2)
            })
            .collect();
        let decoder = (0..l)
            .map(|j| {
                let i = l - 1 - j;
                let (h, w, c) = shapes[i];
                ConvTranspose2d::new(&format!("dec{j}"), h, w, c, arch.channels[i], (arch.kernels[i], arch.kernels[i]), 2)
            })
            .collect();
        Ok(ConvAutoencoder { arch: arch.clone(), encoder, decoder, enc_out: Vec::new(), dec_out: Vec::new(), enc_batch: 0, dec_batch: 0 })
    }

    /// Glorot-uniform filters (TF's conv2d fans), zero biases, from the
    /// `init` stream of `seed`.
    pub fn init_glorot(&mut self, seed: u64) {
        let rng = Rng::stream(seed, "init");
        for (i, p) in self.params_mut().into_iter().enumerate() {
            if p.shape.len() == 4 {
                let (fi, fo) = conv_fans(&p.shape);
                let mut r = rng.substream("param", i as u64);
                glorot_uniform(&mut p.value, fi, fo, &mut r);
            } else {
                p.value.iter_mut().for_each(|v| *v = T::ZERO);
            }
        }
    }

    /// Values per latent code.
    pub fn latent_dim(&self) -> usize {
        self.arch.latent_dim()
    }

    /// Flip the sign of every encoder filter (one output channel's weights)
    /// whose sum is negative. On non-negative inputs (images, and the ReLU
    /// outputs of the layers below) such a unit starts below zero almost
    /// everywhere, and a ReLU there can stay dead for the whole training.
    /// The Glorot distribution is symmetric, so a flipped filter is still a
    /// Glorot draw. (The DSC-Net reference encoders' filters all have
    /// positive sums.)
    pub fn make_encoder_filter_sums_positive(&mut self) {
        for conv in &mut self.encoder {
            let c_out = conv.c_out;
            for (co, sum) in conv.filter_sums().into_iter().enumerate() {
                if sum < 0.0 {
                    conv.weight.value.iter_mut().skip(co).step_by(c_out).for_each(|v| *v = -*v);
                }
            }
        }
    }

    /// Set every encoder bias to `value` (an initialisation choice).
    pub fn set_encoder_biases(&mut self, value: f64) {
        for c in &mut self.encoder {
            c.bias.value.iter_mut().for_each(|b| *b = T::from_f64(value));
        }
    }

    /// Encode n images (NHWC) to n latent rows; caches for backward.
    /// Inside, the batch is lane-blocked (see `nn::conv_lanes`):
    /// only the network's input and output are converted. The ReLUs work in
    /// place; the output each needs for its backward is the next layer's
    /// cached input, or the kept output of the last layer.
    pub fn encode(&mut self, x: &[T], n: usize) -> Vec<T> {
        assert_eq!(x.len(), n * self.arch.input_len(), "encode: input size");
        self.enc_batch = n;
        let mut h = to_lanes(x, n, self.arch.input_len());
        for conv in &mut self.encoder {
            h = conv.forward_lanes(h);
            relu_in_place(&mut h);
        }
        let z = from_lanes(&h, n, self.latent_dim());
        self.enc_out = h;
        z
    }

    /// Decode n latent rows to n images; caches for backward.
    pub fn decode(&mut self, z: &[T], n: usize) -> Vec<T> {
        assert_eq!(z.len(), n * self.latent_dim(), "decode: latent size");
        self.dec_batch = n;
        let l = self.decoder.len();
        let mut h = to_lanes(z, n, self.latent_dim());
        for (j, t) in self.decoder.iter_mut().enumerate() {
            h = t.forward_lanes(h);
            if j + 1 < l || self.arch.final_relu {
                relu_in_place(&mut h);
            }
        }
        let x = from_lanes(&h, n, self.arch.input_len());
        self.dec_out = h;
        x
    }

    /// Accumulate decoder gradients from dL/dX̂; return dL/dZ.
    pub fn backward_decoder(&mut self, d_recon: &[T]) -> Vec<T> {
        let (l, n) = (self.decoder.len(), self.dec_batch);
        assert_eq!(d_recon.len(), n * self.arch.input_len(), "backward_decoder: gradient does not match the last decode");
        let mut g = to_lanes(d_recon, n, self.arch.input_len());
        for j in (0..l).rev() {
            if j + 1 < l {
                relu_backward_in_place(&mut g, self.decoder[j + 1].input());
            } else if self.arch.final_relu {
                relu_backward_in_place(&mut g, &self.dec_out);
            }
            g = self.decoder[j].backward_lanes(&g, true).expect("dx requested");
        }
        from_lanes(&g, n, self.latent_dim())
    }

    /// Accumulate encoder gradients from dL/dZ. When `need_input_grad`,
    /// return dL/dX (the contractive penalty and tests need it).
    pub fn backward_encoder(&mut self, d_latent: &[T], need_input_grad: bool) -> Option<Vec<T>> {
        let (l, n) = (self.encoder.len(), self.enc_batch);
        assert_eq!(d_latent.len(), n * self.latent_dim(), "backward_encoder: gradient does not match the last encode");
        let mut g = to_lanes(d_latent, n, self.latent_dim());
        for i in (0..l).rev() {
            let y = if i + 1 < l { self.encoder[i + 1].input() } else { &self.enc_out };
            relu_backward_in_place(&mut g, y);
            let need = i > 0 || need_input_grad;
            g = self.encoder[i].backward_lanes(&g, need)?;
        }
        Some(from_lanes(&g, n, self.arch.input_len()))
    }

    /// Forget cached activations (frees memory before saving / inference).
    pub fn clear_cache(&mut self) {
        self.encoder.iter_mut().for_each(|c| c.clear_cache());
        self.decoder.iter_mut().for_each(|c| c.clear_cache());
        self.enc_out = Vec::new();
        self.dec_out = Vec::new();
    }

    /// Latent codes of a whole dataset, in batches (no gradients kept).
    pub fn embed(&mut self, x: &[T], n: usize, batch: usize) -> Vec<T> {
        let d_in = self.arch.input_len();
        let mut out = Vec::with_capacity(n * self.latent_dim());
        for start in (0..n).step_by(batch.max(1)) {
            let m = batch.max(1).min(n - start);
            out.extend(self.encode(&x[start * d_in..(start + m) * d_in], m));
        }
        self.clear_cache();
        out
    }
}

impl<T: Real> HasParams<T> for ConvAutoencoder<T> {
    fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        let mut v: Vec<&mut Param<T>> = Vec::new();
        for c in &mut self.encoder {
            v.extend(c.params_mut());
        }
        for t in &mut self.decoder {
            v.extend(t.params_mut());
        }
        v
    }
    fn params(&self) -> Vec<&Param<T>> {
        let mut v: Vec<&Param<T>> = Vec::new();
        for c in &self.encoder {
            v.extend(c.params());
        }
        for t in &self.decoder {
            v.extend(t.params());
        }
        v
    }
}

/// Checkpoints of this autoencoder (the file format is `io::checkpoint`).
impl Checkpoint {
    /// A checkpoint of `ae`'s parameters, of `kind` ("autoencoder" or "finetuned"), with `meta` as provenance.
    pub fn from_autoencoder(ae: &ConvAutoencoder<f32>, kind: &str, meta: serde_json::Value) -> Self {
        let tensors = ae.params().iter().map(|p| Tensor { name: p.name.clone(), shape: p.shape.clone(), data: p.value.clone() }).collect();
        Checkpoint { kind: kind.to_string(), arch: ae.arch.clone(), meta, tensors }
    }

    /// Rebuild the autoencoder, checking every parameter's shape.
    pub fn autoencoder(&self, path: &Path) -> Result<ConvAutoencoder<f32>> {
        let mut ae = ConvAutoencoder::<f32>::new(&self.arch)?;
        for p in ae.params_mut() {
            let t = self.tensor(&p.name).ok_or_else(|| UdllError::format(path, format!("checkpoint lacks parameter '{}'", p.name)))?;
            if t.shape != p.shape {
                return Err(UdllError::format(path, format!("parameter '{}' has shape {:?}, the architecture needs {:?}", p.name, t.shape, p.shape)));
            }
            p.value.copy_from_slice(&t.data);
        }
        Ok(ae)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::gradcheck::check_layer_gradients;

    #[test]
    fn shapes_follow_the_reference_crops() {
        let a = AeArch { height: 48, width: 42, channels_in: 1, channels: vec![10, 20, 30], kernels: vec![5, 3, 3], final_relu: true };
        assert_eq!(a.shapes(), vec![(48, 42, 1), (24, 21, 10), (12, 11, 20), (6, 6, 30)]);
        let ae = ConvAutoencoder::<f32>::new(&a).unwrap();
        assert_eq!(ae.decoder[0].weight.shape, vec![3, 3, 20, 30]);
        assert_eq!(ae.decoder[2].weight.shape, vec![5, 5, 1, 10]);
        assert_eq!(ae.decoder[2].out_len(), 48 * 42);
        let a = AeArch { height: 32, width: 32, channels_in: 1, channels: vec![15], kernels: vec![3], final_relu: true };
        assert_eq!(a.latent_dim(), 3840);
    }

    #[test]
    fn positive_filter_start_flips_only_negative_encoder_filters() {
        let a = AeArch { height: 12, width: 10, channels_in: 1, channels: vec![6, 8], kernels: vec![3, 3], final_relu: true };
        let mut ae = ConvAutoencoder::<f64>::new(&a).unwrap();
        ae.init_glorot(3);
        let sums = |ae: &ConvAutoencoder<f64>| -> Vec<Vec<f64>> { ae.encoder.iter().map(|c| c.filter_sums()).collect() };
        let before = sums(&ae);
        assert!(before.iter().flatten().any(|s| *s < 0.0), "seed 3 draws some negative filters");
        let dec_before: Vec<Vec<f64>> = ae.decoder.iter().map(|d| d.weight.value.clone()).collect();
        ae.make_encoder_filter_sums_positive();
        let after = sums(&ae);
        for (b, a) in before.iter().flatten().zip(after.iter().flatten()) {
            assert_eq!(*a, b.abs(), "each filter keeps its weights up to sign");
        }
        assert_eq!(ae.decoder.iter().map(|d| d.weight.value.clone()).collect::<Vec<_>>(), dec_before, "decoder untouched");
    }

    #[test]
    fn encoder_bias_init_touches_only_encoder_biases() {
        let arch = AeArch { height: 8, width: 8, channels_in: 1, channels: vec![3, 2], kernels: vec![3, 3], final_relu: true };
        let mut ae = ConvAutoencoder::<f32>::new(&arch).unwrap();
        ae.init_glorot(1);
        let filters: Vec<Vec<f32>> = ae.params().iter().filter(|p| p.shape.len() == 4).map(|p| p.value.clone()).collect();
        ae.set_encoder_biases(0.1);
        for p in ae.params() {
            if p.name.starts_with("enc") && p.name.ends_with("bias") {
                assert!(p.value.iter().all(|&b| b == 0.1f32), "{}", p.name);
            } else if p.name.ends_with("bias") {
                assert!(p.value.iter().all(|&b| b == 0.0), "{}", p.name);
            }
        }
        let after: Vec<Vec<f32>> = ae.params().iter().filter(|p| p.shape.len() == 4).map(|p| p.value.clone()).collect();
        assert_eq!(filters, after);
    }

    #[test]
    fn whole_autoencoder_gradient_matches_finite_differences() {
        let arch = AeArch { height: 9, width: 7, channels_in: 1, channels: vec![3, 2], kernels: vec![3, 3], final_relu: true };
        let mut ae = ConvAutoencoder::<f64>::new(&arch).unwrap();
        let n = 2;
        check_layer_gradients(
            &mut ae,
            n * arch.input_len(),
            n,
            |m, x, n| {
                let z = m.encode(x, n);
                m.decode(&z, n)
            },
            |m, dy| {
                let dz = m.backward_decoder(dy);
                m.backward_encoder(&dz, true).unwrap()
            },
            "autoencoder",
        );
    }
}
