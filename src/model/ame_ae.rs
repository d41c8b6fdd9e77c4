//! AME-AE (Gao & Xiong): an autoencoder whose encoder E is shared with a
//! discriminator Dis = σ(C(E(·))) that tells an image from its
//! reconstruction. Objective (Eq. 4): min −λ_dis·L_dis + λ_rec·L_rec, with
//! L_dis = E[log Dis(x) + log(1 − Dis(x̂))] (Eq. 2) and the decoder trained
//! on the non-saturating form E[log Dis(x̂)] (Eq. 3). Two alternating steps
//! per mini-batch:
//!
//! - step A updates E and C: λ_rec·rec + λ_dis·[BCE(Dis(x), 1) + BCE(Dis(x̂), 0)]
//!   with x̂ = D(E(x)) held fixed (plus the sparse penalty for Sparse AME-AE);
//! - step B updates D: λ_rec·rec + λ_dis·BCE(Dis(D(E(x))), 1), the gradient
//!   flowing back through Dis into the reconstruction.
//!
//! Denoising AME-AE feeds the corrupted image to the reconstruction path
//! and the clean one to the discriminator. Reconstruction is the dense
//! autoencoder's (the paper: MSE, i.e. `squared-error`). Adam with β₁ = ½,
//! as the paper. All terms are batch means.

use crate::error::{Result, UdllError};
use crate::linalg::Real;
use crate::model::dense_ae::{DenseAeConfig, DenseAutoencoder, ReconLoss, gather_rows};
use crate::model::regularizers::corrupt;
use crate::model::regularizers::sparse_l1;
use crate::nn::activation::Sigmoid;
use crate::nn::loss::bce_with_logits;
use crate::nn::{Adam, HasParams, Mlp};
use crate::progress::{Observer, Progress};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AmeAeConfig {
    pub ae: DenseAeConfig,
    /// Hidden widths of the classifier C (code → … → 1 logit).
    pub classifier_hidden: Vec<usize>,
    pub lambda_rec: f64,
    pub lambda_dis: f64,
}

impl AmeAeConfig {
    /// ame-ae, sparse-ame-ae, denoising-ame-ae; None for other names.
    pub fn variant(name: &str) -> Option<Result<Self>> {
        let base = match name {
            "ame-ae" => "ae",
            "sparse-ame-ae" => "sparse-ae",
            "denoising-ame-ae" => "denoising-ae",
            _ => return None,
        };
        Some(DenseAeConfig::variant(base).map(|mut ae| {
            ae.loss = ReconLoss::SquaredError;
            AmeAeConfig { ae, classifier_hidden: vec![64], lambda_rec: 1.0, lambda_dis: 0.1 }
        }))
    }
}

fn scale<T: Real>(v: &mut [T], by: f64) {
    let f = T::from_f64(by);
    v.iter_mut().for_each(|x| *x *= f);
}

/// Step A's objective (batch mean) and its gradients in E and C (D's are
/// left untouched). `rec_input` is x or its corruption; `xhat` is D(E(x))
/// from before the step, held fixed. Returns (rec, dis, sparse) sums.
pub fn step_a<T: Real>(ae: &mut DenseAutoencoder<T>, clf: &mut Mlp<T>, rec_input: &[T], x: &[T], xhat: &[T], n: usize, cfg: &AmeAeConfig) -> (f64, f64, f64) {
    let c = ae.code_dim();
    // One encoder pass over [rec_input; x; x̂].
    let all: Vec<T> = [rec_input, x, xhat].concat();
    let h = ae.encode(&all, 3 * n);
    let mut dh = vec![T::ZERO; 3 * n * c];
    // Reconstruction path (its decoder gradients are discarded by the caller).
    let logits_x = ae.decode_logits(&h[..n * c], n);
    let (rec, mut g) = ae.cfg.loss.of_logits(&logits_x, x);
    scale(&mut g, cfg.lambda_rec / n as f64);
    dh[..n * c].copy_from_slice(&ae.backward_decoder(g));
    let mut sparse = 0.0;
    if ae.cfg.sparse > 0.0 {
        let (p, gs) = sparse_l1(&h[..n * c], ae.cfg.sparse);
        sparse = p;
        dh[..n * c].iter_mut().zip(gs).for_each(|(a, b)| *a += b * T::from_f64(1.0 / n as f64));
    }
    // Discrimination: x → 1, x̂ → 0.
    let logits = clf.forward(&h[n * c..], 2 * n);
    let labels: Vec<T> = (0..2 * n).map(|i| if i < n { T::ONE } else { T::ZERO }).collect();
    let (dis, mut gl) = bce_with_logits(&logits, &labels);
    scale(&mut gl, cfg.lambda_dis / n as f64);
    let dhd = clf.backward(&gl);
    dh[n * c..].iter_mut().zip(dhd).for_each(|(a, b)| *a += b);
    ae.backward_encoder(&dh, false);
    (rec, dis, sparse)
}

/// Step B's objective (batch mean) and its gradients in D. C's gradient is
/// also complete; E's covers only the discriminator's pass, since the
/// caller discards both. Returns (rec, adv) sums.
pub fn step_b<T: Real>(ae: &mut DenseAutoencoder<T>, clf: &mut Mlp<T>, rec_input: &[T], x: &[T], n: usize, cfg: &AmeAeConfig) -> (f64, f64) {
    let h = ae.encode(rec_input, n);
    let logits_x = ae.decode_logits(&h, n);
    let (rec, mut g) = ae.cfg.loss.of_logits(&logits_x, x);
    let mut s = Sigmoid::new();
    let xhat = s.forward(&logits_x);
    scale(&mut g, cfg.lambda_rec / n as f64);
    // Non-saturating adversarial term: −log Dis(x̂).
    let h2 = ae.encode(&xhat, n);
    let l = clf.forward(&h2, n);
    let (adv, mut gl) = bce_with_logits(&l, &vec![T::ONE; n]);
    scale(&mut gl, cfg.lambda_dis / n as f64);
    let dh2 = clf.backward(&gl);
    let dxhat = ae.backward_encoder(&dh2, true).expect("dx requested");
    let dlog = s.backward(&dxhat);
    g.iter_mut().zip(dlog).for_each(|(a, b)| *a += b);
    ae.backward_decoder(g);
    (rec, adv)
}

pub struct AmeAe {
    pub ae: DenseAutoencoder<f32>,
    // Trained with the encoder and kept with it, though only the encoder
    // is used downstream (codes for clustering and retrieval).
    #[allow(dead_code)]
    pub classifier: Mlp<f32>,
}

#[derive(Clone, Debug, Serialize)]
pub struct AmeAeReport {
    /// Per-sample (reconstruction, discrimination, adversarial) per epoch.
    pub epochs: Vec<(f64, f64, f64)>,
    pub seconds: f64,
}

impl AmeAeReport {
    /// `losses.csv`: `epoch,reconstruction,discrimination,adversarial`.
    pub fn to_csv(&self) -> String {
        let mut csv = String::from("epoch,reconstruction,discrimination,adversarial\n");
        self.epochs.iter().enumerate().for_each(|(i, (x, y, z))| csv += &format!("{},{x:e},{y:e},{z:e}\n", i + 1));
        csv
    }
}

/// Train AME-AE on x (n × d pixels in [0, 1]); deterministic from the seed.
pub fn train_ame_ae(x: &[f32], n: usize, d: usize, cfg: &AmeAeConfig, observer: &dyn Observer) -> Result<(AmeAe, AmeAeReport)> {
    if x.len() != n * d || n == 0 {
        return Err(UdllError::shape(format!("ame-ae: {} values for {n} samples of {d}", x.len())));
    }
    for (name, v) in [("λ_rec", cfg.lambda_rec), ("λ_dis", cfg.lambda_dis)] {
        if !(v >= 0.0 && v.is_finite()) {
            return Err(UdllError::config(format!("{name} must be ≥ 0, got {v}")));
        }
    }
    let a = &cfg.ae;
    let mut ae = DenseAutoencoder::<f32>::new(d, a)?;
    ae.init_glorot(a.seed);
    let mut widths = vec![ae.code_dim()];
    widths.extend_from_slice(&cfg.classifier_hidden);
    widths.push(1);
    let mut clf = Mlp::<f32>::new("classifier", &widths);
    clf.init_glorot(&mut Rng::stream(a.seed, "ame-classifier-init"));
    let (mut adam_ec, mut adam_d) = (Adam::new(a.lr), Adam::new(a.lr));
    adam_ec.beta1 = 0.5;
    adam_d.beta1 = 0.5;
    let batch = if a.batch_size == 0 { n } else { a.batch_size.min(n) };
    let mut shuffle = Rng::stream(a.seed, "shuffle");
    let mut noise = Rng::stream(a.seed, "corruption");
    let denoising = a.mask_rate > 0.0 || a.noise_sigma > 0.0;
    let mut order: Vec<usize> = (0..n).collect();
    let progress = Progress::new("ame-ae", a.epochs, observer);
    let mut epochs = Vec::new();
    for epoch in 1..=a.epochs {
        shuffle.shuffle(&mut order);
        let (mut rec, mut dis, mut adv) = (0.0, 0.0, 0.0);
        for chunk in order.chunks(batch) {
            let m = chunk.len();
            let xb = gather_rows(x, chunk, d);
            let input = if denoising { corrupt(&xb, a.mask_rate, a.noise_sigma, &mut noise) } else { xb.clone() };
            // x̂ before the step, held fixed in step A.
            let h = ae.encode(&input, m);
            let xhat: Vec<f32> = ae.decode_logits(&h, m).iter().map(|&l| crate::nn::activation::sigmoid(l as f64) as f32).collect();
            ae.zero_grad();
            clf.zero_grad();
            let (r, ds, sp) = step_a(&mut ae, &mut clf, &input, &xb, &xhat, m, cfg);
            let mut ec = ae.encoder_params_mut();
            ec.extend(clf.params_mut());
            adam_ec.update(&mut ec);
            ae.zero_grad();
            clf.zero_grad();
            let (_, av) = step_b(&mut ae, &mut clf, &input, &xb, m, cfg);
            adam_d.update(&mut ae.decoder_params_mut());
            if !(r + ds + sp + av).is_finite() {
                return Err(UdllError::Numeric(format!("ame-ae: the loss is not finite at epoch {epoch}; lower the learning rate")));
            }
            rec += r;
            dis += ds;
            adv += av;
        }
        let per = |v: f64| v / n as f64;
        epochs.push((per(rec), per(dis), per(adv)));
        progress.update(epoch, &format!("rec {:.4} dis {:.4} adv {:.4} per sample", per(rec), per(dis), per(adv)));
    }
    Ok((AmeAe { ae, classifier: clf }, AmeAeReport { epochs, seconds: progress.seconds() }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::regularizers::CodeActivation;
    use crate::nn::gradcheck::check_gradient;

    fn setup(sparse: f64) -> (AmeAeConfig, Vec<Vec<f64>>, usize) {
        let ae = DenseAeConfig {
            layers: vec![4, 3],
            code_activation: CodeActivation::Sigmoid,
            loss: ReconLoss::SquaredError,
            sparse,
            contractive: 0.0,
            mask_rate: 0.0,
            noise_sigma: 0.0,
            epochs: 1,
            batch_size: 0,
            lr: 1e-3,
            seed: 0,
        };
        let cfg = AmeAeConfig { ae, classifier_hidden: vec![3], lambda_rec: 0.8, lambda_dis: 0.6 };
        let d = 5;
        let (mut a, mut c) = build(&cfg, d, None);
        let mut rng = Rng::from_seed(4);
        let mut ps = a.params_mut();
        ps.extend(c.params_mut());
        let values = ps.iter().map(|p| (0..p.len()).map(|_| 0.6 * rng.normal()).collect()).collect();
        (cfg, values, d)
    }

    fn build(cfg: &AmeAeConfig, d: usize, values: Option<&[Vec<f64>]>) -> (DenseAutoencoder<f64>, Mlp<f64>) {
        let mut a = DenseAutoencoder::<f64>::new(d, &cfg.ae).unwrap();
        let mut c = Mlp::<f64>::new("c", &[3, 3, 1]);
        if let Some(v) = values {
            let mut ps = a.params_mut();
            ps.extend(c.params_mut());
            for (p, val) in ps.into_iter().zip(v) {
                p.value = val.clone();
            }
        }
        (a, c)
    }

    /// Both steps' objectives against finite differences: step A in every
    /// parameter (it updates E and C; D's gradient is complete but unused),
    /// step B in D (what it updates) and C.
    #[test]
    fn step_gradients_match_finite_differences() {
        for sparse in [0.0, 0.2] {
            let (cfg, values, d) = setup(sparse);
            let n = 3;
            let mut r = Rng::from_seed(9);
            let x: Vec<f64> = (0..n * d).map(|_| r.uniform()).collect();
            let noisy: Vec<f64> = x.iter().map(|v| v + 0.1 * r.normal()).collect();
            let xhat: Vec<f64> = (0..n * d).map(|_| r.uniform()).collect();
            type Step<'a> = Box<dyn Fn(&mut DenseAutoencoder<f64>, &mut Mlp<f64>) -> f64 + 'a>;
            let steps: Vec<(&str, Step)> = vec![
                (
                    "A",
                    Box::new(|a, c| {
                        let (r, ds, sp) = step_a(a, c, &noisy, &x, &xhat, n, &cfg);
                        (cfg.lambda_rec * r + cfg.lambda_dis * ds + sp) / n as f64
                    }),
                ),
                (
                    "B",
                    Box::new(|a, c| {
                        let (r, av) = step_b(a, c, &noisy, &x, n, &cfg);
                        (cfg.lambda_rec * r + cfg.lambda_dis * av) / n as f64
                    }),
                ),
            ];
            for (name, f) in &steps {
                let run = |vals: &[Vec<f64>]| {
                    let (mut a, mut c) = build(&cfg, d, Some(vals));
                    let v = f(&mut a, &mut c);
                    let mut ps = a.params_mut();
                    ps.extend(c.params_mut());
                    (v, ps.iter().map(|p| p.grad.clone()).collect::<Vec<_>>())
                };
                let (_, grads) = run(&values);
                for k in 0..values.len() {
                    // Parameters: E = 0..4, D = 4..8, C = 8..12. Step B's E
                    // gradient is partial by design (discarded).
                    if *name == "B" && k < 4 {
                        continue;
                    }
                    let obj = |v: &[f64]| {
                        let mut vals = values.clone();
                        vals[k] = v.to_vec();
                        run(&vals).0
                    };
                    check_gradient(obj, &values[k], &grads[k], 1e-6, 1e-5, &format!("step {name} param {k} (sparse {sparse})"));
                }
            }
        }
    }

    #[test]
    fn training_is_seeded() {
        let (n, d) = (24, 10);
        let x: Vec<f32> = (0..n * d).map(|i| ((i / d) % 3) as f32 / 3.0 + 0.1 * ((i * 31 % 7) as f32 / 7.0)).collect();
        let mut cfg = AmeAeConfig::variant("denoising-ame-ae").unwrap().unwrap();
        cfg.ae.layers = vec![6, 3];
        cfg.ae.epochs = 4;
        cfg.ae.batch_size = 8;
        let (mut a, ra) = train_ame_ae(&x, n, d, &cfg, &crate::progress::Silent).unwrap();
        let (mut b, rb) = train_ame_ae(&x, n, d, &cfg, &crate::progress::Silent).unwrap();
        assert_eq!(ra.epochs, rb.epochs);
        assert_eq!(a.ae.encode(&x, n), b.ae.encode(&x, n));
        assert!(AmeAeConfig::variant("ae").is_none());
    }
}
