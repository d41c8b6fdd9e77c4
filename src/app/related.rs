//! The related representation learners (`udll ae`): resolve a variant's
//! settings with the user's overrides, train it, and return its codes and
//! loss log as a value that saves itself.

use crate::data::Dataset;
use crate::error::{Result, UdllError};
use crate::eval::kmeans_labels;
use crate::io::npy_out::write_npy_f32;
use crate::io::write_atomic;
use crate::metrics::{Scores, scores};
use crate::model::ame_ae::{AmeAeConfig, train_ame_ae};
use crate::model::dense_ae::{DenseAeConfig, ReconLoss, train_dense_ae};
use crate::model::grdnn::{GrDnnConfig, GraphKind, train_grdnn};
use crate::model::regularizers::CodeActivation;
use crate::progress::Observer;
use serde::Serialize;
use std::path::Path;

/// Settings that override a variant's defaults (None keeps the default).
#[derive(Clone, Debug, Default)]
pub struct RelatedOverrides {
    /// Encoder widths; the last is the code size.
    pub layers: Option<Vec<usize>>,
    /// The code layer's activation.
    pub code_activation: Option<CodeActivation>,
    /// The reconstruction loss.
    pub loss: Option<ReconLoss>,
    /// λ of the sparse penalty.
    pub sparse: Option<f64>,
    /// λ of the contractive penalty.
    pub contractive: Option<f64>,
    /// Denoising: the probability of zeroing an input.
    pub mask_rate: Option<f64>,
    /// Denoising: σ of additive Gaussian noise.
    pub noise_sigma: Option<f64>,
    /// Training epochs.
    pub epochs: Option<usize>,
    /// Samples per step.
    pub batch_size: Option<usize>,
    /// Adam's learning rate.
    pub lr: Option<f64>,
    /// AME-AE: weight of the reconstruction term.
    pub lambda_rec: Option<f64>,
    /// AME-AE: weight of the adversarial term.
    pub lambda_dis: Option<f64>,
    /// GR-DNN: weight of the graph term in the joint stage.
    pub eta: Option<f64>,
    /// GR-DNN: neighbours per sample of the graph.
    pub graph_k: Option<usize>,
    /// GR-DNN: use an anchor graph with this many anchors.
    pub anchors: Option<usize>,
    /// GR-DNN: epochs of the graph-path and joint stages.
    pub graph_epochs: Option<(usize, usize)>,
}

/// A variant's settings after the overrides, checked.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum RelatedParams {
    /// A dense autoencoder (`ae`, `sparse-ae`, `denoising-ae`, `contractive-ae`).
    Dense {
        /// The variant's name.
        variant: String,
        /// Its settings.
        autoencoder: DenseAeConfig,
    },
    /// GR-DNN and its denoising and contractive forms.
    GrDnn {
        /// The variant's name.
        variant: String,
        /// Its settings.
        gr_dnn: GrDnnConfig,
    },
    /// AME-AE and its sparse and denoising forms.
    AmeAe {
        /// The variant's name.
        variant: String,
        /// Its settings.
        ame_ae: AmeAeConfig,
    },
}

impl RelatedParams {
    /// The settings of `variant` for `n` samples with `o` applied and
    /// `seed` as the seed.
    pub fn resolve(variant: &str, n: usize, seed: u64, o: &RelatedOverrides) -> Result<Self> {
        let grdnn = GrDnnConfig::variant(variant, n).transpose()?;
        let ame = AmeAeConfig::variant(variant).transpose()?;
        let mut cfg = match (&grdnn, &ame) {
            (Some(g), _) => g.ae.clone(),
            (_, Some(m)) => m.ae.clone(),
            _ => DenseAeConfig::variant(variant)?,
        };
        cfg.seed = seed;
        if let Some(v) = &o.layers {
            cfg.layers = v.clone();
        }
        if let Some(v) = o.code_activation {
            cfg.code_activation = v;
        }
        if let Some(v) = o.loss {
            cfg.loss = v;
        }
        for (dst, v) in [
            (&mut cfg.sparse, o.sparse),
            (&mut cfg.contractive, o.contractive),
            (&mut cfg.mask_rate, o.mask_rate),
            (&mut cfg.noise_sigma, o.noise_sigma),
            (&mut cfg.lr, o.lr),
        ] {
            if let Some(v) = v {
                *dst = v;
            }
        }
        if let Some(v) = o.epochs {
            cfg.epochs = v;
        }
        if let Some(v) = o.batch_size {
            cfg.batch_size = v;
        }
        cfg.check()?;
        let variant = variant.to_string();
        Ok(match (grdnn, ame) {
            (_, Some(mut m)) => {
                m.ae = cfg;
                if let Some(v) = o.lambda_rec {
                    m.lambda_rec = v;
                }
                if let Some(v) = o.lambda_dis {
                    m.lambda_dis = v;
                }
                RelatedParams::AmeAe { variant, ame_ae: m }
            }
            (Some(mut g), None) => {
                g.ae = cfg;
                if let Some(e) = o.eta {
                    g.eta = e;
                }
                let k = o.graph_k.unwrap_or(match g.graph {
                    GraphKind::Knn { k } | GraphKind::Anchor { k, .. } => k,
                });
                g.graph = match (o.anchors, g.graph) {
                    (Some(anchors), _) => GraphKind::Anchor { anchors, k },
                    (None, GraphKind::Knn { .. }) => GraphKind::Knn { k },
                    (None, GraphKind::Anchor { anchors, .. }) => GraphKind::Anchor { anchors, k },
                };
                if let Some((p, j)) = o.graph_epochs {
                    (g.path_epochs, g.joint_epochs) = (p, j);
                }
                RelatedParams::GrDnn { variant, gr_dnn: g }
            }
            (None, None) => RelatedParams::Dense { variant, autoencoder: cfg },
        })
    }
}

/// A trained related learner's output.
pub struct RelatedRun {
    /// The codes, n × `dim`, row-major.
    pub latent: Vec<f32>,
    /// The code size.
    pub dim: usize,
    /// The number of samples.
    pub n: usize,
    /// The loss log as `losses.csv` text (its columns depend on the learner).
    pub losses_csv: String,
}

impl RelatedRun {
    /// The artefacts [`Self::save`] writes.
    pub const FILES: [&'static str; 2] = ["latent.npy", "losses.csv"];

    /// Save `latent.npy` and `losses.csv` under `dir`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        write_npy_f32(&dir.join("latent.npy"), &self.latent, self.n, self.dim)?;
        write_atomic(&dir.join("losses.csv"), self.losses_csv.as_bytes())
    }

    /// k-means on the codes, scored against the dataset's labels (None
    /// without labels).
    pub fn kmeans_scores(&self, ds: &Dataset, seed: u64) -> Result<Option<Scores>> {
        match (&ds.labels, ds.num_classes()) {
            (Some(l), Some(k)) => Ok(Some(scores(&kmeans_labels(&self.latent, self.n, self.dim, k, seed)?, l)?)),
            _ => Ok(None),
        }
    }
}

/// Train the learner `params` describes on `ds`'s pixels and encode them.
pub fn train_related(ds: &Dataset, params: &RelatedParams, observer: &dyn Observer) -> Result<RelatedRun> {
    let d = ds.image_len();
    if ds.n == 0 {
        return Err(UdllError::shape("the dataset is empty"));
    }
    let (mut net, losses_csv) = match params {
        RelatedParams::AmeAe { ame_ae, .. } => {
            let (net, r) = train_ame_ae(&ds.pixels, ds.n, d, ame_ae, observer)?;
            (net.ae, r.to_csv())
        }
        RelatedParams::GrDnn { gr_dnn, .. } => {
            let (net, r) = train_grdnn(&ds.pixels, ds.n, d, gr_dnn, observer)?;
            (net.ae, r.to_csv())
        }
        RelatedParams::Dense { autoencoder, .. } => {
            let (net, r) = train_dense_ae(&ds.pixels, ds.n, d, autoencoder, observer)?;
            (net, r.to_csv())
        }
    };
    let latent = net.encode(&ds.pixels, ds.n);
    Ok(RelatedRun { latent, dim: net.code_dim(), n: ds.n, losses_csv })
}
