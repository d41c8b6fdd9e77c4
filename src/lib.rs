//! udll — unsupervised deep local learning on the CPU.
//!
//! Convolutional autoencoders with hand-derived gradients, a prior affinity
//! graph (UDLL Eq. 17), self-expressive fine-tuning with a locality loss
//! (Eq. 18), EDSC post-processing and spectral clustering, with training that
//! is bit-reproducible from a seed whatever the thread count.
//!
//! A run is four stages, each a function returning a value that can save
//! itself ([`pretrain_stage`], [`prior_graph_stage`], [`finetune_stage`],
//! [`cluster_stage`]); [`run`] chains them and writes every artefact and a
//! manifest into one directory. Params start from a [`preset`], are
//! overridden field by field and checked once ([`UdllParams::check`]).
//! Progress goes to an [`Observer`] the caller passes ([`Silent`] for none).
//!
//! ```
//! use udll::{RunOptions, Silent, Start, SyntheticSpec, generate, preset, run};
//!
//! // Four objects seen in ten poses each, 32 × 32.
//! let ds = generate(&SyntheticSpec { objects: 4, poses: 10, ..Default::default() })?;
//! let mut params = preset("synthetic")?;
//! params.pretrain.epochs = 5;
//! params.finetune.epochs = 5;
//! let params = params.check()?;
//! let out_dir = std::env::temp_dir().join(format!("udll-doc-{}", std::process::id()));
//! let opts = RunOptions { out_dir: out_dir.clone(), start: Start::Pretrain, clusters: None, threads: 1, inputs: vec![], command: vec![], keep_latents: false, choice: Default::default() };
//! let output = run(&ds, &params, &opts, &Silent)?;
//! assert_eq!(output.summary.labels.len(), 40);
//! assert!(output.summary.scores.is_some(), "the synthetic set has labels");
//! assert!(out_dir.join("coef.npy").exists() && out_dir.join("manifest.json").exists());
//! # std::fs::remove_dir_all(&out_dir).ok();
//! # Ok::<(), udll::UdllError>(())
//! ```

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

pub use app::pipeline::{
    Clustering, Finetuned, Latent, Pretrained, PriorGraphStage, RunOptions, RunOutput, RunSummary, StageTimes, Start, cluster_stage, finetune_stage,
    pretrain_stage, prior_graph_stage, run,
};
pub use cluster::sparse::{
    EnscParams, OmpParams, SparseAffinity, SparseClustering, SparseCode, SparseConfig, SparseSolver, assign_sparse, cluster_sparse, sparse_memory,
    sparse_self_expression,
};
pub use cluster::{LabelAssign, PostConfig, cluster_coef};
pub use data::{Dataset, LoadOptions, SyntheticSpec, generate, load_dataset};
pub use error::{Result, UdllError};
pub use graph::PriorGraph;
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
pub use presets::{PRESET_NAMES, preset};
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
