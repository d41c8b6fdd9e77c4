//! The clustering's own parameters: the EDSC post-processing of a
//! coefficient matrix and how spectral clustering assigns labels.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LabelAssign {
    /// Yu & Shi's discretisation (scikit-learn's `discretize`), seeded.
    Discretize,
    /// k-means++ with restarts on the row-normalised embedding.
    Kmeans,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PostConfig {
    /// ρ of thrC: keep per column the largest |c| until their sum first
    /// exceeds ρ · ‖column‖₁ (ρ ≥ 1 keeps everything).
    pub rho: f64,
    /// d: assumed subspace dimension; the SVD keeps r = d·K + 1 triplets.
    pub dim: usize,
    /// The power applied to the cosine affinity.
    pub power: f64,
    pub assign: LabelAssign,
    /// Replace diag(C) by ones before the SVD (`C − diag(C) + I`; the
    /// reference code does this for COIL-20 only).
    #[serde(default)]
    pub add_identity: bool,
}
