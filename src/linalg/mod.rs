//! Dense linear algebra: the GEMM wrapper, deterministic reductions, the
//! partial eigen solver used by post-processing and spectral clustering, and
//! the blocked Cholesky its shift-invert mode uses at large n.

pub mod cholesky;
pub mod eigen;
pub mod gemm;
pub mod real;
pub mod reduce;

pub use gemm::{Trans, dgemm, sgemm};
pub use real::Real;
