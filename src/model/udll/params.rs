//! Hyper-parameters of UDLL (and DSC, its γ = 0 special case), as one value
//! built from a preset and overridden by flags ([`UdllParams`]), checked
//! once into a distinct type ([`ValidUdllParams`]) that the pipeline
//! requires, and serialised from that checked value into the run manifest.
//! Each component owns and checks its own part: the architecture and
//! pretraining (`model::pretrain`), fine-tuning (`finetune`), the
//! post-processing (`cluster::params`).
//!
//! One seed drives a run. Each consumer draws its own named stream from it
//! (`rng::Rng::stream(seed, "shuffle")`, "glorot", …), so the streams are
//! independent although the number is one.
//!
//! The fine-tuning loss, with Z the n × d latent matrix (one row per image)
//! and C the n × n self-expressive coefficients (ẑ_i = Σ_j c_ij z_j, i.e.
//! Ẑ = C·Z; the paper's W is Cᵀ since it keeps samples in columns):
//!
//! L = r·‖X − g(C·Z)‖² + α‖Z − C·Z‖² + β‖C̃‖² + γ Σ_ij a_ij ‖z_i − z_j‖²
//!
//! (UDLL Eq. 18 is r = ½.) C̃ = C, or ½(C + Cᵀ) with a zero diagonal (the
//! reference code for COIL-20 regularises and clusters that matrix).

use crate::cluster::PostConfig;
use crate::cluster::sparse::SparseConfig;
use crate::error::{Result, UdllError};
use crate::features::FrontEnd;
use crate::model::pretrain::PretrainConfig;
pub use crate::model::udll::finetune::FinetuneConfig;
use serde::{Deserialize, Serialize};

/// Which method a run performs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Self-expressive fine-tuning with the locality-preserving loss.
    Udll,
    /// Deep subspace clustering (Ji et al. 2017): UDLL with γ = 0.
    Dsc,
    /// No network: EDSC's ridge self-expression of the front end's
    /// features (λ = `edsc_lambda`), then the post-processing and spectral
    /// clustering.
    Edsc,
}

/// Every setting of a UDLL (or DSC) run, unchecked: a preset's values with
/// the user's overrides. [`UdllParams::check`] turns it into the
/// [`ValidUdllParams`] that the pipeline takes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UdllParams {
    /// The preset the values started from (recorded, not interpreted).
    pub preset: String,
    /// UDLL or DSC; DSC requires γ = 0 (see [`UdllParams::set_method`]).
    pub method: Method,
    /// Output channels of each encoder layer.
    pub channels: Vec<usize>,
    /// Square kernel size of each encoder layer.
    pub kernels: Vec<usize>,
    /// Multiply [0, 1] pixels by this before the network (255 for the
    /// references' raw ORL / Yale B).
    pub input_scale: f32,
    /// Pretraining of the autoencoder on reconstruction.
    pub pretrain: PretrainConfig,
    /// k of the prior graph (Eq. 17).
    pub graph_k: usize,
    /// Self-expressive fine-tuning (Eq. 18).
    pub finetune: FinetuneConfig,
    /// Post-processing of C and spectral clustering.
    pub post: PostConfig,
    /// λ of the EDSC ablations and baselines (PT+EDSC, EDSC on pixels),
    /// relative to the mean squared sample norm (`cluster::edsc`).
    #[serde(default = "default_edsc_lambda")]
    pub edsc_lambda: f64,
    /// The run's one seed.
    pub seed: u64,
    /// What the network (or EDSC) sees of each image: the pixels, or the
    /// scattering transform. Manifests leave it out for pixels, so runs
    /// recorded before it existed read back unchanged.
    #[serde(default, skip_serializing_if = "FrontEnd::is_pixels")]
    pub front: FrontEnd,
    /// A sparse self-expression (EnSC or SSC-OMP, `cluster::sparse`): with
    /// `--method edsc` it replaces the dense ridge on the features; with
    /// UDLL or DSC it clusters the fine-tuned codes instead of the learned
    /// C. None: the dense paths. Left out of manifests when None, as
    /// `front` is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sparse: Option<SparseConfig>,
}

fn default_edsc_lambda() -> f64 {
    30.0
}

impl UdllParams {
    /// Run `method`: DSC is UDLL without the locality term, so choosing it
    /// sets γ = 0 (a γ set afterwards is refused by [`Self::check`]).
    pub fn set_method(&mut self, method: Method) {
        self.method = method;
        if method == Method::Dsc {
            self.finetune.locality_weight = 0.0;
        }
    }

    /// Validate every part once; the work code never re-checks.
    pub fn check(self) -> Result<ValidUdllParams> {
        let bad = |m: String| Err(UdllError::config(m));
        if self.channels.is_empty() || self.channels.len() != self.kernels.len() {
            return bad(format!("{} channel counts for {} kernels", self.channels.len(), self.kernels.len()));
        }
        if self.channels.iter().chain(&self.kernels).any(|&v| v == 0) {
            return bad("every channel count and kernel size must be at least 1".into());
        }
        if !(self.input_scale > 0.0 && self.input_scale.is_finite()) {
            return bad(format!("input scale must be positive, got {}", self.input_scale));
        }
        self.pretrain.validate()?;
        self.finetune.validate()?;
        if self.method != Method::Edsc && self.finetune.epochs == 0 {
            return bad(format!("{:?} fine-tuning needs at least one epoch (EDSC is the method without one)", self.method));
        }
        if self.method == Method::Dsc && self.finetune.locality_weight != 0.0 {
            return bad(format!("DSC has no locality term: γ must be 0, got {}", self.finetune.locality_weight));
        }
        if self.graph_k == 0 {
            return bad("graph k must be at least 1".into());
        }
        self.post.validate()?;
        if !(self.edsc_lambda > 0.0 && self.edsc_lambda.is_finite()) {
            return bad(format!("EDSC λ must be positive, got {}", self.edsc_lambda));
        }
        if let Some(sparse) = &self.sparse {
            sparse.validate()?;
        }
        Ok(ValidUdllParams(self))
    }
}

/// [`UdllParams`] that passed [`UdllParams::check`]. Read through `Deref`;
/// to change a value, take the params back with [`Self::into_inner`] and
/// check them again.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidUdllParams(UdllParams);

impl ValidUdllParams {
    /// The unchecked params, to modify and check again.
    pub fn into_inner(self) -> UdllParams {
        self.0
    }

    /// The part the pretraining stage reads, as `udll pretrain` records it.
    pub fn pretrain_part(&self) -> serde_json::Value {
        serde_json::json!({
            "preset": self.preset, "channels": self.channels, "kernels": self.kernels,
            "input_scale": self.input_scale, "pretrain": self.pretrain.record(self.seed),
        })
    }

    /// The part the fine-tuning stage reads, as `udll finetune` records it.
    pub fn finetune_part(&self) -> serde_json::Value {
        serde_json::json!({"preset": self.preset, "method": self.method, "finetune": self.finetune})
    }

    /// The part the clustering stage reads, as `udll cluster` records it.
    pub fn cluster_part(&self, clusters: usize) -> serde_json::Value {
        serde_json::json!({"preset": self.preset, "clusters": clusters, "coef_reg": self.finetune.coef_reg, "post": self.post})
    }
}

impl std::ops::Deref for ValidUdllParams {
    type Target = UdllParams;
    fn deref(&self) -> &UdllParams {
        &self.0
    }
}

/// The checked params as manifests record them: every field, with the
/// pretraining settings in their recorded form ([`PretrainConfig::record`]).
impl Serialize for ValidUdllParams {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut v = serde_json::to_value(&self.0).map_err(serde::ser::Error::custom)?;
        v["pretrain"] = self.0.pretrain.record(self.0.seed);
        v.serialize(s)
    }
}
