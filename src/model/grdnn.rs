//! GR-DNN (Yang et al.): a data encoder shared by a data decoder and a
//! graph decoder, trained on Cost = Δ(X, X̃) + γΦ + η·Δ(S, S̃) (Eq. 5), where
//! S̃ reconstructs each sample's row of a similarity graph (Gaussian kNN, or
//! the anchor graph for large n; `graph::similarity`).
//!
//! Training as the paper's three stages, on this engine: (1) the data
//! autoencoder (any regularised variant: the paper's GR-DNN(D-DAE) and
//! GR-DNN(C-DAE)), (2) path-wise: the graph decoder alone on the fixed
//! codes (the paper pretrains a whole graph-DAE and keeps its decoder; we
//! initialise that decoder directly on the codes it will see), (3) joint
//! fine-tuning of encoder and both decoders. Only the encoder is kept, so new
//! images are encoded without a graph. Δ(S, S̃) is binary cross-entropy of
//! the decoder's logits against S ∈ [0, 1].

use crate::error::{Result, UdllError};
use crate::graph::similarity::{anchor_similarity, knn_similarity};
use crate::linalg::Real;
use crate::model::dense_ae::{DenseAeConfig, DenseAutoencoder, gather_rows, train_dense_ae};
use crate::model::regularizers::corrupt;
use crate::nn::loss::bce_with_logits;
use crate::nn::{Adam, HasParams, Mlp};
use crate::progress::{Observer, Progress};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GraphKind {
    /// Symmetric Gaussian kNN graph, n × n.
    Knn { k: usize },
    /// Anchor graph, n × anchors, anchors from k-means.
    Anchor { anchors: usize, k: usize },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GrDnnConfig {
    pub ae: DenseAeConfig,
    pub graph: GraphKind,
    /// Hidden widths of the graph decoder (code → … → graph row).
    pub graph_hidden: Vec<usize>,
    /// η, the weight of the graph reconstruction.
    pub eta: f64,
    pub path_epochs: usize,
    pub joint_epochs: usize,
}

impl GrDnnConfig {
    /// The GR-DNN variants by name: gr-dnn (on the plain autoencoder),
    /// gr-dnn-dae (denoising), gr-dnn-cae (contractive); None for others.
    pub fn variant(name: &str, n: usize) -> Option<Result<Self>> {
        let base = match name {
            "gr-dnn" => "ae",
            "gr-dnn-dae" => "denoising-ae",
            "gr-dnn-cae" => "contractive-ae",
            _ => return None,
        };
        Some(Self::on(base, n))
    }

    /// GR-DNN on the autoencoder of `DenseAeConfig::variant(base)`.
    pub fn on(base: &str, n: usize) -> Result<Self> {
        // kNN graph for small n, anchors beyond (the paper: kNN on COIL-20
        // and YaleB, 1000–2000 anchors on MNIST).
        let graph = if n <= 5000 { GraphKind::Knn { k: 20 } } else { GraphKind::Anchor { anchors: 1000, k: 20 } };
        Ok(GrDnnConfig { ae: DenseAeConfig::variant(base)?, graph, graph_hidden: vec![256], eta: 1.0, path_epochs: 50, joint_epochs: 100 })
    }
}

/// The graph term for a batch: η·BCE(dec(h), s) summed, and the gradient of
/// its batch mean with respect to h (the decoder's own gradients are
/// accumulated, also of the batch mean).
pub fn graph_term<T: Real>(dec: &mut Mlp<T>, h: &[T], rows: &[T], n: usize, eta: f64) -> (f64, Vec<T>) {
    let logits = dec.forward(h, n);
    let (loss, mut g) = bce_with_logits(&logits, rows);
    let scale = T::from_f64(eta / n as f64);
    g.iter_mut().for_each(|v| *v *= scale);
    (eta * loss, dec.backward(&g))
}

pub struct GrDnn {
    pub ae: DenseAutoencoder<f32>,
    // Trained with the encoder and kept with it, though only the encoder
    // is used downstream (codes for clustering and retrieval).
    #[allow(dead_code)]
    pub graph_decoder: Mlp<f32>,
}

#[derive(Clone, Debug, Serialize)]
pub struct GrDnnReport {
    pub ae_loss: Vec<f64>,
    pub path_loss: Vec<f64>,
    /// Per-sample data and graph terms of each joint epoch.
    pub joint_loss: Vec<(f64, f64)>,
    pub seconds: f64,
}

impl GrDnnReport {
    /// `losses.csv`: one row per epoch of each of the three stages,
    /// `stage,epoch,data_per_sample,graph_per_sample`.
    pub fn to_csv(&self) -> String {
        let mut csv = String::from("stage,epoch,data_per_sample,graph_per_sample\n");
        self.ae_loss.iter().enumerate().for_each(|(i, l)| csv += &format!("autoencoder,{},{l:e},\n", i + 1));
        self.path_loss.iter().enumerate().for_each(|(i, l)| csv += &format!("graph-path,{},,{l:e}\n", i + 1));
        self.joint_loss.iter().enumerate().for_each(|(i, (x, s))| csv += &format!("joint,{},{x:e},{s:e}\n", i + 1));
        csv
    }
}

/// Train GR-DNN on x (n × d pixels in [0, 1]); deterministic from the seed.
pub fn train_grdnn(x: &[f32], n: usize, d: usize, cfg: &GrDnnConfig, observer: &dyn Observer) -> Result<(GrDnn, GrDnnReport)> {
    if !(cfg.eta >= 0.0 && cfg.eta.is_finite()) {
        return Err(UdllError::config(format!("η must be ≥ 0, got {}", cfg.eta)));
    }
    let start = std::time::Instant::now();
    let seed = cfg.ae.seed;
    let (s, width) = match cfg.graph {
        GraphKind::Knn { k } => (knn_similarity(x, n, d, k)?, n),
        GraphKind::Anchor { anchors, k } => (anchor_similarity(x, n, d, anchors, k, seed)?, anchors),
    };
    // (1) The data autoencoder.
    let (mut ae, ae_report) = train_dense_ae(x, n, d, &cfg.ae, observer)?;
    let code = ae.code_dim();
    let mut widths = vec![code];
    widths.extend_from_slice(&cfg.graph_hidden);
    widths.push(width);
    let mut dec = Mlp::<f32>::new("graph-dec", &widths);
    dec.init_glorot(&mut Rng::stream(seed, "graph-decoder-init"));
    let batch = if cfg.ae.batch_size == 0 { n } else { cfg.ae.batch_size.min(n) };
    let mut shuffle = Rng::stream(seed, "grdnn-shuffle");
    let mut order: Vec<usize> = (0..n).collect();

    // (2) Path-wise: the graph decoder on the fixed codes.
    let h_all = ae.encode(x, n);
    let mut adam = Adam::new(cfg.ae.lr);
    let progress = Progress::new("gr-dnn graph path", cfg.path_epochs, observer);
    let mut path_loss = Vec::new();
    for epoch in 1..=cfg.path_epochs {
        shuffle.shuffle(&mut order);
        let mut total = 0.0;
        for chunk in order.chunks(batch) {
            dec.zero_grad();
            let (l, _) = graph_term(&mut dec, &gather_rows(&h_all, chunk, code), &gather_rows(&s, chunk, width), chunk.len(), 1.0);
            total += l;
            adam.update(&mut dec.params_mut());
        }
        path_loss.push(total / n as f64);
        progress.update(epoch, &format!("graph loss {:.4} per sample", total / n as f64));
    }

    // (3) Joint fine-tuning (Eq. 5).
    let mut adam = Adam::new(cfg.ae.lr);
    let mut noise = Rng::stream(seed, "grdnn-corruption");
    let denoising = cfg.ae.mask_rate > 0.0 || cfg.ae.noise_sigma > 0.0;
    let progress = Progress::new("gr-dnn joint", cfg.joint_epochs, observer);
    let mut joint_loss = Vec::new();
    for epoch in 1..=cfg.joint_epochs {
        shuffle.shuffle(&mut order);
        let (mut data, mut graph) = (0.0, 0.0);
        for chunk in order.chunks(batch) {
            let m = chunk.len();
            let xb = gather_rows(x, chunk, d);
            let sb = gather_rows(&s, chunk, width);
            let input = if denoising { corrupt(&xb, cfg.ae.mask_rate, cfg.ae.noise_sigma, &mut noise) } else { xb.clone() };
            ae.zero_grad();
            dec.zero_grad();
            let l = ae.loss_and_backward_with(&input, &xb, m, |h| Some(graph_term(&mut dec, h, &sb, m, cfg.eta)));
            if !l.total().is_finite() {
                return Err(UdllError::Numeric(format!("gr-dnn: the loss became {} at joint epoch {epoch}", l.total())));
            }
            data += l.total() - l.extra;
            graph += l.extra;
            let mut params = ae.params_mut();
            params.extend(dec.params_mut());
            adam.update(&mut params);
        }
        joint_loss.push((data / n as f64, graph / n as f64));
        progress.update(epoch, &format!("data {:.4} + graph {:.4} per sample", data / n as f64, graph / n as f64));
    }
    Ok((GrDnn { ae, graph_decoder: dec }, GrDnnReport { ae_loss: ae_report.epoch_loss, path_loss, joint_loss, seconds: start.elapsed().as_secs_f64() }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::dense_ae::ReconLoss;
    use crate::model::regularizers::CodeActivation;
    use crate::nn::gradcheck::check_gradient;

    /// The joint objective's gradient with respect to every parameter of the
    /// encoder, both decoders, against finite differences.
    #[test]
    fn joint_objective_gradients_match_finite_differences() {
        let (n, d, width) = (4, 5, 6);
        let mut r = Rng::from_seed(8);
        let x: Vec<f64> = (0..n * d).map(|_| r.uniform()).collect();
        let s: Vec<f64> = (0..n * width).map(|_| r.uniform()).collect();
        let cfg = DenseAeConfig {
            layers: vec![3],
            code_activation: CodeActivation::Sigmoid,
            loss: ReconLoss::CrossEntropy,
            sparse: 0.1,
            contractive: 0.2,
            mask_rate: 0.0,
            noise_sigma: 0.0,
            epochs: 1,
            batch_size: 0,
            lr: 1e-3,
            seed: 0,
        };
        let eta = 0.7;
        let build = |values: &[Vec<f64>]| {
            let mut ae = DenseAutoencoder::<f64>::new(d, &cfg).unwrap();
            let mut dec = Mlp::<f64>::new("g", &[3, 4, width]);
            let mut ps = ae.params_mut();
            ps.extend(dec.params_mut());
            for (p, v) in ps.into_iter().zip(values) {
                p.value = v.clone();
            }
            (ae, dec)
        };
        let mut rng = Rng::from_seed(1);
        let shapes: Vec<usize> = {
            let (mut ae, mut dec) = (DenseAutoencoder::<f64>::new(d, &cfg).unwrap(), Mlp::<f64>::new("g", &[3, 4, width]));
            let mut ps = ae.params_mut();
            ps.extend(dec.params_mut());
            ps.iter().map(|p| p.len()).collect()
        };
        let values: Vec<Vec<f64>> = shapes.iter().map(|&l| (0..l).map(|_| 0.5 * rng.normal()).collect()).collect();
        let objective = |values: &[Vec<f64>]| {
            let (mut ae, mut dec) = build(values);
            let l = ae.loss_and_backward_with(&x, &x, n, |h| Some(graph_term(&mut dec, h, &s, n, eta)));
            let mut ps = ae.params_mut();
            ps.extend(dec.params_mut());
            (l.total() / n as f64, ps.iter().map(|p| p.grad.clone()).collect::<Vec<_>>())
        };
        let (_, grads) = objective(&values);
        for k in 0..values.len() {
            let f = |v: &[f64]| {
                let mut vals = values.clone();
                vals[k] = v.to_vec();
                objective(&vals).0
            };
            check_gradient(f, &values[k], &grads[k], 1e-6, 1e-5, &format!("gr-dnn param {k}"));
        }
    }

    #[test]
    fn training_is_seeded_and_the_graph_loss_falls() {
        let (n, d) = (30, 12);
        let x: Vec<f32> = (0..n * d).map(|i| ((i / d) % 3) as f32 / 3.0 + 0.05 * ((i * 7919 % 13) as f32 / 13.0)).collect();
        let mut cfg = GrDnnConfig::on("ae", n).unwrap();
        cfg.ae.layers = vec![8, 3];
        cfg.ae.epochs = 5;
        cfg.ae.batch_size = 10;
        cfg.ae.lr = 1e-2;
        cfg.graph = GraphKind::Knn { k: 4 };
        cfg.graph_hidden = vec![8];
        cfg.path_epochs = 20;
        cfg.joint_epochs = 5;
        let (mut a, ra) = train_grdnn(&x, n, d, &cfg, &crate::progress::Silent).unwrap();
        let (mut b, _) = train_grdnn(&x, n, d, &cfg, &crate::progress::Silent).unwrap();
        assert_eq!(a.ae.encode(&x, n), b.ae.encode(&x, n));
        assert!(ra.path_loss.last().unwrap() < &ra.path_loss[0], "{:?}", ra.path_loss);
        let anchors = GrDnnConfig { graph: GraphKind::Anchor { anchors: 6, k: 2 }, ..cfg };
        train_grdnn(&x, n, d, &anchors, &crate::progress::Silent).unwrap();
    }
}
