//! From coefficients to labels: EDSC post-processing, spectral clustering,
//! k-means.

pub mod edsc;
pub mod kmeans;
pub mod postprocess;
pub mod spectral;

pub use edsc::ridge_self_expression;
pub use kmeans::kmeans;
pub use postprocess::{affinity_from_coef, threshold_columns};
pub use spectral::spectral_clustering;
