//! Dense linear algebra: the GEMM wrapper, deterministic reductions, the
//! eigen solvers of post-processing and spectral clustering (Lanczos, the
//! dense decomposition, and the shift-invert block iteration with the
//! blocked Cholesky and its many-vector solves).

pub mod cholesky;
pub mod eigen;
pub mod gemm;
pub mod real;
pub mod reduce;

pub use gemm::{Trans, dgemm, sgemm};
pub use real::Real;
