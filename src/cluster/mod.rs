//! From coefficients to labels: EDSC post-processing, spectral clustering,
//! k-means.

pub mod assign;
pub mod edsc;
pub mod kmeans;
pub mod params;
pub mod postprocess;
pub mod select;
pub mod sparse;
pub mod spectral;

pub use assign::{ResidualAssigner, assign_by_residual};
pub use edsc::ridge_self_expression;
pub use kmeans::kmeans;
pub use params::{LabelAssign, PostConfig};
pub use postprocess::{affinity_from_coef, threshold_columns};
pub use select::{PostCandidate, PostGrid, SelectBy, SelectionScore, agreement, auto_post, score_affinity};
pub use spectral::spectral_clustering;

use crate::error::Result;

/// thrC → post_proC: the affinity a coefficient matrix is clustered by.
pub fn post_affinity(coef: &[f32], n: usize, clusters: usize, post: &PostConfig, seed: u64) -> Result<Vec<f64>> {
    // The thresholded C is freed before the spectral step's own n² buffers.
    let thr = threshold_columns(coef, n, post.rho);
    Ok(affinity_from_coef(&thr, n, clusters, post.dim, post.power, post.add_identity, seed)?.0)
}

/// thrC → post_proC → spectral clustering of a coefficient matrix.
pub fn cluster_coef(coef: &[f32], n: usize, clusters: usize, post: &PostConfig, seed: u64) -> Result<Vec<usize>> {
    spectral_clustering(&post_affinity(coef, n, clusters, post, seed)?, n, clusters, post.assign, seed)
}

/// [`cluster_coef`], and the label-free scores of its labels on the same
/// affinity (formed once).
pub fn cluster_coef_scored(coef: &[f32], n: usize, clusters: usize, post: &PostConfig, seed: u64) -> Result<(Vec<usize>, SelectionScore)> {
    let affinity = post_affinity(coef, n, clusters, post, seed)?;
    let labels = spectral_clustering(&affinity, n, clusters, post.assign, seed)?;
    let score = score_affinity(&affinity, n, clusters, &labels, seed)?;
    Ok((labels, score))
}
