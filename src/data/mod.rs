//! Datasets: the type, the readers (MAT v5, NPY) and the built-in synthetic
//! generator.

pub mod dataset;
pub mod load;
pub mod mat;
pub mod npy;
pub mod synthetic;

pub use dataset::{Dataset, parse_image_size};
pub use load::{LoadOptions, load_dataset};
pub use synthetic::{SyntheticSpec, generate};
