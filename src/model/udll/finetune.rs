//! Fine-tuning (UDLL Algorithm 1, step 3): encoder, self-expressive layer
//! and decoder trained together, full batch, with Adam, on
//!
//!   L = r‖X − g(C·Z)‖² + α‖Z − C·Z‖² + β‖C̃‖² + γ Σ_ij a_ij ‖z_i − z_j‖²,  Z = f(X)
//!
//! (see `params.rs` for the conventions; γ = 0 is DSC).
//!
//! Backward, with E = Z − C·Z and G = dL/dẐ from the decoder minus 2α·E:
//! dC = G·Zᵀ + 2β·C̃,  dZ = Cᵀ·G + 2α·E + 2γ Σ_j (a_ij + a_ji)(z_i − z_j).
//! The locality part walks the sparse graph: O(n·k·d).

use crate::error::{Result, UdllError};
use crate::graph::PriorGraph;
use crate::graph::prior_graph::Adjacency;
use crate::linalg::Real;
use crate::linalg::reduce::sum_zip_map;
use crate::model::autoencoder::ConvAutoencoder;
use crate::model::self_expressive::{CoefRegularizer, SelfExpressive};
use crate::nn::loss::squared_error;
use crate::nn::{Adam, HasParams, Param};
use crate::progress::{Observer, Progress};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Settings of the self-expressive fine-tuning (the loss of `params.rs`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FinetuneConfig {
    /// Full-batch Adam steps.
    pub epochs: usize,
    /// Learning rate of the coefficients C (and of the autoencoder unless
    /// `ae_lr` is set).
    pub lr: f64,
    /// Learning rate of the autoencoder's weights during fine-tuning, when it
    /// differs from `lr`. How far the encoder moves in the 68 COIL-20 epochs
    /// decides the clustering (benches/HISTORY.md, "The COIL-20 gap"). Not
    /// serialised when unset, so older manifests and hashes are unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ae_lr: Option<f64>,
    /// r: weight of ‖X − X̂‖².
    pub recon_weight: f64,
    /// α: weight of ‖Z − CZ‖².
    pub self_expr_weight: f64,
    /// β: weight of ‖C̃‖².
    pub coef_weight: f64,
    /// γ: weight of Σ a_ij ‖z_i − z_j‖² (0 = DSC).
    pub locality_weight: f64,
    /// Initial value of every entry of C.
    pub coef_init: f64,
    /// Which C the β term regularises (and the clustering reads).
    pub coef_reg: CoefRegularizer,
    /// Keep diag(C) = 0 throughout (no self-representation).
    pub zero_diag: bool,
}

impl FinetuneConfig {
    /// Weights ≥ 0, learning rates > 0, everything finite.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("recon weight", self.recon_weight),
            ("self-expression weight α", self.self_expr_weight),
            ("coefficient weight β", self.coef_weight),
            ("locality weight γ", self.locality_weight),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(UdllError::config(format!("{name} must be ≥ 0, got {v}")));
            }
        }
        for lr in std::iter::once(self.lr).chain(self.ae_lr) {
            if !(lr > 0.0 && lr.is_finite()) {
                return Err(UdllError::config(format!("fine-tune learning rate must be positive, got {lr}")));
            }
        }
        if !self.coef_init.is_finite() {
            return Err(UdllError::config("coefficient init must be finite"));
        }
        Ok(())
    }
}

/// The loss terms of one step, each already multiplied by its weight.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct LossTerms {
    /// r‖X − X̂‖².
    pub reconstruction: f64,
    /// α‖Z − CZ‖².
    pub self_expression: f64,
    /// β‖C̃‖².
    pub coef_norm: f64,
    /// γ Σ a_ij‖z_i − z_j‖².
    pub locality: f64,
}

impl LossTerms {
    /// The sum of the terms.
    pub fn total(&self) -> f64 {
        self.reconstruction + self.self_expression + self.coef_norm + self.locality
    }
}

/// Autoencoder + self-expressive layer: the network being fine-tuned.
pub struct UdllNet<T: Real> {
    pub ae: ConvAutoencoder<T>,
    pub se: SelfExpressive<T>,
}

impl<T: Real> UdllNet<T> {
    /// C as trained, n × n; the rest of the network is freed.
    pub fn into_coef(self) -> Vec<T> {
        self.se.coef.value
    }
}

impl<T: Real> HasParams<T> for UdllNet<T> {
    fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        let mut v = self.ae.params_mut();
        v.extend(self.se.params_mut());
        v
    }
    fn params(&self) -> Vec<&Param<T>> {
        let mut v = self.ae.params();
        v.extend(self.se.params());
        v
    }
}

/// γ Σ_(i,j) a_ij ‖z_i − z_j‖² and its gradient added into `dz`.
pub fn locality_loss<T: Real>(z: &[T], d: usize, graph: &PriorGraph, adjacency: &Adjacency, gamma: f64, dz: &mut [T]) -> f64 {
    if gamma == 0.0 {
        return 0.0;
    }
    let sq = |i: usize, j: usize| -> f64 {
        z[i * d..(i + 1) * d]
            .iter()
            .zip(&z[j * d..(j + 1) * d])
            .map(|(a, b)| {
                let t = a.to_f64() - b.to_f64();
                t * t
            })
            .sum()
    };
    let per_col: Vec<f64> = (0..graph.n).into_par_iter().map(|j| graph.column(j).map(|(i, a)| a * sq(i, j)).sum()).collect();
    let loss = gamma * per_col.iter().sum::<f64>();
    dz.par_chunks_mut(d).enumerate().for_each(|(i, gi)| {
        let zi = &z[i * d..(i + 1) * d];
        for &(j, s) in &adjacency[i] {
            let w = T::from_f64(2.0 * gamma * s);
            for ((g, a), b) in gi.iter_mut().zip(zi).zip(&z[j * d..(j + 1) * d]) {
                *g += w * (*a - *b);
            }
        }
    });
    loss
}

impl<T: Real> UdllNet<T> {
    /// Zero the gradients, run forward and backward on the whole batch x
    /// (n images), and return the loss terms. Gradients are left in the
    /// parameters for the optimiser (and for the finite-difference test).
    pub fn loss_and_backward(&mut self, x: &[T], n: usize, graph: Option<(&PriorGraph, &Adjacency)>, cfg: &FinetuneConfig) -> LossTerms {
        self.zero_grad();
        let d = self.ae.latent_dim();
        let z = self.ae.encode(x, n);
        let z_hat = self.se.forward(&z, d);
        let recon = self.ae.decode(&z_hat, n);
        let (reconstruction, d_recon) = squared_error(&recon, x, cfg.recon_weight);
        let mut g = self.ae.backward_decoder(&d_recon);
        // E = Z − Ẑ; α‖E‖² gives dẐ −= 2αE, dZ += 2αE.
        let alpha = cfg.self_expr_weight;
        let self_expression = alpha
            * sum_zip_map(&z, &z_hat, |a, b| {
                let t = a.to_f64() - b.to_f64();
                t * t
            });
        let two_alpha = T::from_f64(2.0 * alpha);
        g.par_iter_mut().zip(z.par_iter().zip(z_hat.par_iter())).for_each(|(gv, (&a, &b))| *gv -= two_alpha * (a - b));
        let mut dz = self.se.backward(&g);
        dz.par_iter_mut().zip(z.par_iter().zip(z_hat.par_iter())).for_each(|(gv, (&a, &b))| *gv += two_alpha * (a - b));
        let locality = match graph {
            Some((gr, adj)) => locality_loss(&z, d, gr, adj, cfg.locality_weight, &mut dz),
            None => 0.0,
        };
        let coef_norm = self.se.regularise(cfg.coef_weight, cfg.coef_reg);
        self.ae.backward_encoder(&dz, false);
        LossTerms { reconstruction, self_expression, coef_norm, locality }
    }
}

#[derive(Clone, Debug, Serialize)]
/// The fine-tuning log.
pub struct FinetuneReport {
    /// Loss terms at each epoch, before that epoch's update.
    pub epochs: Vec<LossTerms>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl FinetuneReport {
    /// `losses.csv`: each epoch's total and weighted terms.
    pub fn to_csv(&self) -> String {
        let mut s = String::from(
            "epoch,total,reconstruction,self_expression,coef_norm,locality
",
        );
        for (i, t) in self.epochs.iter().enumerate() {
            s += &format!(
                "{},{:e},{:e},{:e},{:e},{:e}
",
                i + 1,
                t.total(),
                t.reconstruction,
                t.self_expression,
                t.coef_norm,
                t.locality
            );
        }
        s
    }
}

/// The progress line of one epoch: each term as a multiple of its value at
/// the first epoch (raw values sit near 1e7–1e10 and say little), with the
/// total's raw value once. A term that was 0 at the start (γ = 0) shows
/// its raw value.
fn relative_terms(first: &LossTerms, now: &LossTerms) -> String {
    let times = |r: f64| if (1e-3..1e3).contains(&r) { format!("×{r:.3}") } else { format!("×{r:.2e}") };
    let rel = |a: f64, b: f64| if b > 0.0 { times(a / b) } else { format!("{a:.3e}") };
    format!(
        "loss {:.4e} ({} of epoch 1): recon {}, self-expr {}, coef {}, locality {}",
        now.total(),
        times(now.total() / first.total()),
        rel(now.reconstruction, first.reconstruction),
        rel(now.self_expression, first.self_expression),
        rel(now.coef_norm, first.coef_norm),
        rel(now.locality, first.locality)
    )
}

/// Fine-tune `ae` with a fresh self-expressive layer on x (n images at the
/// preset's input scale). Returns the trained layer and the per-epoch log.
pub fn finetune(
    ae: ConvAutoencoder<f32>,
    x: &[f32],
    n: usize,
    graph: Option<&PriorGraph>,
    cfg: &FinetuneConfig,
    observer: &dyn Observer,
) -> Result<(UdllNet<f32>, FinetuneReport)> {
    if x.len() != n * ae.arch.input_len() {
        return Err(UdllError::shape(format!("fine-tune: {} values for {n} images of {} pixels", x.len(), ae.arch.input_len())));
    }
    if let Some(g) = graph
        && g.n != n
    {
        return Err(UdllError::shape(format!("fine-tune: the prior graph has {} nodes, the dataset {n} images", g.n)));
    }
    if cfg.locality_weight > 0.0 && graph.is_none() {
        return Err(UdllError::config("fine-tune: γ > 0 needs a prior graph"));
    }
    let adjacency = graph.map(|g| g.symmetric_adjacency());
    let graph_ref = graph.zip(adjacency.as_deref());
    let mut net = UdllNet { ae, se: SelfExpressive::new(n, cfg.coef_init, cfg.zero_diag) };
    // One Adam per parameter group: Adam is elementwise, so with equal rates
    // this is the same update, bit for bit, as one optimiser over all.
    let mut adam_ae = Adam::new(cfg.ae_lr.unwrap_or(cfg.lr));
    let mut adam_coef = Adam::new(cfg.lr);
    let progress = Progress::new("finetune", cfg.epochs, observer);
    let mut epochs = Vec::with_capacity(cfg.epochs);
    for epoch in 1..=cfg.epochs {
        let t = net.loss_and_backward(x, n, graph_ref, cfg);
        if !t.total().is_finite() {
            return Err(UdllError::Numeric(format!("fine-tune: the loss became {} at epoch {epoch}; lower the learning rate or the weights", t.total())));
        }
        if let Some(first) = epochs.first().map(LossTerms::total)
            && crate::model::diverged(first, t.total())
        {
            return Err(UdllError::Numeric(format!(
                "fine-tune diverged: the loss rose from {first:.4e} at epoch 1 to {:.4e} at epoch {epoch}; lower the fine-tuning learning rate or the weights",
                t.total()
            )));
        }
        adam_ae.update(&mut net.ae.params_mut());
        adam_coef.update(&mut net.se.params_mut());
        net.se.enforce_diag();
        epochs.push(t);
        progress.update(epoch, &relative_terms(&epochs[0], &t));
    }
    net.ae.clear_cache();
    net.se.clear_cache();
    Ok((net, FinetuneReport { epochs, seconds: progress.seconds() }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::adaptive_neighbour_graph;
    use crate::model::autoencoder::AeArch;
    use crate::nn::gradcheck::{check_gradient, random_fill};
    use crate::rng::Rng;

    /// The whole fine-tuning loss, every parameter, against central
    /// differences in f64.
    #[test]
    fn whole_finetuning_loss_matches_finite_differences() {
        let arch = AeArch { height: 6, width: 5, channels_in: 1, channels: vec![2], kernels: vec![3], final_relu: true };
        let n = 6;
        let mut rng = Rng::stream(5, "ft-grad");
        for (reg, zero_diag) in [(CoefRegularizer::Plain, false), (CoefRegularizer::SymmetricNoDiag, true)] {
            let mut ae = ConvAutoencoder::<f64>::new(&arch).unwrap();
            for p in ae.params_mut() {
                random_fill(&mut p.value, &mut rng);
            }
            let mut x = vec![0.0; n * arch.input_len()];
            random_fill(&mut x, &mut rng);
            let z: Vec<f32> = ae.encode(&x, n).iter().map(|v| *v as f32).collect();
            let graph = adaptive_neighbour_graph(&z, n, ae.latent_dim(), 2).unwrap();
            let adj = graph.symmetric_adjacency();
            let cfg = FinetuneConfig {
                epochs: 1,
                lr: 1e-3,
                ae_lr: None,
                recon_weight: 0.5,
                self_expr_weight: 0.7,
                coef_weight: 0.3,
                locality_weight: 0.4,
                coef_init: 0.0,
                coef_reg: reg,
                zero_diag,
            };
            let mut net = UdllNet { ae, se: SelfExpressive::new(n, 0.0, zero_diag) };
            random_fill(&mut net.se.coef.value, &mut rng);
            net.se.enforce_diag();
            net.loss_and_backward(&x, n, Some((&graph, &adj)), &cfg);
            let grads: Vec<Vec<f64>> = net.params().iter().map(|p| p.grad.clone()).collect();
            for (pi, g) in grads.iter().enumerate() {
                let theta = net.params()[pi].value.clone();
                let name = net.params()[pi].name.clone();
                let mut f = |th: &[f64]| {
                    net.params_mut()[pi].value.copy_from_slice(th);
                    net.loss_and_backward(&x, n, Some((&graph, &adj)), &cfg).total()
                };
                let mut g = g.clone();
                if name == "coef" && zero_diag {
                    // The diagonal is held at zero: not a free parameter.
                    for i in 0..n {
                        g[i * n + i] = 0.0;
                    }
                    let mut th = theta.clone();
                    for i in 0..n {
                        th[i * n + i] = 0.0;
                    }
                    let mut f2 = |t: &[f64]| {
                        let mut t = t.to_vec();
                        for i in 0..n {
                            t[i * n + i] = 0.0;
                        }
                        f(&t)
                    };
                    check_gradient(&mut f2, &th, &g, 1e-6, 1e-5, &format!("finetune {reg:?}: d/d{name}"));
                } else {
                    check_gradient(&mut f, &theta, &g, 1e-6, 1e-5, &format!("finetune {reg:?}: d/d{name}"));
                }
                net.params_mut()[pi].value.copy_from_slice(&theta);
            }
        }
    }

    #[test]
    fn locality_term_matches_finite_differences() {
        let (n, d) = (9, 4);
        let mut rng = Rng::stream(1, "loc");
        let mut z = vec![0.0f64; n * d];
        random_fill(&mut z, &mut rng);
        let zf: Vec<f32> = z.iter().map(|v| *v as f32).collect();
        let g = adaptive_neighbour_graph(&zf, n, d, 3).unwrap();
        let adj = g.symmetric_adjacency();
        let mut dz = vec![0.0; n * d];
        locality_loss(&z, d, &g, &adj, 1.3, &mut dz);
        check_gradient(|zz| locality_loss(zz, d, &g, &adj, 1.3, &mut vec![0.0; n * d]), &z, &dz, 1e-6, 1e-7, "locality");
    }

    /// `ae_lr` equal to `lr` is the single-optimiser update bit for bit; a
    /// different `ae_lr` moves only the autoencoder differently.
    #[test]
    fn autoencoder_learning_rate_applies_to_the_autoencoder_only() {
        let arch = AeArch { height: 8, width: 8, channels_in: 1, channels: vec![3], kernels: vec![3], final_relu: true };
        let n = 10;
        let mut rng = Rng::stream(9, "ae-lr");
        let mut x = vec![0f32; n * arch.input_len()];
        for v in x.iter_mut() {
            *v = rng.uniform_range(0.0, 1.0) as f32;
        }
        let mut ae = ConvAutoencoder::<f32>::new(&arch).unwrap();
        ae.init_glorot(9);
        let run = |ae_lr: Option<f64>| {
            let cfg = FinetuneConfig {
                epochs: 3,
                lr: 1e-3,
                ae_lr,
                recon_weight: 1.0,
                self_expr_weight: 2.0,
                coef_weight: 0.5,
                locality_weight: 0.0,
                coef_init: 1e-4,
                coef_reg: CoefRegularizer::Plain,
                zero_diag: false,
            };
            let (net, _) = finetune(ae.clone(), &x, n, None, &cfg, &crate::progress::Silent).unwrap();
            let weights: Vec<Vec<f32>> = net.ae.params().iter().map(|p| p.value.clone()).collect();
            (weights, net.se.coef.value.clone())
        };
        let (w_default, c_default) = run(None);
        let (w_same, c_same) = run(Some(1e-3));
        assert_eq!((&w_default, &c_default), (&w_same, &c_same));
        let (w_slow, _) = run(Some(1e-9));
        let start: Vec<Vec<f32>> = ae.params().iter().map(|p| p.value.clone()).collect();
        let moved = |w: &[Vec<f32>]| w.iter().zip(&start).flat_map(|(a, b)| a.iter().zip(b)).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(moved(&w_slow) < 1e-7 && moved(&w_default) > 1e-4, "slow {} default {}", moved(&w_slow), moved(&w_default));
    }
}
