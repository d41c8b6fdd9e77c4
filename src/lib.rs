//! udll — unsupervised deep local learning on the CPU.
//!
//! Convolutional autoencoders with hand-derived gradients, a prior affinity
//! graph (UDLL Eq. 17), self-expressive fine-tuning with a locality loss
//! (Eq. 18), EDSC post-processing and spectral clustering, with training that
//! is bit-reproducible from a seed whatever the thread count.

pub mod audit;
pub mod cli_support;
pub mod cluster;
pub mod compare;
pub mod data;
pub mod error;
pub mod eval;
pub mod graph;
pub mod io;
pub mod linalg;
pub mod metrics;
pub mod model;
pub mod nn;
pub mod presets;
pub mod progress;
pub mod reproduce;
pub mod rng;

pub use error::{Result, UdllError};
