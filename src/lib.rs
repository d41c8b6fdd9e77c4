//! udll — unsupervised deep local learning on the CPU.
//!
//! Convolutional autoencoders with hand-derived gradients, a prior affinity
//! graph (UDLL Eq. 17), self-expressive fine-tuning with a locality loss
//! (Eq. 18), EDSC post-processing and spectral clustering, with training that
//! is bit-reproducible from a seed whatever the thread count.
//!
//! Fit a set of images in memory, read the clusters, place new images, and
//! save the run directory the command line writes:
//!
//! ```
//! use udll::{Dataset, FitOptions, Fitted, Silent, fit, preset};
//!
//! // 40 images of 32 × 32 as an (n, height, width) array in [0, 1], 4 classes.
//! let images = ndarray::Array3::from_shape_fn((40, 32, 32), |(i, y, x)| ((x * (i / 10 + 1) + y) % 32) as f32 / 31.0);
//! let classes: Vec<i64> = (0..40).map(|i| i / 10).collect();
//! let ds = Dataset::from_array("stripes", images.view().into_dyn(), Some(&classes))?;
//! let mut params = preset("synthetic")?;
//! (params.pretrain.epochs, params.finetune.epochs) = (5, 5);
//! let fitted = fit(&ds, &params.check()?, &FitOptions::default(), &Silent)?; // writes nothing
//! println!("{:?} {:?}", fitted.labels(), fitted.scores());
//! let placed = fitted.assign(&ds, &Silent)?; // new images into the fitted clusters
//! # assert_eq!((fitted.labels().len(), placed.labels.len(), fitted.clusters()), (40, 40, 4));
//! let dir = std::env::temp_dir().join(format!("udll-doc-{}", std::process::id()));
//! fitted.save(&dir)?; // the run directory `udll run --out DIR` writes
//! assert_eq!(Fitted::load(&dir)?.labels(), fitted.labels());
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), udll::UdllError>(())
//! ```
//!
//! [`fit`] follows the same plan as `udll run` ([`Plan`]: dense, or landmark
//! mode when the dense state would not fit the memory budget, restarts,
//! [`Choice`]), so its labels are the command's for the same data, params
//! and seed. Underneath, a run is four stages, each a function returning a
//! value that can save itself ([`pretrain_stage`], [`prior_graph_stage`],
//! [`finetune_stage`], [`cluster_stage`]); [`run`] chains them and writes
//! every artefact to a [`Sink`] (a directory with a manifest, or memory).
//! Params start from a [`preset`], are overridden field by field and
//! checked once ([`UdllParams::check`]). Progress goes to an [`Observer`]
//! the caller passes ([`Silent`] for none); the library prints nothing.
//! Errors are one [`UdllError`], whose variants say what kind of thing went
//! wrong (a file, a shape, a setting, the memory budget, …).

#![warn(missing_docs)]

pub mod app;
pub mod data;
pub mod error;
pub mod eval;
pub mod features;
pub mod io;
pub mod memory;
pub mod metrics;
pub mod presets;
pub mod progress;

mod cluster;
mod graph;
mod linalg;
mod model;
mod nn;
mod report;
mod rng;

#[cfg(test)]
mod kernel_determinism;

/// The README's Rust example runs as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;

pub use app::fit::{Coefficients, FitOptions, Fitted, Placed, fit};
pub use app::landmarks::LandmarkChoice;
pub use app::pipeline::{
    Choice, Clustering, Codes, Finetuned, Latent, Pretrained, PriorGraphStage, RunOptions, RunOutput, RunSummary, StageTimes, Start, cluster_stage,
    finetune_stage, pretrain_stage, prior_graph_stage, run,
};
pub use app::plan::{Plan, run_planned};
pub use cluster::SelectBy;
pub use cluster::sparse::{
    EnscParams, OmpParams, SparseAffinity, SparseClustering, SparseCode, SparseConfig, SparseSolver, assign_sparse, cluster_sparse, sparse_memory,
    sparse_self_expression,
};
pub use cluster::{LabelAssign, PostConfig, cluster_coef};
pub use data::{Dataset, FolderOptions, LoadOptions, SyntheticSpec, generate, load_dataset};
pub use error::{Result, UdllError};
pub use graph::PriorGraph;
pub use io::Sink;
pub use io::checkpoint::Checkpoint;
pub use linalg::gemm::cpu_kernel_features;
pub use linalg::kernels;
pub use linalg::sparse::Csr;
pub use metrics::{Scores, scores};
pub use model::autoencoder::{AeArch, ConvAutoencoder};
pub use model::pretrain::{PretrainConfig, PretrainReport};
pub use model::reference::import_reference;
pub use model::self_expressive::CoefRegularizer;
pub use model::udll::finetune::{FinetuneReport, LossTerms};
pub use model::udll::{FinetuneConfig, Method, UdllParams, ValidUdllParams};
pub use presets::{PRESET_NAMES, preset, preset_clusters};
pub use progress::{Observer, Silent};

/// The kernels and building blocks, for this crate's benchmarks and tests
/// only: not a stable interface.
#[doc(hidden)]
pub mod internal {
    pub use crate::linalg::cholesky::{BLOCK as CHOLESKY_BLOCK, blocked_cholesky};
    pub use crate::linalg::eigen::{EigenOptions, Which, full_decomposition, symmetric_top_eigen};
    pub use crate::linalg::gemm::{dgemm_family, sgemm_family};
    pub use crate::linalg::{Trans, dgemm, sgemm};
    pub use crate::model::reconstruction_step::{Workspaces, reconstruction_step};
    pub use crate::model::self_expressive::SelfExpressive;
    pub use crate::nn::HasParams;
    pub use crate::nn::conv_lanes::to_lanes;
    pub use crate::rng::Rng;
}
