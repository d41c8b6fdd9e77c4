//! `Real`: the float types the layers run in. Training uses f32; the
//! finite-difference tests run the very same layer code in f64, so the
//! numerical gradient is computed in f64 as the tests promise.

use crate::linalg::gemm::{Trans, dgemm, sgemm};
use std::fmt::Debug;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub, SubAssign};

/// f32 or f64: what the layers and solvers are generic over.
pub trait Real:
    Copy
    + Send
    + Sync
    + 'static
    + PartialOrd
    + Debug
    + Default
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + Sum
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// From f64 (rounded for f32).
    fn from_f64(v: f64) -> Self;
    /// To f64 (exact).
    fn to_f64(self) -> f64;
    /// The square root.
    fn sqrt(self) -> Self;
    /// Neither NaN nor infinite.
    fn is_finite(self) -> bool;
    /// C ← alpha · op(A) · op(B) + beta · C through the crate's GEMM wrapper.
    #[allow(clippy::too_many_arguments)]
    fn gemm(m: usize, k: usize, n: usize, alpha: Self, a: &[Self], ta: Trans, b: &[Self], tb: Trans, beta: Self, c: &mut [Self]);
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn sqrt(self) -> Self {
        f32::sqrt(self)
    }
    fn is_finite(self) -> bool {
        f32::is_finite(self)
    }
    fn gemm(m: usize, k: usize, n: usize, alpha: Self, a: &[Self], ta: Trans, b: &[Self], tb: Trans, beta: Self, c: &mut [Self]) {
        sgemm(m, k, n, alpha, a, ta, b, tb, beta, c)
    }
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    fn from_f64(v: f64) -> Self {
        v
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    fn is_finite(self) -> bool {
        f64::is_finite(self)
    }
    fn gemm(m: usize, k: usize, n: usize, alpha: Self, a: &[Self], ta: Trans, b: &[Self], tb: Trans, beta: Self, c: &mut [Self]) {
        dgemm(m, k, n, alpha, a, ta, b, tb, beta, c)
    }
}
