//! Dense linear algebra: the GEMM wrapper, deterministic reductions and the
//! partial eigen solver used by post-processing and spectral clustering.

pub mod eigen;
pub mod gemm;
pub mod real;
pub mod reduce;

pub use gemm::{Trans, dgemm, sgemm};
pub use real::Real;
