//! Hyper-parameters of UDLL (and DSC, its γ = 0 special case), as one value
//! built from a preset, overridden by flags, checked once (`check`) and then
//! serialised verbatim into the run manifest.
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
use crate::error::{Result, UdllError};
use crate::model::pretrain::PretrainConfig;
use crate::model::self_expressive::CoefRegularizer;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Self-expressive fine-tuning with the locality-preserving loss.
    Udll,
    /// Deep subspace clustering (Ji et al. 2017): UDLL with γ = 0.
    Dsc,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FinetuneConfig {
    pub epochs: usize,
    /// Learning rate of the coefficients C (and of the autoencoder unless
    /// `ae_lr` is set).
    pub lr: f64,
    /// Learning rate of the autoencoder's weights during fine-tuning, when it
    /// differs from `lr`. How far the encoder moves in the 68 COIL-20 epochs
    /// decides the clustering (BENCHMARKS.md, "the COIL-20 gap"). Not
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
    pub coef_reg: CoefRegularizer,
    /// Keep diag(C) = 0 throughout (no self-representation).
    pub zero_diag: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UdllConfig {
    pub preset: String,
    pub method: Method,
    pub channels: Vec<usize>,
    pub kernels: Vec<usize>,
    /// Multiply [0, 1] pixels by this before the network (255 for the
    /// references' raw ORL / Yale B).
    pub input_scale: f32,
    pub pretrain: PretrainConfig,
    /// k of the prior graph (Eq. 17).
    pub graph_k: usize,
    pub finetune: FinetuneConfig,
    pub post: PostConfig,
    /// λ of the EDSC ablations and baselines (PT+EDSC, EDSC on pixels),
    /// relative to the mean squared sample norm (`cluster::edsc`).
    #[serde(default = "default_edsc_lambda")]
    pub edsc_lambda: f64,
    pub seed: u64,
}

fn default_edsc_lambda() -> f64 {
    30.0
}

impl UdllConfig {
    /// Validate once; afterwards the training code never re-checks.
    pub fn check(mut self) -> Result<Self> {
        let bad = |m: String| Err(UdllError::config(m));
        if self.channels.is_empty() || self.channels.len() != self.kernels.len() {
            return bad(format!("{} channel counts for {} kernels", self.channels.len(), self.kernels.len()));
        }
        if !(self.input_scale > 0.0 && self.input_scale.is_finite()) {
            return bad(format!("input scale must be positive, got {}", self.input_scale));
        }
        self.pretrain.validate()?;
        let f = &self.finetune;
        for (name, v) in [
            ("recon weight", f.recon_weight),
            ("self-expression weight α", f.self_expr_weight),
            ("coefficient weight β", f.coef_weight),
            ("locality weight γ", f.locality_weight),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return bad(format!("{name} must be ≥ 0, got {v}"));
            }
        }
        for lr in std::iter::once(f.lr).chain(f.ae_lr) {
            if !(lr > 0.0 && lr.is_finite()) {
                return bad(format!("fine-tune learning rate must be positive, got {lr}"));
            }
        }
        if !f.coef_init.is_finite() {
            return bad("coefficient init must be finite".into());
        }
        if self.graph_k == 0 {
            return bad("graph k must be at least 1".into());
        }
        let p = &self.post;
        if !(p.rho > 0.0) || p.dim == 0 || !(p.power > 0.0) {
            return bad(format!("post-processing needs ρ > 0, d ≥ 1, power > 0 (got {}, {}, {})", p.rho, p.dim, p.power));
        }
        if !(self.edsc_lambda > 0.0 && self.edsc_lambda.is_finite()) {
            return bad(format!("EDSC λ must be positive, got {}", self.edsc_lambda));
        }
        if self.method == Method::Dsc {
            self.finetune.locality_weight = 0.0;
        }
        Ok(self)
    }
}
