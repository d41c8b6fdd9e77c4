//! GEMM micro-kernels for CPUs with AVX-512 (`avx512f`): the `avx512`
//! kernel family of [`super::kernels`], run by the packed driver of
//! [`super::packed`] (which says why its bits are the portable family's).
//!
//! A tile is MR = 14 rows × 2 vectors of C in 28 registers (of the 32
//! AVX-512 has): per step two loads of B, MR broadcasts of A and 2·MR fused
//! multiply-adds. matrixmultiply's AVX-512 kernel (16 × 16, one vector
//! wide) spends one broadcast per multiply-add; this one spends about half
//! of one.

use super::packed::{Tile, tile_sums};
use std::arch::x86_64::*;

/// Rows of C per micro-tile.
pub const MR: usize = 14;
/// Vectors of C per micro-tile row.
pub const NV: usize = 2;

/// Whether this CPU can run the kernels of this module.
pub fn available() -> bool {
    std::is_x86_feature_detected!("avx512f")
}

/// The f32 tile (16 lanes a vector).
pub struct F32;
/// The f64 tile (8 lanes a vector).
pub struct F64;

macro_rules! avx512_tile {
    ($kind:ident, $t:ty, $lanes:expr, $mask:ty, $load:ident, $maskz_load:ident, $mask_store:ident, $set1:ident, $fmadd:ident, $mul:ident, $zero:ident) => {
        impl Tile<$t> for $kind {
            const MR: usize = MR;
            const NR: usize = NV * $lanes;

            unsafe fn tile(kc: usize, ap: *const $t, bp: *const $t, c: *mut $t, ldc: usize, rows: usize, cols: usize, alpha: $t, beta: $t) {
                // SAFETY: the caller has checked avx512f (Tile's contract).
                unsafe { $kind::run(kc, ap, bp, c, ldc, rows, cols, alpha, beta) }
            }
        }

        impl $kind {
            /// [`Tile::tile`], compiled for avx512f.
            #[target_feature(enable = "avx512f")]
            #[allow(clippy::too_many_arguments)]
            unsafe fn run(kc: usize, ap: *const $t, bp: *const $t, c: *mut $t, ldc: usize, rows: usize, cols: usize, alpha: $t, beta: $t) {
                /// The mask of the first `n` lanes (0 ≤ n ≤ lanes).
                fn lanes_mask(n: usize) -> $mask {
                    if n >= $lanes { <$mask>::MAX } else { ((1u32 << n) - 1) as $mask }
                }
                let acc = tile_sums!(kc, ap, bp, MR, NV, $lanes, $zero, $load, $set1, $fmadd);
                let valpha = $set1(alpha);
                let vbeta = $set1(beta);
                let masks: [$mask; NV] = std::array::from_fn(|v| lanes_mask(cols.saturating_sub(v * $lanes).min($lanes)));
                for (r, row) in acc.iter().enumerate().take(rows) {
                    for h in 0..NV {
                        if masks[h] == 0 {
                            continue;
                        }
                        // SAFETY: the masked lanes are columns < cols of row r < rows.
                        unsafe {
                            let p = c.add(r * ldc + h * $lanes);
                            let cv = if beta == 0.0 {
                                $zero()
                            } else if beta == 1.0 {
                                $maskz_load(masks[h], p)
                            } else {
                                $mul($maskz_load(masks[h], p), vbeta)
                            };
                            $mask_store(p, masks[h], $fmadd(valpha, row[h], cv));
                        }
                    }
                }
            }
        }
    };
}

avx512_tile!(
    F32,
    f32,
    16,
    u16,
    _mm512_loadu_ps,
    _mm512_maskz_loadu_ps,
    _mm512_mask_storeu_ps,
    _mm512_set1_ps,
    _mm512_fmadd_ps,
    _mm512_mul_ps,
    _mm512_setzero_ps
);
avx512_tile!(F64, f64, 8, u8, _mm512_loadu_pd, _mm512_maskz_loadu_pd, _mm512_mask_storeu_pd, _mm512_set1_pd, _mm512_fmadd_pd, _mm512_mul_pd, _mm512_setzero_pd);
