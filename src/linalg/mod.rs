//! Dense linear algebra: the GEMM wrapper and its kernel families
//! (matrixmultiply's portable ones, the crate's AVX-512 and AVX2 ones on
//! one packed driver), deterministic reductions, the
//! eigen solvers of post-processing and spectral clustering (Lanczos, the
//! dense decomposition, and the shift-invert block iteration with the
//! blocked Cholesky and its many-vector solves).

#[cfg(target_arch = "x86_64")]
pub mod avx2;
#[cfg(target_arch = "x86_64")]
pub mod avx512;
pub mod cholesky;
pub mod eigen;
pub mod gemm;
pub mod kernels;
#[cfg(target_arch = "x86_64")]
pub mod packed;
pub mod real;
pub mod reduce;
pub mod simd;
pub mod sparse;

pub use gemm::{Trans, dgemm, sgemm};
pub use real::Real;
