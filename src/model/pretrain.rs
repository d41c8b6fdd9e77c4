//! Pretraining the autoencoder on reconstruction (UDLL Eq. 1):
//! min ½‖X − g(f(X))‖²_F with Adam, full batch or mini-batch.
//! Mini-batches are drawn by a shuffle from the `shuffle` stream of the
//! seed, one permutation per epoch.

use crate::error::{Result, UdllError};
use crate::model::autoencoder::ConvAutoencoder;
use crate::nn::loss::squared_error;
use crate::nn::{Adam, HasParams};
use crate::progress::Progress;
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PretrainConfig {
    pub epochs: usize,
    /// Images per Adam step; 0 means the whole dataset (full batch).
    pub batch_size: usize,
    pub lr: f64,
    pub seed: u64,
    /// Initial value of every encoder bias (0 = TensorFlow's default). A
    /// small positive value keeps ReLU channels whose random filter sums
    /// to a negative number from starting, and staying, dead on the
    /// non-negative images.
    #[serde(default)]
    pub encoder_bias_init: f64,
}

impl PretrainConfig {
    pub fn validate(&self) -> Result<()> {
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(UdllError::config(format!("pretrain learning rate must be positive, got {}", self.lr)));
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct PretrainReport {
    /// Mean per-image ½‖x − x̂‖² over each epoch (as trained, before the
    /// epoch's last update for full batch).
    pub epoch_loss: Vec<f64>,
    pub seconds: f64,
}

/// Train `ae` on `x` (n images, already at the preset's input scale).
pub fn pretrain(ae: &mut ConvAutoencoder<f32>, x: &[f32], n: usize, cfg: &PretrainConfig, quiet: bool) -> Result<PretrainReport> {
    cfg.validate()?;
    let d = ae.arch.input_len();
    if x.len() != n * d || n == 0 {
        return Err(UdllError::shape(format!("pretrain: {} values for {n} images of {d} pixels", x.len())));
    }
    let batch = if cfg.batch_size == 0 { n } else { cfg.batch_size.min(n) };
    let mut adam = Adam::new(cfg.lr);
    let mut shuffle = Rng::stream(cfg.seed, "shuffle");
    let mut order: Vec<usize> = (0..n).collect();
    let progress = Progress::new("pretrain", cfg.epochs, quiet);
    let mut epoch_loss = Vec::with_capacity(cfg.epochs);
    let mut xb = Vec::with_capacity(batch * d);
    for epoch in 1..=cfg.epochs {
        if batch < n {
            shuffle.shuffle(&mut order);
        }
        let mut total = 0.0;
        for chunk in order.chunks(batch) {
            let m = chunk.len();
            let xs: &[f32] = if batch == n {
                x
            } else {
                xb.clear();
                for &i in chunk {
                    xb.extend_from_slice(&x[i * d..(i + 1) * d]);
                }
                &xb
            };
            ae.zero_grad();
            let z = ae.encode(xs, m);
            let recon = ae.decode(&z, m);
            let (loss, grad) = squared_error(&recon, xs, 0.5);
            if !loss.is_finite() {
                return Err(UdllError::Numeric(format!("pretrain: the loss became {loss} at epoch {epoch}; lower the learning rate")));
            }
            total += loss;
            let dz = ae.backward_decoder(&grad);
            ae.backward_encoder(&dz, false);
            adam.update(&mut ae.params_mut());
        }
        let mean = total / n as f64;
        epoch_loss.push(mean);
        progress.update(epoch, &format!("recon {mean:.5} per image"));
    }
    ae.clear_cache();
    Ok(PretrainReport { epoch_loss, seconds: progress.seconds() })
}
