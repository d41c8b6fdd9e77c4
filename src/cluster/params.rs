//! The clustering's own parameters: the EDSC post-processing of a
//! coefficient matrix and how spectral clustering assigns labels.

use crate::error::{Result, UdllError};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
/// How spectral clustering turns the embedding into labels.
pub enum LabelAssign {
    /// Yu & Shi's discretisation (scikit-learn's `discretize`), seeded.
    Discretize,
    /// k-means++ with restarts on the row-normalised embedding.
    Kmeans,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
/// The EDSC post-processing of C before spectral clustering (DESIGN.md, `post_proC`).
pub struct PostConfig {
    /// ρ of thrC: keep per column the largest |c| until their sum first
    /// exceeds ρ · ‖column‖₁ (ρ ≥ 1 keeps everything).
    pub rho: f64,
    /// d: assumed subspace dimension; the SVD keeps r = d·K + 1 triplets.
    pub dim: usize,
    /// The power applied to the cosine affinity.
    pub power: f64,
    /// How spectral clustering turns the embedding into labels.
    pub assign: LabelAssign,
    /// Replace diag(C) by ones before the SVD (`C − diag(C) + I`; the
    /// reference code does this for COIL-20 only).
    #[serde(default)]
    pub add_identity: bool,
}

impl PostConfig {
    /// ρ > 0, d ≥ 1, power > 0.
    pub fn validate(&self) -> Result<()> {
        if !(self.rho > 0.0) || self.dim == 0 || !(self.power > 0.0) {
            return Err(UdllError::config(format!("post-processing needs ρ > 0, d ≥ 1, power > 0 (got {}, {}, {})", self.rho, self.dim, self.power)));
        }
        Ok(())
    }
}
