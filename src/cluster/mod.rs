//! From coefficients to labels: EDSC post-processing, spectral clustering,
//! k-means.

pub mod assign;
pub mod edsc;
pub mod kmeans;
pub mod params;
pub mod postprocess;
pub mod select;
pub mod spectral;

pub use assign::assign_by_residual;
pub use edsc::ridge_self_expression;
pub use kmeans::kmeans;
pub use params::{LabelAssign, PostConfig};
pub use postprocess::{affinity_from_coef, threshold_columns};
pub use select::{PostCandidate, PostGrid, SelectBy, SelectionScore, agreement, auto_post, score_coef};
pub use spectral::spectral_clustering;

use crate::error::Result;

/// thrC → post_proC → spectral clustering of a coefficient matrix.
pub fn cluster_coef(coef: &[f32], n: usize, clusters: usize, post: &PostConfig, seed: u64) -> Result<Vec<usize>> {
    // The thresholded C is freed before the spectral step's own n² buffers.
    let (affinity, _) = {
        let thr = threshold_columns(coef, n, post.rho);
        affinity_from_coef(&thr, n, clusters, post.dim, post.power, post.add_identity, seed)?
    };
    spectral_clustering(&affinity, n, clusters, post.assign, seed)
}
