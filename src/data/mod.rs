//! Datasets: the type, the readers (MAT v5, NPY, image folders) and the
//! built-in synthetic generator.

pub mod dataset;
pub mod folder;
pub mod load;
pub mod mat;
pub mod npy;
pub mod stream;
pub mod synthetic;

pub use dataset::{Dataset, parse_image_size};
pub use folder::{FolderOptions, load_folder};
pub use load::{LoadOptions, load_dataset};
pub use stream::ImageSource;
pub use synthetic::{SyntheticSpec, generate};
