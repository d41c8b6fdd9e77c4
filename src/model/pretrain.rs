//! Pretraining the autoencoder on reconstruction (UDLL Eq. 1):
//! min ½‖X − g(f(X))‖²_F with Adam, full batch or mini-batch.
//! Mini-batches are drawn by a shuffle from the `shuffle` stream of the
//! seed, one permutation per epoch.

use crate::error::{Result, UdllError};
use crate::model::autoencoder::ConvAutoencoder;
use crate::model::reconstruction_step::{Workspaces, reconstruction_step};
use crate::model::regularizers::corrupt;
use crate::nn::conv_lanes::{rows_to_lanes, to_lanes};
use crate::nn::{Adam, HasParams};
use crate::progress::{Observer, Progress};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
/// Settings of the reconstruction pretraining.
pub struct PretrainConfig {
    /// Passes over the data.
    pub epochs: usize,
    /// Images per Adam step; 0 means the whole dataset (full batch).
    pub batch_size: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Initial value of every encoder bias (0 = TensorFlow's default). A
    /// small positive value keeps ReLU channels whose random filter sums
    /// to a negative number from starting, and staying, dead on the
    /// non-negative images.
    #[serde(default)]
    pub encoder_bias_init: f64,
    /// Sparse conv autoencoder: λ of λ‖z‖₁ on the latent code (0: off).
    /// Zero values are not serialised, so checkpoints of plain runs keep
    /// their bytes.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub sparse: f64,
    /// Denoising conv autoencoder: probability of zeroing an input pixel.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub mask_rate: f64,
    /// Denoising conv autoencoder: σ of additive Gaussian input noise.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub noise_sigma: f64,
    /// Start every encoder filter with a non-negative sum (see
    /// [`ConvAutoencoder::make_encoder_filter_sums_positive`]). Not
    /// serialised when off, so checkpoints of other runs keep their bytes.
    #[serde(default, skip_serializing_if = "is_false")]
    pub positive_filters: bool,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

fn is_false(v: &bool) -> bool {
    !*v
}

impl PretrainConfig {
    /// The settings as manifests and checkpoints record them: with the
    /// run's seed among them as `seed`, the form these files have always
    /// had (the seed itself is held once, by the run's params).
    pub fn record(&self, seed: u64) -> serde_json::Value {
        let mut v = serde_json::to_value(self).expect("pretraining settings serialise");
        v["seed"] = seed.into();
        v
    }

    /// Learning rate > 0, penalties ≥ 0, mask rate in [0, 1).
    pub fn validate(&self) -> Result<()> {
        // Zero epochs would cluster with untrained weights and report it
        // as a result; a run that should skip pretraining starts from a
        // checkpoint instead.
        if self.epochs == 0 {
            return Err(UdllError::config("pretraining needs at least one epoch (to skip it, start from a checkpoint)"));
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(UdllError::config(format!("pretrain learning rate must be positive, got {}", self.lr)));
        }
        if !(self.sparse >= 0.0 && self.noise_sigma >= 0.0 && self.sparse.is_finite() && self.noise_sigma.is_finite()) {
            return Err(UdllError::config("pretrain sparse λ and noise σ must be ≥ 0"));
        }
        if !(0.0..1.0).contains(&self.mask_rate) {
            return Err(UdllError::config(format!("pretrain mask rate must be in [0, 1), got {}", self.mask_rate)));
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Serialize)]
/// The pretraining log.
pub struct PretrainReport {
    /// Mean per-image ½‖x − x̂‖² over each epoch (as trained, before the
    /// epoch's last update for full batch).
    pub epoch_loss: Vec<f64>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Train `ae` on `x` (n images, already at the preset's input scale). With
/// `mask_rate`/`noise_sigma` the encoder sees a corrupted image and the
/// clean one is the target (denoising); with `sparse` the latent code pays
/// λ‖z‖₁ (sparse). Both draw nothing when off, so plain runs are unchanged.
pub fn pretrain(ae: &mut ConvAutoencoder<f32>, x: &[f32], n: usize, cfg: &PretrainConfig, seed: u64, observer: &dyn Observer) -> Result<PretrainReport> {
    cfg.validate()?;
    let d = ae.arch.input_len();
    if x.len() != n * d || n == 0 {
        return Err(UdllError::shape(format!("pretrain: {} values for {n} images of {d} pixels", x.len())));
    }
    let batch = if cfg.batch_size == 0 { n } else { cfg.batch_size.min(n) };
    let mut adam = Adam::new(cfg.lr);
    let mut shuffle = Rng::stream(seed, "shuffle");
    let mut order: Vec<usize> = (0..n).collect();
    let progress = Progress::new("pretrain", cfg.epochs, observer);
    let mut epoch_loss = Vec::with_capacity(cfg.epochs);
    let mut xb = Vec::with_capacity(batch * d);
    let mut noise = Rng::stream(seed, "corruption");
    let denoising = cfg.mask_rate > 0.0 || cfg.noise_sigma > 0.0;
    // Full batch: the same lane-blocked target every step.
    let full_lanes = (batch == n).then(|| to_lanes(x, n, d));
    let workspaces = Workspaces::default();
    for epoch in 1..=cfg.epochs {
        if batch < n {
            shuffle.shuffle(&mut order);
        }
        let mut total = 0.0;
        for chunk in order.chunks(batch) {
            let m = chunk.len();
            let target = match &full_lanes {
                Some(t) => t,
                None => &rows_to_lanes(x, d, chunk),
            };
            ae.zero_grad();
            let loss = if denoising {
                let xs: &[f32] = if batch == n {
                    x
                } else {
                    xb.clear();
                    for &i in chunk {
                        xb.extend_from_slice(&x[i * d..(i + 1) * d]);
                    }
                    &xb
                };
                let input = to_lanes(&corrupt(xs, cfg.mask_rate, cfg.noise_sigma, &mut noise), m, d);
                reconstruction_step(ae, &input, target, m, cfg.sparse, &workspaces)
            } else {
                reconstruction_step(ae, target, target, m, cfg.sparse, &workspaces)
            };
            if !loss.is_finite() {
                return Err(UdllError::Numeric(format!("pretrain: the loss became {loss} at epoch {epoch}; lower the learning rate")));
            }
            total += loss;
            adam.update(&mut ae.params_mut());
        }
        let mean = total / n as f64;
        if let Some(&first) = epoch_loss.first()
            && crate::model::diverged(first, mean)
        {
            return Err(UdllError::Numeric(format!(
                "pretrain diverged: the reconstruction loss rose from {first:.4e} per image at epoch 1 to {mean:.4e} at epoch {epoch}; lower the learning rate"
            )));
        }
        epoch_loss.push(mean);
        progress.update(epoch, &format!("recon {mean:.5} per image"));
    }
    ae.clear_cache();
    Ok(PretrainReport { epoch_loss, seconds: progress.seconds() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::autoencoder::AeArch;

    fn run(cfg: &PretrainConfig) -> (Vec<f64>, Vec<f32>) {
        let arch = AeArch { height: 8, width: 8, channels_in: 1, channels: vec![3], kernels: vec![3], final_relu: true };
        let mut ae = ConvAutoencoder::<f32>::new(&arch).unwrap();
        ae.init_glorot(1);
        ae.set_encoder_biases(0.1);
        let x: Vec<f32> = (0..12 * 64).map(|i| ((i * 37 % 64) as f32) / 64.0).collect();
        let r = pretrain(&mut ae, &x, 12, cfg, 0, &crate::progress::Silent).unwrap();
        (r.epoch_loss, ae.embed(&x, 12, 12))
    }

    /// Sparse and denoising pretraining change the model, are seeded, and
    /// off by default (the default serialises as before).
    #[test]
    fn sparse_and_denoising_options() {
        let plain = PretrainConfig {
            epochs: 5,
            batch_size: 4,
            lr: 1e-2,
            encoder_bias_init: 0.1,
            sparse: 0.0,
            mask_rate: 0.0,
            noise_sigma: 0.0,
            positive_filters: false,
        };
        let (lp, zp) = run(&plain);
        let sparse = PretrainConfig { sparse: 0.5, ..plain.clone() };
        let (_, zs) = run(&sparse);
        let l1 = |z: &[f32]| z.iter().map(|v| v.abs() as f64).sum::<f64>();
        assert!(l1(&zs) < l1(&zp), "the sparse code is smaller in L1");
        let dae = PretrainConfig { mask_rate: 0.3, noise_sigma: 0.05, ..plain.clone() };
        let (la, _) = run(&dae);
        assert_eq!(run(&dae).0, la, "seeded");
        assert_ne!(la, lp);
        let json = serde_json::to_string(&plain).unwrap();
        assert!(!json.contains("sparse") && !json.contains("mask_rate") && !json.contains("positive_filters"), "{json}");
        assert!(PretrainConfig { mask_rate: 1.0, ..plain }.validate().is_err());
    }
}
