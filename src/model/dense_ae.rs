//! Regularised dense (MLP) autoencoders of the autoencoders lecture:
//! undercomplete, sparse (λ‖h‖₁), denoising (masking noise and/or additive
//! Gaussian noise on the input, the clean input as target) and contractive
//! (λ‖∂h/∂x‖²_F, one-layer encoder so its closed form applies).
//!
//! Encoder: Dense + ReLU per hidden layer, then Dense + the code activation
//! (sigmoid or ReLU). Decoder: the mirror, Dense + ReLU per hidden layer,
//! then Dense to the pixels, read as logits of a sigmoid. Reconstruction is
//! binary cross-entropy on those logits (pixels in [0, 1]) or ½‖x − σ(l)‖².
//! The objective is the batch mean of reconstruction + penalties.

use crate::error::{Result, UdllError};
use crate::linalg::Real;
use crate::model::regularizers::{CodeActivation, contractive, corrupt, sparse_l1};
use crate::nn::activation::{Relu, Sigmoid};
use crate::nn::init::glorot_uniform;
use crate::nn::loss::{bce_with_logits, squared_error};
use crate::nn::{Adam, Dense, HasParams, Param};
use crate::progress::{Observer, Progress};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReconLoss {
    /// Binary cross-entropy of σ(logits) against the pixels.
    CrossEntropy,
    /// ½‖x − σ(logits)‖².
    SquaredError,
}

impl ReconLoss {
    /// The batch sum of this loss between σ(logits) and `target`, and its
    /// gradient with respect to the logits.
    pub fn of_logits<T: Real>(self, logits: &[T], target: &[T]) -> (f64, Vec<T>) {
        match self {
            ReconLoss::CrossEntropy => bce_with_logits(logits, target),
            ReconLoss::SquaredError => {
                let mut s = Sigmoid::new();
                let p = s.forward(logits);
                let (l, gp) = squared_error(&p, target, 0.5);
                (l, s.backward(&gp))
            }
        }
    }
}

/// The rows `idx` of the row-major n × d matrix `x`, in that order (a
/// mini-batch).
pub fn gather_rows<T: Copy>(x: &[T], idx: &[usize], d: usize) -> Vec<T> {
    idx.iter().flat_map(|&i| x[i * d..(i + 1) * d].iter().copied()).collect()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DenseAeConfig {
    /// Encoder widths; the last is the code size (e.g. [256, 64]).
    pub layers: Vec<usize>,
    pub code_activation: CodeActivation,
    pub loss: ReconLoss,
    /// λ of the sparse penalty λ‖h‖₁ (0: off).
    pub sparse: f64,
    /// λ of the contractive penalty λ‖∂h/∂x‖²_F (0: off).
    pub contractive: f64,
    /// Denoising: each input pixel set to 0 with this probability.
    pub mask_rate: f64,
    /// Denoising: standard deviation of additive Gaussian noise.
    pub noise_sigma: f64,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub seed: u64,
}

impl DenseAeConfig {
    /// The four variants of the lecture with this crate's defaults.
    pub fn variant(name: &str) -> Result<Self> {
        let mut c = DenseAeConfig {
            layers: vec![256, 64],
            code_activation: CodeActivation::Sigmoid,
            loss: ReconLoss::CrossEntropy,
            sparse: 0.0,
            contractive: 0.0,
            mask_rate: 0.0,
            noise_sigma: 0.0,
            epochs: 200,
            batch_size: 64,
            lr: 1e-3,
            seed: 0,
        };
        match name {
            "ae" => {}
            "sparse-ae" => c.sparse = 0.05,
            "denoising-ae" => c.mask_rate = 0.3,
            "contractive-ae" => {
                c.layers = vec![256];
                c.contractive = 0.1;
            }
            _ => return Err(UdllError::config(format!("unknown autoencoder variant '{name}' (ae, sparse-ae, denoising-ae, contractive-ae)"))),
        }
        Ok(c)
    }

    pub fn check(&self) -> Result<()> {
        let bad = |m: String| Err(UdllError::config(m));
        if self.layers.is_empty() || self.layers.contains(&0) {
            return bad(format!("layer widths must be positive, got {:?}", self.layers));
        }
        if self.contractive > 0.0 && self.layers.len() != 1 {
            return bad("the contractive penalty needs a one-layer encoder (its closed form)".into());
        }
        for (name, v) in [("sparse λ", self.sparse), ("contractive λ", self.contractive), ("noise σ", self.noise_sigma)] {
            if !(v >= 0.0 && v.is_finite()) {
                return bad(format!("{name} must be ≥ 0, got {v}"));
            }
        }
        if !(0.0..1.0).contains(&self.mask_rate) {
            return bad(format!("mask rate must be in [0, 1), got {}", self.mask_rate));
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return bad(format!("learning rate must be positive, got {}", self.lr));
        }
        Ok(())
    }
}

enum Act<T> {
    Relu(Relu<T>),
    Sigmoid(Sigmoid<T>),
}

impl<T: Real> Act<T> {
    fn forward(&mut self, x: &[T]) -> Vec<T> {
        match self {
            Act::Relu(a) => a.forward(x),
            Act::Sigmoid(a) => a.forward(x),
        }
    }
    fn backward(&self, dy: &[T]) -> Vec<T> {
        match self {
            Act::Relu(a) => a.backward(dy),
            Act::Sigmoid(a) => a.backward(dy),
        }
    }
}

pub struct DenseAutoencoder<T: Real> {
    pub cfg: DenseAeConfig,
    enc: Vec<Dense<T>>,
    enc_act: Vec<Act<T>>,
    dec: Vec<Dense<T>>,
    dec_act: Vec<Act<T>>,
}

/// One batch's objective, per term (sums over the batch).
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct DenseAeLoss {
    pub reconstruction: f64,
    pub sparse: f64,
    pub contractive: f64,
    /// A caller's extra term on the code (GR-DNN's graph reconstruction).
    pub extra: f64,
}

impl DenseAeLoss {
    pub fn total(&self) -> f64 {
        self.reconstruction + self.sparse + self.contractive + self.extra
    }
}

impl<T: Real> DenseAutoencoder<T> {
    pub fn new(d_in: usize, cfg: &DenseAeConfig) -> Result<Self> {
        cfg.check()?;
        let mut widths = vec![d_in];
        widths.extend_from_slice(&cfg.layers);
        let l = cfg.layers.len();
        let enc = (0..l).map(|i| Dense::new(&format!("enc{i}"), widths[i], widths[i + 1])).collect();
        let enc_act = (0..l)
            .map(|i| if i + 1 < l || cfg.code_activation == CodeActivation::Relu { Act::Relu(Relu::new()) } else { Act::Sigmoid(Sigmoid::new()) })
            .collect();
        let dec = (0..l).map(|i| Dense::new(&format!("dec{i}"), widths[l - i], widths[l - i - 1])).collect();
        let dec_act = (0..l.saturating_sub(1)).map(|_| Act::Relu(Relu::new())).collect();
        Ok(DenseAutoencoder { cfg: cfg.clone(), enc, enc_act, dec, dec_act })
    }

    pub fn code_dim(&self) -> usize {
        *self.cfg.layers.last().unwrap()
    }

    /// Glorot weights, zero biases, from the `init` stream of the seed.
    pub fn init_glorot(&mut self, seed: u64) {
        let mut rng = Rng::stream(seed, "dense-ae-init");
        for layer in self.enc.iter_mut().chain(self.dec.iter_mut()) {
            let (i, o) = (layer.d_in, layer.d_out);
            glorot_uniform(&mut layer.weight.value, i, o, &mut rng);
        }
    }

    pub fn encode(&mut self, x: &[T], n: usize) -> Vec<T> {
        let mut h = x.to_vec();
        for (layer, act) in self.enc.iter_mut().zip(self.enc_act.iter_mut()) {
            h = act.forward(&layer.forward(&h, n));
        }
        h
    }

    /// Logits of the reconstruction.
    pub fn decode_logits(&mut self, h: &[T], n: usize) -> Vec<T> {
        let mut y = h.to_vec();
        let l = self.dec.len();
        for i in 0..l {
            y = self.dec[i].forward(&y, n);
            if i + 1 < l {
                y = self.dec_act[i].forward(&y);
            }
        }
        y
    }

    /// Forward on `input` (possibly corrupted), loss against `target`, and
    /// the gradients of the batch-mean objective accumulated into the
    /// parameters.
    pub fn loss_and_backward(&mut self, input: &[T], target: &[T], n: usize) -> DenseAeLoss {
        self.loss_and_backward_with(input, target, n, |_| None)
    }

    /// As [`Self::loss_and_backward`], plus an extra term on the code:
    /// `code_term(h)` returns (its batch sum, the gradient of its batch
    /// mean with respect to h), e.g. the graph pathway of GR-DNN. Its value
    /// is returned in `extra`.
    pub fn loss_and_backward_with(&mut self, input: &[T], target: &[T], n: usize, mut code_term: impl FnMut(&[T]) -> Option<(f64, Vec<T>)>) -> DenseAeLoss {
        let h = self.encode(input, n);
        let logits = self.decode_logits(&h, n);
        let (recon, mut g) = self.cfg.loss.of_logits(&logits, target);
        let inv_n = T::from_f64(1.0 / n as f64);
        g.iter_mut().for_each(|v| *v *= inv_n);
        let mut g = self.backward_decoder(g);
        // Terms on the code.
        let mut out = DenseAeLoss { reconstruction: recon, ..Default::default() };
        if let Some((value, gh)) = code_term(&h) {
            out.extra = value;
            g.iter_mut().zip(gh).for_each(|(a, b)| *a += b);
        }
        if self.cfg.sparse > 0.0 {
            let (p, gs) = sparse_l1(&h, self.cfg.sparse);
            out.sparse = p;
            g.iter_mut().zip(gs).for_each(|(a, b)| *a += b * inv_n);
        }
        let last = self.enc.len() - 1;
        let mut g_a = self.enc_act[last].backward(&g);
        if self.cfg.contractive > 0.0 {
            let layer = &mut self.enc[last];
            let (p, d_a, d_w) = contractive(&h, n, &layer.weight.value, layer.d_in, layer.d_out, self.cfg.code_activation, self.cfg.contractive);
            out.contractive = p;
            g_a.iter_mut().zip(d_a).for_each(|(a, b)| *a += b * inv_n);
            layer.weight.grad.iter_mut().zip(d_w).for_each(|(a, b)| *a += b * inv_n);
        }
        self.backward_encoder_preact(g_a, false);
        out
    }

    /// Backward through the decoder from dL/d(logits); accumulates its
    /// gradients and returns dL/dh.
    pub fn backward_decoder(&mut self, d_logits: Vec<T>) -> Vec<T> {
        let mut g = d_logits;
        let l = self.dec.len();
        for i in (0..l).rev() {
            if i + 1 < l {
                g = self.dec_act[i].backward(&g);
            }
            g = self.dec[i].backward(&g, true).expect("dx requested");
        }
        g
    }

    /// Backward through the whole encoder from dL/dh (no penalties);
    /// returns dL/dx when asked.
    pub fn backward_encoder(&mut self, dh: &[T], need_dx: bool) -> Option<Vec<T>> {
        let last = self.enc.len() - 1;
        let g_a = self.enc_act[last].backward(dh);
        self.backward_encoder_preact(g_a, need_dx)
    }

    /// Backward from dL/d(pre-activation of the code layer).
    fn backward_encoder_preact(&mut self, g_a: Vec<T>, need_dx: bool) -> Option<Vec<T>> {
        let mut ga = g_a;
        for i in (0..self.enc.len()).rev() {
            let dx = self.enc[i].backward(&ga, i > 0 || need_dx);
            match dx {
                Some(dx) if i > 0 => ga = self.enc_act[i - 1].backward(&dx),
                other => return other,
            }
        }
        None
    }
}

impl<T: Real> DenseAutoencoder<T> {
    /// The encoder's parameters only (AME-AE updates them apart).
    pub fn encoder_params_mut(&mut self) -> Vec<&mut Param<T>> {
        self.enc.iter_mut().flat_map(|l| l.params_mut()).collect()
    }
    /// The decoder's parameters only.
    pub fn decoder_params_mut(&mut self) -> Vec<&mut Param<T>> {
        self.dec.iter_mut().flat_map(|l| l.params_mut()).collect()
    }
}

impl<T: Real> HasParams<T> for DenseAutoencoder<T> {
    fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        self.enc.iter_mut().chain(self.dec.iter_mut()).flat_map(|l| l.params_mut()).collect()
    }
    fn params(&self) -> Vec<&Param<T>> {
        self.enc.iter().chain(self.dec.iter()).flat_map(|l| l.params()).collect()
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct DenseAeReport {
    /// Mean per-sample objective per epoch (reconstruction + penalties).
    pub epoch_loss: Vec<f64>,
    pub seconds: f64,
}

impl DenseAeReport {
    /// `losses.csv`: `epoch,loss_per_sample`.
    pub fn to_csv(&self) -> String {
        let mut csv = String::from("epoch,loss_per_sample\n");
        self.epoch_loss.iter().enumerate().for_each(|(i, l)| csv += &format!("{},{l:e}\n", i + 1));
        csv
    }
}

/// Train on x (n × d pixels in [0, 1]) with mini-batch Adam; deterministic
/// from the seed (init, shuffle and corruption streams).
pub fn train_dense_ae(x: &[f32], n: usize, d: usize, cfg: &DenseAeConfig, observer: &dyn Observer) -> Result<(DenseAutoencoder<f32>, DenseAeReport)> {
    if x.len() != n * d || n == 0 {
        return Err(UdllError::shape(format!("autoencoder: {} values for {n} samples of {d}", x.len())));
    }
    let mut ae = DenseAutoencoder::<f32>::new(d, cfg)?;
    ae.init_glorot(cfg.seed);
    let batch = if cfg.batch_size == 0 { n } else { cfg.batch_size.min(n) };
    let mut adam = Adam::new(cfg.lr);
    let mut shuffle = Rng::stream(cfg.seed, "shuffle");
    let mut noise = Rng::stream(cfg.seed, "corruption");
    let mut order: Vec<usize> = (0..n).collect();
    let progress = Progress::new("autoencoder", cfg.epochs, observer);
    let mut epoch_loss = Vec::with_capacity(cfg.epochs);
    let denoising = cfg.mask_rate > 0.0 || cfg.noise_sigma > 0.0;
    for epoch in 1..=cfg.epochs {
        shuffle.shuffle(&mut order);
        let mut total = 0.0;
        for chunk in order.chunks(batch) {
            let m = chunk.len();
            let xb = gather_rows(x, chunk, d);
            let input = if denoising { corrupt(&xb, cfg.mask_rate, cfg.noise_sigma, &mut noise) } else { xb.clone() };
            ae.zero_grad();
            let l = ae.loss_and_backward(&input, &xb, m);
            let sum = l.total();
            if !sum.is_finite() {
                return Err(UdllError::Numeric(format!("autoencoder: the loss became {sum} at epoch {epoch}; lower the learning rate")));
            }
            total += sum;
            adam.update(&mut ae.params_mut());
        }
        let mean = total / n as f64;
        epoch_loss.push(mean);
        progress.update(epoch, &format!("loss {mean:.4} per sample"));
    }
    Ok((ae, DenseAeReport { epoch_loss, seconds: progress.seconds() }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::gradcheck::check_gradient;

    /// The whole objective's gradient (every parameter) against finite
    /// differences, for each variant and both losses and code activations.
    #[test]
    fn objective_gradients_match_finite_differences() {
        let (n, d) = (4, 6);
        let mut r = Rng::from_seed(21);
        let x: Vec<f64> = (0..n * d).map(|_| r.uniform()).collect();
        let input: Vec<f64> = x.iter().map(|v| v + 0.1 * r.normal()).collect();
        let base = DenseAeConfig {
            layers: vec![5, 3],
            code_activation: CodeActivation::Sigmoid,
            loss: ReconLoss::CrossEntropy,
            sparse: 0.0,
            contractive: 0.0,
            mask_rate: 0.0,
            noise_sigma: 0.0,
            epochs: 1,
            batch_size: 0,
            lr: 1e-3,
            seed: 0,
        };
        let cases = [
            DenseAeConfig { sparse: 0.3, ..base.clone() },
            DenseAeConfig { loss: ReconLoss::SquaredError, code_activation: CodeActivation::Relu, sparse: 0.2, ..base.clone() },
            DenseAeConfig { layers: vec![3], contractive: 0.5, ..base.clone() },
            DenseAeConfig { layers: vec![3], contractive: 0.5, code_activation: CodeActivation::Relu, loss: ReconLoss::SquaredError, ..base.clone() },
        ];
        for cfg in cases {
            let mut ae = DenseAutoencoder::<f64>::new(d, &cfg).unwrap();
            let mut rng = Rng::from_seed(5);
            for p in ae.params_mut() {
                p.value.iter_mut().for_each(|v| *v = 0.5 * rng.normal());
            }
            ae.zero_grad();
            ae.loss_and_backward(&input, &x, n);
            let grads: Vec<Vec<f64>> = ae.params().iter().map(|p| p.grad.clone()).collect();
            let values: Vec<Vec<f64>> = ae.params().iter().map(|p| p.value.clone()).collect();
            for (k, (v0, g)) in values.iter().zip(&grads).enumerate() {
                let objective = |v: &[f64]| {
                    let mut a = DenseAutoencoder::<f64>::new(d, &cfg).unwrap();
                    for (i, p) in a.params_mut().into_iter().enumerate() {
                        p.value = if i == k { v.to_vec() } else { values[i].clone() };
                    }
                    let l = a.loss_and_backward(&input, &x, n);
                    l.total() / n as f64
                };
                check_gradient(objective, v0, g, 1e-6, 1e-5, &format!("{:?} param {k}", (cfg.code_activation, cfg.loss, cfg.sparse, cfg.contractive)));
            }
        }
    }

    #[test]
    fn training_is_seeded_and_lowers_the_loss() {
        let (n, d) = (40, 16);
        let mut r = Rng::from_seed(2);
        let x: Vec<f32> = (0..n * d).map(|i| if (i / d) % 2 == 0 { (i % d) as f32 / d as f32 } else { r.uniform() as f32 }).collect();
        let cfg = DenseAeConfig { layers: vec![8, 4], epochs: 30, batch_size: 8, lr: 1e-2, mask_rate: 0.2, ..DenseAeConfig::variant("ae").unwrap() };
        let (mut a, ra) = train_dense_ae(&x, n, d, &cfg, &crate::progress::Silent).unwrap();
        let (mut b, rb) = train_dense_ae(&x, n, d, &cfg, &crate::progress::Silent).unwrap();
        assert!(ra.epoch_loss.last().unwrap() < &(0.9 * ra.epoch_loss[0]), "{:?}", ra.epoch_loss);
        assert_eq!(ra.epoch_loss, rb.epoch_loss);
        assert_eq!(a.encode(&x, n), b.encode(&x, n));
        let other = DenseAeConfig { seed: 1, ..cfg };
        assert_ne!(train_dense_ae(&x, n, d, &other, &crate::progress::Silent).unwrap().1.epoch_loss, ra.epoch_loss);
    }

    #[test]
    fn contractive_needs_one_layer_and_variants_are_named() {
        let c = DenseAeConfig { layers: vec![8, 4], contractive: 0.1, ..DenseAeConfig::variant("ae").unwrap() };
        assert!(c.check().is_err());
        for v in ["ae", "sparse-ae", "denoising-ae", "contractive-ae"] {
            DenseAeConfig::variant(v).unwrap().check().unwrap();
        }
        assert!(DenseAeConfig::variant("vae").is_err());
    }
}
