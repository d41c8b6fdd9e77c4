//! GEMM micro-kernels for CPUs with AVX2 and FMA (x86-64-v3, most servers
//! in service): the `avx2` kernel family of [`super::kernels`], run by the
//! packed driver of [`super::packed`] (which says why its bits are the
//! portable family's).
//!
//! A tile is MR = 6 rows × 2 vectors of C in 12 of the 16 registers (the
//! other three hold the two B vectors and the broadcast of A): per step
//! two loads of B, 6 broadcasts and 12 fused multiply-adds, the shape of
//! BLIS's Haswell kernel. matrixmultiply's AVX2 kernel is 8 × 8, one
//! vector wide: one broadcast per multiply-add.

use super::packed::{Tile, tile_sums};
use std::arch::x86_64::*;

/// Rows of C per micro-tile.
pub const MR: usize = 6;
/// Vectors of C per micro-tile row.
pub const NV: usize = 2;

/// Whether this CPU can run the kernels of this module.
pub fn available() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}

/// The f32 tile (8 lanes a vector).
pub struct F32;
/// The f64 tile (4 lanes a vector).
pub struct F64;

macro_rules! avx2_tile {
    ($kind:ident, $t:ty, $lanes:expr, $load:ident, $store:ident, $set1:ident, $fmadd:ident, $mul:ident, $zero:ident) => {
        impl Tile<$t> for $kind {
            const MR: usize = MR;
            const NR: usize = NV * $lanes;

            unsafe fn tile(kc: usize, ap: *const $t, bp: *const $t, c: *mut $t, ldc: usize, rows: usize, cols: usize, alpha: $t, beta: $t) {
                // SAFETY: the caller has checked avx2 and fma (Tile's contract).
                unsafe { $kind::run(kc, ap, bp, c, ldc, rows, cols, alpha, beta) }
            }
        }

        impl $kind {
            /// [`Tile::tile`], compiled for avx2 and fma.
            #[target_feature(enable = "avx2,fma")]
            #[allow(clippy::too_many_arguments)]
            unsafe fn run(kc: usize, ap: *const $t, bp: *const $t, c: *mut $t, ldc: usize, rows: usize, cols: usize, alpha: $t, beta: $t) {
                let acc = tile_sums!(kc, ap, bp, MR, NV, $lanes, $zero, $load, $set1, $fmadd);
                let valpha = $set1(alpha);
                let vbeta = $set1(beta);
                for (r, row) in acc.iter().enumerate().take(rows) {
                    for h in 0..NV {
                        let here = cols.saturating_sub(h * $lanes).min($lanes);
                        // SAFETY (both branches): lanes < here are columns
                        // < cols of row r < rows.
                        if here == $lanes {
                            unsafe {
                                let p = c.add(r * ldc + h * $lanes);
                                let cv = if beta == 0.0 {
                                    $zero()
                                } else if beta == 1.0 {
                                    $load(p)
                                } else {
                                    $mul($load(p), vbeta)
                                };
                                $store(p, $fmadd(valpha, row[h], cv));
                            }
                        } else if here > 0 {
                            // An edge tile: AVX2's masked moves take a
                            // vector mask; the lanes go through the stack
                            // and the same fused multiply-add, one by one.
                            let mut lanes = [0.0 as $t; $lanes];
                            unsafe { $store(lanes.as_mut_ptr(), row[h]) };
                            for (l, &v) in lanes.iter().enumerate().take(here) {
                                unsafe {
                                    let p = c.add(r * ldc + h * $lanes + l);
                                    let cv = if beta == 0.0 {
                                        0.0
                                    } else if beta == 1.0 {
                                        *p
                                    } else {
                                        *p * beta
                                    };
                                    *p = alpha.mul_add(v, cv);
                                }
                            }
                        }
                    }
                }
            }
        }
    };
}

avx2_tile!(F32, f32, 8, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_mul_ps, _mm256_setzero_ps);
avx2_tile!(F64, f64, 4, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_set1_pd, _mm256_fmadd_pd, _mm256_mul_pd, _mm256_setzero_pd);
